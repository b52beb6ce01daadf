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
    // Not running (starting, in back-off, stopped): 503, whatever ended the last instance.
    invoke: (fn, args) =>
      supervisor.status().state === 'running'
        ? supervisor.invoke(fn, args)
        : Promise.resolve({ ok: false, failure: { kind: 'sandbox-stopped', reason: 'stopped', message: `the app is ${supervisor.status().state}` } }),
  };
  return gateway.addApp(target);
}
