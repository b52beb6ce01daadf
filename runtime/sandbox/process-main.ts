import { errorCode, errorMessage } from '../../common/errors.js';
import { revivedCompiled } from '../engine/artifact.js';
import type { BridgeHandlers } from './bridge.js';
import type { FromChild, ToChild } from './process-protocol.js';
import type { Sandbox } from './sandbox.js';
import { WorkerSandbox } from './worker-sandbox.js';

/**
 * The child process of the `process` tier. It runs under Node's permission model (file reads
 * limited to Berth's code, this app's compiled files and its data folder; writes to its data
 * folder; no child processes) and, where installed, inside bubblewrap namespaces. Inside it the
 * app runs exactly as in the worker tier; host work on the device's behalf (tokens, HTTP,
 * messaging) is asked of the parent over IPC, so the child holds no authority of its own.
 */
if (!process.send) throw new Error('process-main must be started with an IPC channel');

const send = (message: FromChild) => process.send!(message);
let sandbox: Sandbox | undefined;
let nextHostCall = 1;
const pendingHostCalls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

function askParent(method: string, args: unknown[]): Promise<unknown> {
  const id = nextHostCall++;
  return new Promise((resolve, reject) => {
    pendingHostCalls.set(id, { resolve, reject });
    send({ type: 'host-call', id, method, args });
  });
}

/** Every method the app may call is forwarded; the parent decides what exists and what is allowed. */
const forwardingHandlers: BridgeHandlers = new Proxy({}, { get: (_t, method: string) => (...args: unknown[]) => askParent(method, args) });

async function load(message: Extract<ToChild, { type: 'load' }>): Promise<void> {
  const { component, spec } = message;
  try {
    const compiled = await revivedCompiled(component);
    const started = await WorkerSandbox.start(compiled, spec, {
      log: (identity, record) => send({ type: 'log', identity, record }),
      usage: (identity, report) => send({ type: 'usage', identity, report }),
      hostHandlers: () => forwardingHandlers,
    });
    sandbox = started;
    started.onStop((report) => {
      // After the result of the call that ended it, which is sent once its promise settles.
      setImmediate(() => {
        send({ type: 'ended', reason: report.reason, message: report.message });
        setImmediate(() => process.exit(0));
      });
    });
    send({ type: 'ready', exports: started.exports });
  } catch (err) {
    send({ type: 'load-failed', code: errorCode(err, 'instantiation-failed'), message: errorMessage(err) });
  }
}

process.on('message', (message: ToChild) => {
  switch (message.type) {
    case 'load':
      void load(message);
      return;
    case 'invoke':
      if (!sandbox) {
        send({ type: 'result', id: message.id, outcome: { ok: false, failure: { kind: 'trap', message: 'the app is not loaded' } } });
        return;
      }
      void sandbox.invoke(message.fn, message.args).then((outcome) => send({ type: 'result', id: message.id, outcome }));
      return;
    case 'host-answer': {
      const pending = pendingHostCalls.get(message.id);
      pendingHostCalls.delete(message.id);
      if (message.ok) pending?.resolve(message.value);
      else pending?.reject(message.error);
    }
  }
});

// The parent going away ends the app: nothing may run without its supervisor.
process.on('disconnect', () => process.exit(0));
