import { createPrivateKey } from 'node:crypto';
import { pushComponent } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import { generateVendorKey } from '../../trust/signing/keys.js';
import { serializeBundle, signComponent } from '../../trust/signing/sign.js';
import type { TokenCreated } from '../../wire/tokens.js';
import { operatorClient, type OperatorClient } from './operator-client.js';

export interface PublishInput {
  admin: OperatorClient;
  controlPlaneUrl: string;
  ca: string | string[];
  /** `host:port` of a plain-HTTP loopback registry. */
  registry: string;
  vendor: string;
  app: string;
  version: string;
  component: Uint8Array;
}

/**
 * What a vendor does once, and then per release, as the demo plays it: the operator registers
 * the vendor with its public key and its registry namespace and hands it a vendor token; the
 * vendor signs the component, pushes it with the signature attached, and registers the version
 * by reference, which the control plane only accepts after fetching and verifying it.
 */
export async function publishSignedApp(p: PublishInput): Promise<{ version: string; keyId: string; reference: string }> {
  const key = generateVendorKey();
  const namespace = `${p.registry.replace(/[.]/g, '\\.')}/${p.vendor}/.+`;
  await p.admin.call('POST', '/api/v1/catalog/vendors', { name: p.vendor, trustPolicy: { publicKeys: [key.publicKeyPem], repositories: [namespace] } });
  const { token } = await p.admin.call<TokenCreated>('POST', '/api/v1/admin/tokens', { name: `${p.vendor} release pipeline`, role: `vendor:${p.vendor}` });
  const vendor = operatorClient(p.controlPlaneUrl, p.ca, token);

  const bundle = signComponent(p.component, createPrivateKey(key.privateKeyPem));
  const repository = `${p.vendor}/${p.app}`;
  await pushComponent(new RegistryClient(p.registry, { plainHttp: true }), repository, p.version, p.component, [
    { kind: 'message-signature', bytes: serializeBundle(bundle) },
  ]);
  const reference = `oci://${p.registry}/${repository}:${p.version}`;
  await vendor.call('POST', '/api/v1/catalog/apps', { id: p.app });
  await vendor.call('POST', `/api/v1/catalog/apps/${p.app}/versions`, { version: p.version, component: { reference } });
  return { version: p.version, keyId: key.keyId, reference };
}
