import { readFileSync } from 'node:fs';
import { BerthError } from '../../common/errors.js';
import type { RegistryClientOptions } from '../../oci/client.js';
import { MirrorSource, type MirrorTls } from '../../oci/mirror-source.js';
import { RegistrySource, type ArtifactSource } from '../../oci/source.js';
import type { AgentConfig } from './config.js';

/**
 * Where the agent pulls components from. `registry`: straight from the OCI registries named in
 * the deployments, with per-registry CA, credentials and (loopback only) plain HTTP. `mirror`:
 * the control plane's copies of admitted artifacts, over the device's mutual TLS (`tls` is read
 * at every fetch, so a renewed certificate is used at once). Either way every digest is checked
 * and the vendor signature verified on the device.
 */
export function artifactSource(config: AgentConfig, tls: () => MirrorTls, env: NodeJS.ProcessEnv = process.env): ArtifactSource {
  if (config.artifacts.source === 'mirror') return new MirrorSource({ url: new URL(config.controlPlane.url).origin, tls });
  const settings = config.artifacts.registries;
  const prepared = new Map<string, RegistryClientOptions>();
  for (const [host, r] of Object.entries(settings)) {
    const options: RegistryClientOptions = {};
    if (r.ca) {
      try {
        options.ca = readFileSync(r.ca, 'utf8');
      } catch (err) {
        throw new BerthError('agent.bad_config', `artifacts.registries.${host}.ca: cannot read ${r.ca}: ${(err as Error).message}`);
      }
    }
    if (r.plainHttp) options.plainHttp = true;
    if (r.username) {
      const password = r.passwordEnv ? env[r.passwordEnv] : undefined;
      if (password === undefined)
        throw new BerthError('agent.bad_config', `artifacts.registries.${host}.passwordEnv: environment variable ${r.passwordEnv ?? '(not named)'} is not set`);
      options.credentials = { username: r.username, password };
    }
    prepared.set(host, options);
  }
  return new RegistrySource((registry) => prepared.get(registry) ?? {});
}
