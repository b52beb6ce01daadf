import { errorCode, errorMessage } from '../../common/errors.js';
import { revivedCompiled } from '../engine/artifact.js';
import type { AppIdentity } from '../../host-apis/app-context.js';
import type { BridgeHandlers } from './bridge.js';
import type { UsageReport } from './protocol.js';
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

/**
 * The latest usage report not yet sent. A call's report is made just before its result, so it
 * rides on the result's message instead of one of its own: one IPC message less per call (an
 * HTTP app is called once per request). A report no result follows (an instance's load) is sent
 * alone once this turn of the event loop is over.
 */
let unsentUsage: { identity: AppIdentity; report: UsageReport } | undefined;

function reportUsage(identity: AppIdentity, report: UsageReport): void {
  if (!unsentUsage) setImmediate(sendUnsentUsage);
  unsentUsage = { identity, report };
}

function sendUnsentUsage(): void {
  if (unsentUsage) send({ type: 'usage', ...unsentUsage });
  unsentUsage = undefined;
}

/** The report to send with a result, taken so that it is not also sent alone. */
function takeUsage(): UsageReport | undefined {
  const report = unsentUsage?.report;
  unsentUsage = undefined;
  return report;
}

function askParent(method: string, args: unknown[]): Promise<unknown> {
  const id = nextHostCall++;
  return new Promise((resolve, reject) => {
    pendingHostCalls.set(id, { resolve, reject });
    send({ type: 'host-call', id, method, args });
  });
}

/** Every method the app may call is forwarded; the parent decides what exists and what is allowed. */
const forwardingHandlers: BridgeHandlers = new Proxy(
  {},
  {
    get:
      (_t, method: string) =>
      (...args: unknown[]) =>
        askParent(method, args),
  },
);

async function load(message: Extract<ToChild, { type: 'load' }>): Promise<void> {
  const { component, spec } = message;
  try {
    const compiled = await revivedCompiled(component);
    const started = await WorkerSandbox.start(compiled, spec, {
      log: (identity, record) => send({ type: 'log', identity, record }),
      usage: reportUsage,
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
      void sandbox.invoke(message.fn, message.args).then((outcome) => {
        const usage = takeUsage();
        send({ type: 'result', id: message.id, outcome, ...(usage ? { usage } : {}) });
      });
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
