import { linkHostApis, type HostContext } from '../../host-apis/linker.js';

/**
 * Builds the host APIs once for a made-up app granted nothing but `log`: the first linking in a
 * thread costs ~1.3 ms of compiling Berth's own host code, the next ~0.1 ms. The made-up app has
 * no data folder and its log goes nowhere, so nothing of it is kept or written.
 */
export function warmUpHostApis(): void {
  linkHostApis(['berth:host/log@0.1.0'], warmUpContext);
}

const warmUpContext: HostContext = {
  identity: { vendor: 'berth', app: 'warm-up', instance: 'warm-up' },
  grants: { log: { linesPerSecond: 1, burst: 1 } },
  dataDir: '/nonexistent/berth-warm-up',
  logSink: () => {},
};
