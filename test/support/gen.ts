/**
 * A small seeded generator of inputs for contract tests: random valid values and the boundary
 * cases each schema must get right (ids at their maximum length and one past it, a leading or
 * trailing '-', '/' nesting, '.' and '..' segments, unicode, empty). Deterministic for a seed, so
 * a failure names the seed and the run that reproduce it. (fast-check is not a dependency.)
 */
export class Gen {
  private state: number;
  /** How often `mostly` answers a boundary case; a test may vary it per run (few or many at once). */
  boundaryRate = 0.35;

  constructor(readonly seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** mulberry32: small, fast, good enough to spread test inputs. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /** A string of `length` characters drawn from `alphabet`. */
  chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }

  /** Usually a value made by `valid`, sometimes one of the boundary cases. */
  mostly<T>(valid: () => T, boundary: () => T, weight = 1): T {
    return this.bool(this.boundaryRate * weight) ? boundary() : valid();
  }

  /** A string with characters from everywhere: ASCII, YAML specials, astral, a lone surrogate. */
  anyText(maxLength: number): string {
    const pieces = [
      'a',
      'Z',
      '0',
      ' ',
      '-',
      '.',
      '_',
      '/',
      ':',
      '#',
      '"',
      "'",
      '\\',
      '\n',
      '\t',
      '{',
      '}',
      '[',
      ']',
      '&',
      '*',
      '!',
      '|',
      '>',
      '%',
      '@',
      '`',
      'é',
      'ß',
      '中',
      '😀',
      '\u00a0',
      '\u2028',
      '\ufeff',
      'yes',
      'null',
      '~',
      '0x1F',
      '1e5',
      '<<',
    ];
    const length = this.int(0, maxLength);
    let out = '';
    while (out.length < length) out += this.pick(pieces);
    return out.slice(0, length);
  }
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = LOWER + DIGITS;

/** Shared boundary strings for names and ids. */
function nameBoundaries(g: Gen, inner: string, max: number): string {
  return g.pick([
    () => '',
    () => '-',
    () => `-${g.chars(ALNUM, g.int(1, 8))}`,
    () => `${g.chars(ALNUM, g.int(1, 8))}-`,
    () => g.chars(ALNUM, 1) + g.chars(inner, max - 2) + g.chars(ALNUM, 1),
    () => g.chars(ALNUM, 1) + g.chars(inner, max - 1) + g.chars(ALNUM, 1),
    () => g.chars(ALNUM, max + g.int(1, 200)),
    () => `${g.chars(ALNUM, 4)}/${g.chars(ALNUM, 4)}`,
    () => `${g.chars(ALNUM, 3)}.${g.chars(ALNUM, 3)}`,
    () => `${g.chars(ALNUM, 3)}_${g.chars(ALNUM, 3)}`,
    () => g.chars(ALNUM.toUpperCase(), g.int(1, 8)),
    () => `${g.chars(ALNUM, 3)}é`,
    () => `${g.chars(ALNUM, 3)}😀`,
    () => `${g.chars(ALNUM, 3)}\u0000`,
    () => `${g.chars(ALNUM, 3)} `,
    () => '..',
    () => g.anyText(40),
  ])();
}

export function deploymentIdCandidate(g: Gen): string {
  return g.mostly(
    () => g.chars(ALNUM, 1) + g.chars(`${ALNUM}-`, g.int(0, 61)) + (g.bool() ? g.chars(ALNUM, 1) : ''),
    () => nameBoundaries(g, `${ALNUM}-`, 63),
  );
}

export function appIdCandidate(g: Gen): string {
  return g.mostly(
    () => g.chars(ALNUM, 1) + g.chars(`${ALNUM}-`, g.int(0, 62)),
    () => nameBoundaries(g, `${ALNUM}-`, 63),
  );
}

export function vendorNameCandidate(g: Gen): string {
  return g.mostly(
    () => g.chars(ALNUM, 1) + g.chars(`${ALNUM}._-`, g.int(0, 62)),
    () => nameBoundaries(g, `${ALNUM}._-`, 63),
  );
}

const DEVICE_CHARS = `${ALNUM}ABCXYZ._~-`;
export function deviceIdCandidate(g: Gen): string {
  const segment = () => g.chars(DEVICE_CHARS, g.int(1, 20));
  return g.mostly(
    () => Array.from({ length: g.int(1, 4) }, segment).join('/'),
    () =>
      g.pick([
        () => g.chars(DEVICE_CHARS, 253),
        () => g.chars(DEVICE_CHARS, 254),
        () => `${segment()}/`,
        () => `/${segment()}`,
        () => `${segment()}//${segment()}`,
        () => `${segment()}/../${segment()}`,
        () => `${segment()}/.`,
        () => Array.from({ length: 40 }, () => g.chars(DEVICE_CHARS, 6)).join('/'),
        () => nameBoundaries(g, DEVICE_CHARS, 253),
      ])(),
  );
}

export function versionCandidate(g: Gen): string {
  const n = () => String(g.pick([0, 1, 2, 10, 99, 2026]));
  return g.mostly(
    () => `${n()}.${n()}.${n()}${g.bool(0.3) ? `-rc.${n()}` : ''}${g.bool(0.2) ? `_build.${g.chars(ALNUM, 4)}` : ''}`,
    () => g.pick(['', 'v1.0.0', '1.0', '1.0.0+b', '1.0.0_', '01.0.0', `1.0.0-${'a'.repeat(130)}`, '1.0.0 ', '1.0.0-é', `${n()}.${n()}.${n()}_a_b`]),
  );
}

const TOPIC = `${ALNUM}ABC._-`;
const origin = (g: Gen) =>
  g.mostly(
    () => g.pick(['https://a.example:443', 'http://127.0.0.1:*', 'https://*.example.org:8443', 'http://[::1]:80']),
    () => g.pick(['ftp://x:21', 'https://a.example', 'https://a.example:99999']),
    0.3,
  );

/** One grant's input: valid fields (some left to their default), sometimes a field out of bounds. */
function grantInput(g: Gen, name: string): unknown {
  const maybe = (field: string, value: () => unknown, o: Record<string, unknown>) => (g.bool(0.5) ? { ...o, [field]: value() } : o);
  const quota = () =>
    g.mostly(
      () => g.int(1, 2 ** 30),
      () => g.pick([0, -1, 2 ** 40, 2 ** 40 + 1, 1.5, Number.MAX_SAFE_INTEGER]),
      0.5,
    );
  switch (name) {
    case 'log':
      return maybe(
        'burst',
        () => g.int(1, 1_000_000),
        maybe(
          'linesPerSecond',
          () =>
            g.mostly(
              () => g.int(1, 100_000),
              () => g.pick([0, 100_001]),
              0.3,
            ),
          {},
        ),
      );
    case 'config': {
      const values = Object.fromEntries(
        Array.from({ length: g.int(0, 4) }, () => [
          g.mostly(
            () => g.chars(ALNUM, g.int(1, 12)),
            () => g.anyText(300),
            0.3,
          ),
          g.anyText(200),
        ]),
      );
      return maybe(
        'secrets',
        () => Object.keys(values).slice(0, 1),
        maybe('values', () => values, {}),
      );
    }
    case 'keyvalue':
      return maybe('quotaBytes', quota, {});
    case 'files':
      return maybe('readOnly', () => g.bool(), maybe('quotaBytes', quota, {}));
    case 'outbound-http':
      return maybe(
        'timeoutMs',
        () =>
          g.mostly(
            () => g.int(1, 25_000),
            () => g.int(25_001, 30_000),
            0.3,
          ),
        maybe('maxResponseBytes', () => g.int(0, 256 * 2 ** 20), {
          allow: Array.from(
            {
              length: g.mostly(
                () => g.int(1, 3),
                () => 0,
                0.3,
              ),
            },
            () => origin(g),
          ),
        }),
      );
    case 'inbound-http':
      return maybe('maxRequestBytes', () => g.int(0, 64 * 2 ** 20), {
        route: g.mostly(
          () => g.pick(['/', '/api', '/a/b~c']),
          () => g.pick(['relative', '/sp ace', '']),
        ),
      });
    case 'messaging':
      return maybe(
        'queueBytes',
        () =>
          g.mostly(
            () => g.int(1, 64 * 1024 * 1024),
            () => 64 * 1024 * 1024 + 1,
            0.3,
          ),
        maybe(
          'subscribe',
          () => [g.chars(TOPIC, g.int(1, 20))],
          maybe('publish', () => [`${g.chars(TOPIC, 5)}/${g.chars(TOPIC, 5)}`], {}),
        ),
      );
    case 'identity':
      return {
        audiences: Array.from(
          {
            length: g.mostly(
              () => g.int(1, 2),
              () => 0,
              0.3,
            ),
          },
          () => g.chars(ALNUM, g.int(1, 30)),
        ),
      };
    default:
      return g.mostly(
        () => ({}),
        () => ({ unexpected: 1 }),
        0.3,
      );
  }
}

export const GRANT_CANDIDATES = ['log', 'config', 'keyvalue', 'files', 'outbound-http', 'inbound-http', 'messaging', 'identity', 'clocks', 'random'];

export function grantsCandidate(g: Gen): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of GRANT_CANDIDATES) if (g.bool(0.4)) out[name] = grantInput(g, name);
  if (g.bool(g.boundaryRate * 0.1)) out.teleport = {};
  return out;
}

export function limitsCandidate(g: Gen): unknown {
  return g.mostly(
    () =>
      g.pick([undefined, {}, { memoryBytes: g.int(1, 2 ** 40) }, { cpuDeadlineMs: g.int(1, 3_600_000) }, { memoryBytes: 2 ** 40, cpuDeadlineMs: 3_600_000 }]),
    () => g.pick([{ memoryBytes: 2 ** 40 + 1 }, { memoryBytes: 0 }, { cpuDeadlineMs: 3_600_001 }, { jsHeapMb: 64 }, { memoryBytes: 1.5 }]),
  );
}

/** Margo parameters: mostly well formed, sometimes a bare object (what an operator might send). */
export function parametersCandidate(g: Gen): unknown {
  return g.mostly(
    () =>
      g.pick<unknown>([
        undefined,
        {
          [g.chars(LOWER, 5)]: {
            value: g.pick<unknown>([g.anyText(30), g.int(-5, 5), true, null, [1, 'a'], { nested: g.anyText(10) }]),
            targets: [{ pointer: '/config/x', components: [g.chars(LOWER, 4)] }],
          },
        },
        { [g.anyText(12)]: { value: g.anyText(60), targets: [] } },
      ]),
    () => g.pick<unknown>([{ greeting: 'hello' }, { p: { value: 1 } }, { p: { targets: 'x' } }]),
  );
}

export function selectorCandidate(g: Gen): unknown {
  const labelKey = () =>
    g.mostly(
      () => g.chars(LOWER, 6),
      () => g.anyText(20),
    );
  return g.pick([
    () => ({}),
    () => ({
      eligibilityRules: [
        {
          labelSelector: {
            matchExpressions: [
              {
                key: labelKey(),
                operator: g.mostly(
                  () => g.pick(['In', 'NotIn']),
                  () => g.pick(['Bogus', 'Gt']),
                ),
                values: [g.anyText(10)],
              },
            ],
          },
        },
      ],
    }),
    () => ({
      eligibilityRules: [
        {
          propertySelector: {
            matchExpressions: [
              {
                key: g.mostly(
                  () => g.pick(['/cpus/0/cores', '/memory']),
                  () => 'cpus',
                ),
                operator: g.pick(['Gt', 'Lt']),
                values: [g.int(0, 64)],
              },
            ],
          },
        },
      ],
    }),
    () => ({
      capacityRequirements: {
        memory: g.mostly(
          () => g.pick(['512Mi', '2Gi']),
          () => g.pick(['1G', '']),
        ),
        cpu: {
          cores: g.mostly(
            () => g.pick([1, 0.5, 4]),
            () => g.pick([0, 2000]),
          ),
          architectures: [
            g.mostly(
              () => g.pick(['amd64', 'arm64']),
              () => 'sparc',
            ),
          ],
        },
      },
    }),
  ])();
}
