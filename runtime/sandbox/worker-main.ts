import { MessageChannel, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { errorCode, errorMessage } from '../../common/errors.js';
import type { AppLogRecord } from '../../host-apis/app-context.js';
import type { GuestComponent } from '../engine/guest.js';
import { GuestLoader } from '../engine/thread-loader.js';
import { InstanceMeter } from '../accounting/instance-meter.js';
import { AppInstance } from './app-instance.js';
import { exceedsBytes, MAX_RESULT_BYTES } from './result-size.js';
import { GATEWAY_EXPORT } from '../../host-apis/wasi/http-gateway-adapter.js';
import { BridgeClient, type BridgeChannel } from './bridge.js';
import { hasEntryPoint } from './entry-point.js';
import { warmUpHostApis } from './host-warm-up.js';
import { monotonicMs, type FromWorker, type InvokeOutcome, type LoadRequest, type PreloadRequest, type ToWorker } from './protocol.js';

/**
 * A sandbox thread: started empty (so a pool can keep some ready), it loads app instances into
 * slots — one for the worker tier, several for the instance tier — and answers invocations one
 * at a time, in the order they were sent. A trap leaves an instance unusable: it is dropped here
 * at once, and its controller decides what else to end.
 */
if (!parentPort) throw new Error('worker-main must run in a worker thread');
const port: MessagePort = parentPort;

interface Loaded {
  instance: AppInstance;
  meter: InstanceMeter;
  /** Each call's CPU deadline, for an engine that interrupts a guest itself. */
  deadlineMs: number;
  /** Set (nonzero) by the controller when it takes the slot off the thread. */
  unloaded: Int32Array;
}

const send = (message: FromWorker) => port.postMessage(message);
const slots = new Map<number, Loaded>();
/** Set by the controller to stop every guest of this thread that an engine can stop (sandbox-thread.ts retire). */
const halt = new Int32Array((workerData as { halt: SharedArrayBuffer }).halt);
/** Each artifact, loaded once per thread, whichever engine made it. */
const loader = new GuestLoader(halt);
let hostApisWarm = false;

/** Accounting (docs/accounting.md); the heap is the thread's, so it is one app's only when alone. */
function usageOf(loaded: Loaded) {
  return loaded.meter.report(loaded.instance.memoryPages(), slots.size === 1);
}

function openBridge(slot: number): BridgeChannel {
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  port.postMessage({ type: 'bridge', slot, channel: { signal, port: port2 } } satisfies FromWorker, [port2]);
  return { signal, port: port1 };
}

function load(request: LoadRequest, component: GuestComponent): void {
  const { slot } = request;
  let loaded: Loaded;
  try {
    const bridge = new BridgeClient(() => openBridge(slot), request.bridgeTimeoutMs);
    const meter = new InstanceMeter();
    const instance = meter.measure(() =>
      AppInstance.create(
        component,
        request.imports,
        {
          identity: request.identity,
          grants: request.grants,
          dataDir: request.dataDir,
          logSink: (record: AppLogRecord) => send({ type: 'log', slot, record }),
          hostCall: (method, args) => meter.blocked(() => bridge.call(method, args)),
          countHostCall: (iface) => meter.countCall(iface),
        },
        { stop: new Int32Array(request.unloaded), deadlineMs: request.instantiateDeadlineMs },
      ),
    );
    loaded = { instance, meter, deadlineMs: request.cpuDeadlineMs, unloaded: new Int32Array(request.unloaded) };
  } catch (err) {
    send({ type: 'load-failed', slot, code: errorCode(err, 'instantiation-failed'), message: errorMessage(err), at: monotonicMs() });
    return;
  }
  slots.set(slot, loaded);
  const exports = loaded.instance.exportNames();
  const entry = request.entryCall !== undefined && hasEntryPoint(exports) && Atomics.load(loaded.unloaded, 0) === 0;
  send({ type: 'ready', slot, exports, usage: usageOf(loaded), entryStarted: entry, at: monotonicMs() });
  if (entry) invoke(slot, request.entryCall!, 'run', []);
}

function invoke(slot: number, id: number, fn: string, args: unknown[]): void {
  const loaded = slots.get(slot);
  if (!loaded || Atomics.load(loaded.unloaded, 0) !== 0 || Atomics.load(halt, 0) !== 0) {
    const failure = { kind: 'sandbox-stopped', reason: 'stopped', message: 'the app is not loaded' } as const;
    send({ type: 'result', slot, id, ok: false, failure, endedAt: monotonicMs() });
    return;
  }
  const outcome: InvokeOutcome = bounded(
    fn,
    loaded.meter.measure(() => loaded.instance.invoke(fn, args, loaded.deadlineMs)),
  );
  const endedAt = monotonicMs();
  loaded.instance.services.logger.reportDropped();
  const usage = usageOf(loaded);
  // A trapped or interrupted instance is unusable; calls to it still queued here find it gone.
  if (!outcome.ok && (outcome.failure.kind === 'trap' || outcome.failure.kind === 'sandbox-stopped')) drop(slot);
  send({ type: 'result', slot, id, ...outcome, usage, endedAt });
}

/** A result too large to hand the host is treated as a trap: the instance is dropped (result-size.ts). */
function bounded(fn: string, outcome: InvokeOutcome): InvokeOutcome {
  if (fn === GATEWAY_EXPORT) return outcome;
  const value = outcome.ok ? outcome.value : outcome.failure.kind === 'app-error' ? outcome.failure.payload : undefined;
  if (!exceedsBytes(value)) return outcome;
  return {
    ok: false,
    failure: { kind: 'trap', message: `the result of ${fn} is larger than ${MAX_RESULT_BYTES / 2 ** 20} MiB, more than an app may hand the host` },
  };
}

function drop(slot: number): void {
  slots.get(slot)?.instance.close();
  slots.delete(slot);
}

function preload({ artifact }: PreloadRequest): void {
  loader.preload(artifact, () => {
    if (!hostApisWarm) warmUpHostApis();
    hostApisWarm = true;
  });
}

/**
 * Messages wait while a glue module is being imported (the only asynchronous step), so that
 * everything runs in the order it was sent: the controller's call deadlines rely on that.
 */
const backlog: ToWorker[] = [];
let importing = false;

function handle(message: ToWorker): void {
  switch (message.type) {
    case 'load': {
      let component: GuestComponent | Promise<GuestComponent>;
      try {
        component = loader.load(message.artifact);
      } catch (err) {
        send({ type: 'load-failed', slot: message.slot, code: errorCode(err, 'instantiation-failed'), message: errorMessage(err), at: monotonicMs() });
        return;
      }
      if (!(component instanceof Promise)) return load(message, component);
      importing = true;
      component
        .then(
          (loaded) => load(message, loaded),
          (err: unknown) =>
            send({ type: 'load-failed', slot: message.slot, code: errorCode(err, 'instantiation-failed'), message: errorMessage(err), at: monotonicMs() }),
        )
        .finally(() => {
          importing = false;
          while (!importing && backlog.length) handle(backlog.shift()!);
        });
      return;
    }
    case 'preload':
      preload(message);
      return;
    case 'unload':
      drop(message.slot);
      return;
    case 'invoke':
      invoke(message.slot, message.id, message.fn, message.args);
      return;
    case 'exit':
      process.exit(0);
  }
}

port.on('message', (message: ToWorker) => {
  if (importing) backlog.push(message);
  else handle(message);
});

send({ type: 'idle' });
