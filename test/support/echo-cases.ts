import type { InvokeOutcome } from '../../runtime/sandbox/protocol.js';
import { EchoToken } from './echo-host.js';
import { Gen } from './gen.js';
import { firstDifference, show, tokenLabelled } from './wit-compare.js';
import * as v from './wit-values.js';

/**
 * The round-trip property of issue #13 ("Process safety"), engine-neutral: generated values of
 * every WIT type go through the `echo` fixture (JavaScript: compound types, resources, errors)
 * and the `echo-scalars` fixture (WAT: flat scalars) and must come back equal. An engine
 * supplies only `invoke`, which calls one export of an instance of the right fixture (see
 * `routeByInterface`) and answers as Berth's sandboxes do: `{ ok: true, value }`, or
 * `{ ok: false, failure }` with the guest's own `err` as `kind: 'app-error'` (payload = the err
 * value) and a trap as `kind: 'trap'`. The `echo` instance's `berth:fixtures/token` import is
 * the test's own `EchoToken` (echo-host.ts). Values are in jco's convention (wit-values.ts).
 *
 *   const invoke = routeByInterface({ [SCALARS_INTERFACE]: callScalars, [VALUES_INTERFACE]: callEcho });
 *   await roundTripCases(invoke, seed, 10_000); // throws at the first difference, naming seed and case
 *   await trapCase(callEcho);                   // last: a trapped instance takes no more calls
 */
export type EchoInvoke = (fn: string, args: unknown[]) => InvokeOutcome | Promise<InvokeOutcome>;

/**
 * The two exported interfaces: flat scalars (fixture `echo-scalars`, WAT) and everything else
 * (fixture `echo`, JavaScript). A function is called as `<interface>#<name>`, e.g.
 * `berth:fixtures/echo-values@0.1.0#echo-outer`.
 */
export const SCALARS_INTERFACE = 'berth:fixtures/echo-scalars@0.1.0';
export const VALUES_INTERFACE = 'berth:fixtures/echo-values@0.1.0';
export const echoExport = (name: string, iface = VALUES_INTERFACE): string => `${iface}#${name}`;

/** One `invoke` over an instance of each fixture, chosen by the interface the export is in. */
export function routeByInterface(routes: Record<string, EchoInvoke>): EchoInvoke {
  return (fn, args) => {
    const iface = fn.slice(0, fn.indexOf('#'));
    const route = Object.hasOwn(routes, iface) ? routes[iface] : undefined;
    if (!route) throw new Error(`no instance given for ${iface} (called ${fn}); routes: ${Object.keys(routes).join(', ')}`);
    return route(fn, args);
  };
}

type Expected = { ok: true; value: unknown } | { ok: false; payload: unknown };

export interface EchoCase {
  /** The export, `<interface>#<function>`. */
  fn: string;
  args: unknown[];
  expect: Expected;
}

type CaseBody = Omit<EchoCase, 'fn'>;

const ok = (value: unknown): Expected => ({ ok: true, value });
const appError = (payload: unknown): Expected => ({ ok: false, payload });
/** The function's own result<T, E>: ok as the returned value, err as the guest's error. */
const asOwnResult = (r: v.Tagged): Expected => (r.tag === 'ok' ? ok(r.val) : appError(r.val));

/** A function that returns its single argument. */
const same =
  (gen: (g: Gen) => unknown) =>
  (g: Gen): CaseBody => {
    const value = gen(g);
    return { args: [value], expect: ok(value) };
  };

/** A list of numbers may be passed as a plain array; it comes back as the typed array. */
const typedList =
  (gen: (g: Gen) => ArrayLike<unknown>) =>
  (g: Gen): CaseBody => {
    const value = gen(g);
    return { args: [g.bool(0.25) ? Array.from(value) : value], expect: ok(value) };
  };

const label = (g: Gen): string => v.string(g, 10);

/** Positional arguments of `echo-many`, which has more than 16 flat parameters. */
const MANY = [
  v.u8,
  v.s8,
  v.u16,
  v.s16,
  v.u32,
  v.s32,
  v.u64,
  v.s64,
  v.f32,
  v.f64,
  v.char,
  v.string,
  v.bool,
  (g: Gen) => v.option(g, v.u8),
  v.color,
  v.bytes,
  v.point,
];

/** How each export's case is made: arguments and the outcome they must give. */
const SCALAR_CASES: Record<string, (g: Gen) => CaseBody> = {
  'echo-bool': same(v.bool),
  'echo-u8': same(v.u8),
  'echo-s8': same(v.s8),
  'echo-u16': same(v.u16),
  'echo-s16': same(v.s16),
  'echo-u32': same(v.u32),
  'echo-s32': same(v.s32),
  'echo-u64': same(v.u64),
  'echo-s64': same(v.s64),
  'echo-f32': same(v.f32),
  'echo-f64': same(v.f64),
  'echo-char': same(v.char),
};

const VALUE_CASES: Record<string, (g: Gen) => CaseBody> = {
  'echo-string': same((g) => v.string(g, 64)),
  'echo-bytes': typedList(v.bytes),
  'echo-strings': same(v.strings),
  'echo-u32s': typedList(v.u32s),
  'echo-s64s': typedList(v.s64s),
  'echo-f64s': typedList(v.f64s),
  'echo-tuple': same((g) => [v.u8(g), v.string(g), v.f64(g)]),
  'echo-nested-tuple': same((g) => [[v.s64(g), v.char(g)], v.bytes(g), [v.bool(g)]]),
  'echo-point': same(v.point),
  'echo-outer': same(v.outer),
  'echo-shape': same(v.shape),
  'echo-color': same(v.color),
  'echo-small': same(v.small),
  'echo-full': same(v.full),
  'echo-option': same((g) => v.option(g, v.u32)),
  'echo-option-string': same((g) => v.option(g, v.string)),
  'echo-option-option': same((g) => v.optionOption(g, v.u32)),
  'echo-mixed': same(v.mixed),
  'echo-mixeds': same((g) => v.list(g, v.mixed, 3)),
  'echo-many': (g) => {
    const args = MANY.map((gen) => gen(g));
    return { args, expect: ok(args) };
  },
  'echo-result': (g) => result(v.result(g, v.string, v.u32)),
  'echo-result-empty': (g) => result(v.bareResult(g)),
  'echo-result-ok-only': (g) => result(g.bool() ? { tag: 'ok', val: v.point(g) } : { tag: 'err' }),
  'echo-result-err-only': (g) => result(g.bool() ? { tag: 'ok' } : { tag: 'err', val: v.shape(g) }),
  'echo-results': same((g) => v.list(g, (g) => v.result(g, v.u8, v.string))),
  'echo-token': same((g) => new EchoToken(label(g))),
  'token-label': (g) => {
    const text = label(g);
    return { args: [new EchoToken(text)], expect: ok(text) };
  },
  'token-labels': (g) => {
    const tokens = v.list(g, (g) => new EchoToken(label(g)));
    const args = tokens.length > 1 && g.bool(0.3) ? [...tokens, tokens[0]!] : tokens;
    return { args: [args], expect: ok(args.map((t) => t.label())) };
  },
  'echo-tokens': same((g) => v.list(g, (g) => new EchoToken(label(g)))),
  'make-tokens': (g) => {
    const labels = v.list(g, label);
    return { args: [labels], expect: ok(labels.map(tokenLabelled)) };
  },
  'echo-token-pair': same((g) => [new EchoToken(label(g)), v.option(g, (g) => new EchoToken(label(g)))]),
  'maybe-fail': (g) => {
    const fail = g.bool();
    const message = v.string(g);
    return { args: [fail, message], expect: fail ? appError(message) : ok(message) };
  },
  'maybe-trap': (g) => {
    const message = v.string(g);
    return { args: [false, message], expect: ok(message) };
  },
};

function result(r: v.Tagged): CaseBody {
  return { args: [r], expect: asOwnResult(r) };
}

const CASES: ReadonlyMap<string, (g: Gen) => CaseBody> = new Map([
  ...Object.entries(SCALAR_CASES).map(([name, make]) => [echoExport(name, SCALARS_INTERFACE), make] as const),
  ...Object.entries(VALUE_CASES).map(([name, make]) => [echoExport(name, VALUES_INTERFACE), make] as const),
]);

/** Every export the cases call, in turn (all but a trapping `maybe-trap`, which `trapCase` covers). */
export const ECHO_FUNCTIONS: readonly string[] = [...CASES.keys()];

/** Case `index` of a run: its own generator, so one case reproduces without the ones before it. */
export function echoCase(seed: number, index: number): EchoCase {
  const fn = ECHO_FUNCTIONS[index % ECHO_FUNCTIONS.length]!;
  const g = new Gen(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ (index + 1));
  return { fn, ...CASES.get(fn)!(g) };
}

export interface RoundTripSummary {
  cases: number;
  /** Cases per export. */
  byFunction: Record<string, number>;
  /** Cases answered with the guest's own err, as expected. */
  appErrors: number;
}

/**
 * Runs `count` cases (every export in turn) and throws at the first whose outcome differs from
 * the one expected, naming the seed and the case so that `echoCase(seed, index)` reproduces it.
 * `invoke` must reach both fixtures (`routeByInterface`).
 */
export async function roundTripCases(invoke: EchoInvoke, seed: number, count: number): Promise<RoundTripSummary> {
  const summary: RoundTripSummary = { cases: 0, byFunction: {}, appErrors: 0 };
  for (let index = 0; index < count; index++) {
    const c = echoCase(seed, index);
    const expect = snapshot(c.expect);
    const outcome = await invoke(c.fn, c.args);
    const difference = outcomeDifference(expect, outcome);
    if (difference)
      throw new Error(
        `echo round trip failed (seed ${seed}: BERTH_SEED=${seed}; echoCase(${seed}, ${index})) at ${c.fn}: ${difference}\n  args: ${show(c.args, 2000)}`,
      );
    summary.cases++;
    summary.byFunction[c.fn] = (summary.byFunction[c.fn] ?? 0) + 1;
    if (!expect.ok) summary.appErrors++;
  }
  return summary;
}

export function outcomeDifference(expect: Expected, outcome: InvokeOutcome): string | undefined {
  if (expect.ok) return outcome.ok ? firstDifference(expect.value, outcome.value) : `expected ok, got ${outcome.failure.kind}: ${outcome.failure.message}`;
  if (outcome.ok) return `expected the guest's err ${show(expect.payload)}, got ok ${show(outcome.value)}`;
  if (outcome.failure.kind !== 'app-error') return `expected the guest's err, got ${outcome.failure.kind}: ${outcome.failure.message}`;
  const difference = firstDifference(expect.payload, outcome.failure.payload, '$err');
  return difference;
}

/**
 * A copy of what is expected, taken before the call, so that an engine that changed the
 * arguments it was given cannot make them equal to what it returned. Tokens stay the same
 * objects (their identity is what is compared).
 */
function snapshot<T>(value: T): T {
  if (Array.isArray(value)) return value.map(snapshot) as T;
  if (ArrayBuffer.isView(value)) return (value as unknown as { slice(): T }).slice();
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, snapshot(x)])) as T;
  }
  return value;
}

/**
 * The trap path, run last on an instance (a trapped instance refuses every later call, on
 * either engine): `maybe-trap(true, …)` throws in the guest and must come back as a trap, never
 * as the guest's err nor a value. Returns the outcome of one more call on the same instance.
 */
export async function trapCase(invoke: EchoInvoke): Promise<InvokeOutcome> {
  const trapped = await invoke(echoExport('maybe-trap'), [true, 'on purpose']);
  if (trapped.ok || trapped.failure.kind !== 'trap') throw new Error(`maybe-trap(true) should trap, got ${show(trapped)}`);
  return invoke(echoExport('echo-string'), ['after']);
}
