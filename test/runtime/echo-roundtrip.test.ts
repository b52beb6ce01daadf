import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGrants } from '../../host-apis/grants.js';
import type { Engine } from '../../runtime/engine/engine.js';
import type { GuestComponent } from '../../runtime/engine/guest.js';
import { GuestLoader } from '../../runtime/engine/thread-loader.js';
import { Runtime } from '../../runtime/runtime.js';
import type { InvokeOutcome } from '../../runtime/sandbox/protocol.js';
import { AppInstance } from '../../runtime/sandbox/app-instance.js';
import { TEST_ENGINES, testEngine } from '../support/engines.js';
import { fixturePath } from '../fixtures/build.js';
import {
  echoCase,
  echoExport,
  ECHO_FUNCTIONS,
  roundTripCases,
  routeByInterface,
  SCALARS_INTERFACE,
  trapCase,
  VALUES_INTERFACE,
  type EchoInvoke,
} from '../support/echo-cases.js';
import { EchoToken, tokenHostImports } from '../support/echo-host.js';
import { show } from '../support/wit-compare.js';
import { suiteTempDir } from '../support/tmp.js';

/**
 * Issue #13 ("Process safety"): values of every WIT type round-trip through the `echo` and
 * `echo-scalars` fixtures on each engine. The cases and their comparison are engine-neutral
 * (support/echo-cases.ts); this file only says how an engine is called. BERTH_SEED reproduces a failure.
 */
const SEED = fromEnv('BERTH_SEED', 20261207, 0, 2 ** 32 - 1);
/** BERTH_ECHO_CASES runs more (a longer hunt); never fewer than issue #13 asks for. */
const CASES = fromEnv('BERTH_ECHO_CASES', 10_000, 10_000, 10_000_000);
const MiB = 2 ** 20;

function fromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * An instance made the way a sandbox thread makes one (the engine's artifact loaded by the
 * thread's loader, AppInstance over it), except that it also gets the test's own
 * `berth:fixtures/token`: Berth's import policy refuses an interface it does not offer, so the
 * token is added beside what the linker builds (the fixture imports nothing else).
 */
async function valuesInstance(engine: Engine, dir: string): Promise<EchoInvoke> {
  const compiled = await engine.compile(readFileSync(fixturePath('echo')), { memoryLimitBytes: 64 * MiB });
  const loaded = await new GuestLoader().load(compiled.artifact);
  const withToken: GuestComponent = { instantiate: (imports) => loaded.instantiate({ ...imports, ...tokenHostImports() }) };
  const context = { identity: { vendor: 'acme', app: 'echo', instance: 'echo-1' }, grants: parseGrants({}), dataDir: dir, logSink: () => {} };
  const instance = AppInstance.create(withToken, [], context);
  return (fn, args) => instance.invoke(fn, args, 30_000);
}

/** `echo-scalars` imports nothing: it runs as any app does, in a sandbox of the default tier. */
async function scalarsApp(runtime: Runtime): Promise<EchoInvoke> {
  const app = await runtime.startApp(readFileSync(fixturePath('echo-scalars')), { vendor: 'acme', app: 'echo-scalars', grants: {} });
  return (fn, args) => app.invoke(fn, args);
}

for (const kind of TEST_ENGINES)
  describe(`values of every WIT type round-trip through the echo component (${kind} engine)`, async () => {
    const dir = suiteTempDir(`echo-${kind}`);
    const engine = await testEngine(kind, `${dir}/cache`);
    const runtime = new Runtime({ dataDir: `${dir}/runtime`, engine });
    afterAll(() => runtime.close());
    const echo = () => valuesInstance(engine, dir);

    it(`${CASES} generated cases come back equal (seed ${SEED})`, async () => {
      const invoke = routeByInterface({ [SCALARS_INTERFACE]: await scalarsApp(runtime), [VALUES_INTERFACE]: await echo() });
      const summary = await roundTripCases(invoke, SEED, CASES);
      expect(summary.cases).toBe(CASES);
      expect(Object.keys(summary.byFunction).sort()).toEqual([...ECHO_FUNCTIONS].sort());
      expect(summary.appErrors).toBeGreaterThan(0);
    });

    it('a token passed in comes back as the host object itself; a borrowed one is read, not taken', async () => {
      const invoke = await echo();
      const token = new EchoToken('mine');
      expect(await invoke(echoExport('token-label'), [token])).toEqual({ ok: true, value: 'mine' });
      const back = await invoke(echoExport('echo-token'), [token]);
      expect(back.ok && back.value).toBe(token);
      expect(await invoke(echoExport('token-label'), [token])).toEqual({ ok: true, value: 'mine' });
    });

    it('the guest err is the payload of an app-error; a throw in the guest is a trap, and the instance stays trapped', async () => {
      const invoke = await echo();
      expect(await invoke(echoExport('maybe-fail'), [true, 'nope'])).toMatchObject({ ok: false, failure: { kind: 'app-error', payload: 'nope' } });
      expect(await invoke(echoExport('echo-result-empty'), [{ tag: 'err' }])).toMatchObject({ ok: false, failure: { kind: 'app-error', payload: undefined } });
      const after = await trapCase(invoke);
      expect(after).toMatchObject({ ok: false, failure: { kind: 'trap' } });
    });

    it('Berth itself refuses the echo app: no grant offers berth:fixtures/token (only this test links it)', async () => {
      const refused = runtime.startApp(readFileSync(fixturePath('echo')), { vendor: 'acme', app: 'echo', grants: {} });
      await expect(refused).rejects.toThrow(/acme\/echo refused: berth:fixtures\/token@0\.1\.0 is not offered by Berth to any app/);
    });

    it('a case reproduces from its seed and index alone', () => {
      const a = echoCase(SEED, 1234);
      const b = echoCase(SEED, 1234);
      expect(a.fn).toBe(b.fn);
      expect(show(a.args, Infinity)).toBe(show(b.args, Infinity));
      expect(show(echoCase(SEED + 1, 1234).args, Infinity)).not.toBe(show(a.args, Infinity));
    });
  });

/**
 * A model of the fixtures in plain JavaScript (what a faultless engine answers), and the same
 * model with one fault an FFI layer could have: the round trip must pass the first and name
 * the fault in each of the others.
 */
function modelEcho(fn: string, args: unknown[]): InvokeOutcome {
  const name = fn.slice(fn.indexOf('#') + 1);
  const [first, second] = args;
  const tagged = first as { tag: string; val?: unknown };
  switch (name) {
    case 'echo-many':
      return { ok: true, value: args };
    case 'token-label':
      return { ok: true, value: (first as EchoToken).label() };
    case 'token-labels':
      return { ok: true, value: (first as EchoToken[]).map((t) => t.label()) };
    case 'make-tokens':
      return { ok: true, value: (first as string[]).map((label) => new EchoToken(label)) };
    case 'maybe-fail':
      return first ? { ok: false, failure: { kind: 'app-error', payload: second, message: String(second) } } : { ok: true, value: second };
    case 'maybe-trap':
      return { ok: true, value: second };
    default:
      if (name.startsWith('echo-result') && name !== 'echo-results') {
        return tagged.tag === 'ok' ? { ok: true, value: tagged.val } : { ok: false, failure: { kind: 'app-error', payload: tagged.val, message: 'err' } };
      }
      return { ok: true, value: Array.isArray(first) && TYPED_LISTS[name] ? TYPED_LISTS[name].from(first as never) : first };
  }
}

/** A plain array passed for a list of numbers comes back typed, as from jco. */
const TYPED_LISTS: Record<string, { from(items: never): unknown }> = {
  'echo-bytes': Uint8Array,
  'echo-u32s': Uint32Array,
  'echo-s64s': BigInt64Array,
  'echo-f64s': Float64Array,
};

/** Every leaf (and container) of a value through `f`, bottom-up; tokens are leaves. */
function mapDeep(value: unknown, f: (x: unknown) => unknown): unknown {
  if (Array.isArray(value)) return f(value.map((x) => mapDeep(x, f)));
  if (ArrayBuffer.isView(value)) return f(value);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return f(Object.fromEntries(Object.entries(value).map(([k, x]) => [k, mapDeep(x, f)])));
  }
  return f(value);
}

function faulty(fault: (fn: string, value: unknown) => unknown): EchoInvoke {
  return (fn, args) => {
    const outcome = modelEcho(fn, args);
    return outcome.ok ? { ok: true, value: fault(fn, outcome.value) } : outcome;
  };
}

describe('the round trip names what an engine could get wrong', () => {
  const run = (invoke: EchoInvoke) => roundTripCases(invoke, SEED, 3_000);

  it('a faultless engine passes', async () => {
    expect((await run(modelEcho)).cases).toBe(3_000);
  });

  it.each<[string, (fn: string, value: unknown) => unknown, RegExp]>([
    ['-0 read as 0', (_fn, v) => mapDeep(v, (x) => (Object.is(x, -0) ? 0 : x)), /expected -0, got 0/],
    ['a u32 past 2^31 read as signed', (fn, v) => (fn.endsWith('#echo-u32') ? (v as number) | 0 : v), /echo-u32: \$: expected \d+, got -\d+/],
    ['a u64 read as a Number', (fn, v) => (fn.endsWith('#echo-u64') ? Number(v) : v), /echo-u64: \$: expected \d+n, got \d+$/m],
    [
      's64 in a list read as unsigned',
      (_fn, v) => mapDeep(v, (x) => (x instanceof BigInt64Array ? BigUint64Array.from(x, (n) => BigInt.asUintN(64, n)) : x)),
      /expected a BigInt64Array, got \{"BigUint64Array"/,
    ],
    [
      'a list of numbers given back as a plain array',
      (_fn, v) => mapDeep(v, (x) => (x instanceof Uint32Array ? Array.from(x) : x)),
      /expected a Uint32Array, got \[/,
    ],
    [
      'an astral character split into replacement characters',
      (_fn, v) => mapDeep(v, (x) => (typeof x === 'string' ? x.replace(/[\u{10000}-\u{10ffff}]/gu, '\ufffd\ufffd') : x)),
      /expected ".*", got ".*\ufffd/u,
    ],
    [
      'a token given back as another object with the same label',
      (_fn, v) => mapDeep(v, (x) => (x instanceof EchoToken ? new EchoToken(x.label()) : x)),
      /expected the token the host passed in/,
    ],
    ['a field added to a record', (fn, v) => (fn.endsWith('#echo-point') ? { ...(v as object), z: 0 } : v), /echo-point: \$\.z: not expected, got 0/],
    [
      'a field of a nested record lost',
      (_fn, v) =>
        mapDeep(v, (x) => (x && typeof x === 'object' && 'weight' in x && (x as { weight: unknown }).weight !== undefined ? { ...x, weight: undefined } : x)),
      /\.weight: expected .*, got <undefined>$/m,
    ],
  ])('%s', async (_name, fault, message) => {
    const error = await run(faulty(fault)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(`BERTH_SEED=${SEED}`);
  });

  it("the guest's err given back as a value, or as a trap, is named", async () => {
    const asValue: EchoInvoke = (fn, args) => {
      const outcome = modelEcho(fn, args);
      return outcome.ok || outcome.failure.kind !== 'app-error' ? outcome : { ok: true, value: outcome.failure.payload };
    };
    await expect(run(asValue)).rejects.toThrow(/expected the guest's err .*, got ok/);
    const asTrap: EchoInvoke = (fn, args) => {
      const outcome = modelEcho(fn, args);
      return outcome.ok ? outcome : { ok: false, failure: { kind: 'trap', message: 'unreachable' } };
    };
    await expect(run(asTrap)).rejects.toThrow(/expected the guest's err, got trap: unreachable/);
  });
});
