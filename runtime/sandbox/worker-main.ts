import { parentPort } from 'node:worker_threads';
import { errorCode, errorMessage } from '../../common/errors.js';
import type { AppLogRecord } from '../../host-apis/app-context.js';
import type { ComponentGlue } from '../engine/engine.js';
import { InstanceMeter } from '../accounting/instance-meter.js';
import { AppInstance } from './app-instance.js';
import { BridgeClient } from './bridge.js';
import type { FromWorker, LoadRequest, ToWorker } from './protocol.js';

/**
 * A sandbox thread: started empty (so a pool can keep some ready), it loads app instances into
 * slots — one for the worker tier, several for the instance tier — and answers invocations one
 * at a time. A trap leaves an instance unusable; its controller decides what to end.
 */
const port = parentPort;
if (!port) throw new Error('worker-main must run in a worker thread');

const send = (message: FromWorker) => port.postMessage(message);
const instances = new Map<number, AppInstance>();
const meters = new Map<number, InstanceMeter>();

/** Accounting (docs/accounting.md); the heap is the thread's, so it is one app's only when alone. */
function sendUsage(slot: number, instance: AppInstance): void {
  const report = meters.get(slot)!.report(instance.memoryPages(), instances.size === 1);
  send({ type: 'usage', slot, ...report });
}

async function load(request: LoadRequest): Promise<void> {
  const { slot } = request;
  try {
    const glue = (await import(request.glueUrl)) as ComponentGlue;
    const bridge = new BridgeClient(request.bridge, request.bridgeTimeoutMs);
    const meter = new InstanceMeter();
    const instance = meter.measure(() =>
      AppInstance.create(glue, request.modules, request.imports, {
        identity: request.identity,
        grants: request.grants,
        dataDir: request.dataDir,
        logSink: (record: AppLogRecord) => send({ type: 'log', slot, record }),
        hostCall: (method, args) => meter.blocked(() => bridge.call(method, args)),
        countHostCall: (iface) => meter.countCall(iface),
      }),
    );
    instances.set(slot, instance);
    meters.set(slot, meter);
    send({ type: 'ready', slot, exports: instance.exportNames() });
    sendUsage(slot, instance);
  } catch (err) {
    send({ type: 'load-failed', slot, code: errorCode(err, 'instantiation-failed'), message: errorMessage(err) });
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'load':
      void load(message);
      return;
    case 'preload':
      // The module cache keeps it; a failure here will show again, with its reason, at load.
      import(message.glueUrl).catch(() => {});
      return;
    case 'unload':
      instances.delete(message.slot);
      meters.delete(message.slot);
      return;
    case 'invoke': {
      const instance = instances.get(message.slot);
      if (!instance) {
        send({ type: 'result', slot: message.slot, id: message.id, ok: false, failure: { kind: 'trap', message: 'the app is not loaded' } });
        return;
      }
      const outcome = meters.get(message.slot)!.measure(() => instance.invoke(message.fn, message.args));
      instance.services.logger.reportDropped();
      sendUsage(message.slot, instance);
      send({ type: 'result', slot: message.slot, id: message.id, ...outcome });
    }
  }
});

send({ type: 'idle' });
