import type { AppIdentity, AppLogRecord } from '../host-apis/app-context.js';
import type { GrantSet } from '../wire/grants.js';
import { prepareApp } from './app-spec.js';
import type { Engine } from './engine/engine.js';
import { MessageBroker } from './messaging/broker.js';
import { withGrantHandlers } from './grant-handlers.js';
import type { InvokeOutcome, StopReport } from './sandbox/protocol.js';
import type { AppLimits } from './sandbox/sandbox.js';
import { WorkerSandbox } from './sandbox/worker-sandbox.js';

export interface RunOnceOptions {
  engine: Engine;
  vendor: string;
  app: string;
  grants: GrantSet;
  dataDir: string;
  /** The export to call; `run` means the app's entry point. */
  fn: string;
  args: unknown[];
  limits?: Partial<AppLimits>;
  log: (identity: AppIdentity, record: AppLogRecord) => void;
}

export interface RunOnceResult {
  outcome: InvokeOutcome;
  stop: StopReport | undefined;
  exports: string[];
}

/**
 * One app, one call, no restarts: what `berth run` does on a vendor's laptop. The same checks
 * and sandbox as on a device, so what works here works there.
 */
export async function runOnce(bytes: Uint8Array, options: RunOnceOptions): Promise<RunOnceResult> {
  const { compiled, spec } = await prepareApp(options.engine, bytes, {
    vendor: options.vendor,
    app: options.app,
    grants: options.grants,
    limits: options.limits,
    dataRoot: options.dataDir,
  });
  // A broker of its own, so an app granted messaging runs here as on a device (alone on it), and
  // the same outbound-HTTP handler as a device's.
  const start = withGrantHandlers((c, s, h) => WorkerSandbox.start(c, s, h), { broker: new MessageBroker() });
  const sandbox = await start(compiled, spec, { log: options.log });
  let stop: StopReport | undefined;
  sandbox.onStop((report) => (stop = report));
  try {
    const outcome = await sandbox.invoke(options.fn, options.args);
    return { outcome, stop: stop?.reason === 'stopped' ? undefined : stop, exports: sandbox.exports };
  } finally {
    await sandbox.stop();
  }
}
