import type { Logger } from '../common/logger.js';
import type { GrantSet } from '../wire/grants.js';
import type { Engine } from './engine/engine.js';
import { HttpGateway } from './gateway/gateway.js';
import { serveSupervisedApp } from './gateway/supervised.js';
import { Runtime } from './runtime.js';
import { BerthError } from '../common/errors.js';

export interface ServeLocallyOptions {
  engine: Engine;
  vendor: string;
  app: string;
  grants: GrantSet;
  dataDir: string;
  host: string;
  port: number;
  logger: Logger;
}

export interface ServedLocally {
  /** Where the app answers: the gateway's address and the app's granted route. */
  url: string;
  close(): Promise<void>;
}

/**
 * One HTTP app served as a device serves it (`berth run --serve`): the same runtime, supervisor
 * (restarts with back-off) and gateway (route, size limits, timeouts) as the agent's, without a
 * control plane. What answers here answers the same on a device.
 */
export async function serveLocally(bytes: Uint8Array, o: ServeLocallyOptions): Promise<ServedLocally> {
  const route = o.grants['inbound-http']?.route;
  if (!route) throw new BerthError('usage', 'serving needs an inbound-http grant (--grant inbound-http=/ROUTE): it is the route the app answers under');
  const runtime = new Runtime({ engine: o.engine, dataDir: o.dataDir, logger: o.logger, warmWorkers: 0 });
  const gateway = new HttpGateway({ host: o.host, port: o.port, logger: o.logger });
  try {
    const supervisor = await runtime.startApp(bytes, { vendor: o.vendor, app: o.app, grants: o.grants });
    serveSupervisedApp(gateway, supervisor);
    const port = await gateway.listen();
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    return {
      url: `http://${host}:${port}${route}`,
      async close() {
        await gateway.close();
        await runtime.close();
      },
    };
  } catch (err) {
    await gateway.close().catch(() => undefined);
    await runtime.close();
    throw err;
  }
}
