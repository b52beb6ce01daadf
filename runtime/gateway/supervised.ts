import { BerthError } from '../../common/errors.js';
import type { AppSupervisor } from '../supervisor.js';
import type { GatewayApp, HttpGateway } from './gateway.js';

/**
 * Serves a supervised app on the gateway under its `inbound-http` route. Requests go to whatever
 * instance the supervisor runs now, so a restarted app is served again without re-registering.
 */
export function serveSupervisedApp(gateway: HttpGateway, supervisor: AppSupervisor): () => void {
  const grant = supervisor.spec.grants['inbound-http'];
  const { vendor, app } = supervisor.spec.identity;
  if (!grant) throw new BerthError('grant-missing', `app ${vendor}/${app} has no inbound-http grant`);
  const target: GatewayApp = {
    name: `${vendor}/${app}`,
    route: grant.route,
    maxRequestBytes: grant.maxRequestBytes,
    maxResponseBytes: grant.maxResponseBytes,
    timeoutMs: grant.timeoutMs,
    invoke: (fn, args) => supervisor.invoke(fn, args),
  };
  return gateway.addApp(target);
}
