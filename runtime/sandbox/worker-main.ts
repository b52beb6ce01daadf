import { parentPort } from 'node:worker_threads';
import { errorMessage } from '../../common/errors.js';
import type { AppLogRecord } from '../../host-apis/app-context.js';
import type { ComponentGlue } from '../engine/engine.js';
import { AppInstance } from './app-instance.js';
import { BridgeClient } from './bridge.js';
import type { FromWorker, LoadRequest, ToWorker } from './protocol.js';

/**
 * The worker tier's thread: started empty (so a pool can keep some ready), it loads one app,
 * then answers invocations one at a time. A trap leaves the instance unusable, so the controller
 * replaces the whole worker; nothing here tries to recover.
 */
const port = parentPort;
if (!port) throw new Error('worker-main must run in a worker thread');

const send = (message: FromWorker) => port.postMessage(message);
let instance: AppInstance | undefined;

async function load(request: LoadRequest): Promise<void> {
  try {
    const glue = (await import(request.glueUrl)) as ComponentGlue;
    const bridge = new BridgeClient(request.bridge, request.bridgeTimeoutMs);
    instance = AppInstance.create(glue, request.modules, request.imports, {
      identity: request.identity,
      grants: request.grants,
      dataDir: request.dataDir,
      logSink: (record: AppLogRecord) => send({ type: 'log', record }),
      hostCall: (method, args) => bridge.call(method, args),
    });
    send({ type: 'ready', exports: instance.exportNames() });
  } catch (err) {
    const code = err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : 'instantiation-failed';
    send({ type: 'load-failed', code, message: errorMessage(err) });
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'load') {
    void load(message);
    return;
  }
  if (message.type === 'preload') {
    // The module cache keeps it; a failure here will show again, with its reason, at load.
    import(message.glueUrl).catch(() => {});
    return;
  }
  if (!instance) {
    send({ type: 'result', id: message.id, ok: false, failure: { kind: 'trap', message: 'the app is not loaded' } });
    return;
  }
  const outcome = instance.invoke(message.fn, message.args);
  instance.services.logger.reportDropped();
  send({ type: 'usage', memoryPages: instance.memoryPages(), hostCalls: 0 });
  send({ type: 'result', id: message.id, ...outcome });
});

send({ type: 'idle' });
