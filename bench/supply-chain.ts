import { createPublicKey, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pullComponent, pushComponent } from '../oci/artifact.js';
import { RegistryClient } from '../oci/client.js';
import { startLocalRegistry } from '../oci/local-registry.js';
import { VerificationCache } from '../trust/signing/cache.js';
import { generateVendorKey, loadPrivateKey } from '../trust/signing/keys.js';
import { compilePolicy } from '../trust/signing/policy.js';
import { serializeBundle, signComponent, signComponentWithCertificate } from '../trust/signing/sign.js';
import { createSigningCa } from '../trust/signing/fleet-ca.js';
import { compileRoots } from '../trust/signing/roots.js';
import { createTimestampAuthority } from '../trust/signing/timestamp-authority.js';
import { verifyComponent, type BundleBytes } from '../trust/signing/verify.js';
import { percentile, type BenchResult, type Figure } from './report.js';

/**
 * Supply chain: vendor-key sign and verify (uncached and cached), and pull throughput from a
 * real docker-registry on loopback. Options: --size-kib N (component size, default 1024),
 * --iterations N (default 300), --pull-mib N (default 32).
 */
export async function run(argv: string[]): Promise<BenchResult> {
  const opt = (name: string, fallback: number): number => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(argv[i + 1]) : fallback;
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  const sizeKiB = opt('size-kib', 1024);
  const iterations = Math.min(opt('iterations', 300), 10_000);
  const pullMiB = Math.min(opt('pull-mib', 32), 256);

  const key = generateVendorKey();
  const privateKey = loadPrivateKey(key.privateKeyPem);
  const policy = compilePolicy({ vendor: 'bench', publicKeys: [key.publicKeyPem] });
  const component = new Uint8Array(randomBytes(sizeKiB * 1024));

  const signMs: number[] = [];
  let bundle: BundleBytes | undefined;
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    bundle = { kind: 'message-signature', bytes: serializeBundle(signComponent(component, privateKey)) };
    signMs.push(performance.now() - t);
  }
  const verifyMs: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    verifyComponent(policy, component, [bundle!]);
    verifyMs.push(performance.now() - t);
  }
  // The signature check alone, on a tiny artifact: what the 2 ms target is about.
  const tiny = new Uint8Array(randomBytes(64));
  const tinyBundle: BundleBytes = { kind: 'message-signature', bytes: serializeBundle(signComponent(tiny, privateKey)) };
  const verifyTinyMs: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    verifyComponent(policy, tiny, [tinyBundle]);
    verifyTinyMs.push(performance.now() - t);
  }
  // Private CA with timestamp: a fresh short-lived certificate and a TSA token per signature.
  const ca = await createSigningCa();
  const tsa = await createTimestampAuthority();
  const roots = compileRoots({ signingCas: [ca.certPem], timestampAuthorities: [tsa.certChainPem] });
  const certPolicy = compilePolicy({ vendor: 'bench', identities: [{ subject: 'https://ci\\.bench\\.example/.+', issuer: 'https://fleet\\.example' }] });
  const cert = await ca.issue({ publicKey: createPublicKey(privateKey), subject: 'https://ci.bench.example/p', issuer: 'https://fleet.example' });
  const certIterations = Math.max(1, Math.floor(iterations / 3));
  const certSignMs: number[] = [];
  let certBundle: BundleBytes | undefined;
  for (let i = 0; i < certIterations; i++) {
    const t = performance.now();
    certBundle = { kind: 'message-signature', bytes: serializeBundle(signComponentWithCertificate(tiny, privateKey, cert, (sig) => tsa.timestamp(sig))) };
    certSignMs.push(performance.now() - t);
  }
  const certVerifyMs: number[] = [];
  for (let i = 0; i < certIterations; i++) {
    const t = performance.now();
    verifyComponent(certPolicy, tiny, [certBundle!], roots);
    certVerifyMs.push(performance.now() - t);
  }

  const cache = new VerificationCache();
  const cachedMs: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    cache.verify(policy, component, [bundle!]);
    cachedMs.push(performance.now() - t);
  }

  const figures: Figure[] = [
    { name: 'sign p50', value: percentile(signMs, 50), unit: 'ms', note: `vendor key, ${sizeKiB} KiB component` },
    { name: 'verify p50', value: percentile(verifyMs, 50), unit: 'ms', note: `vendor-key bundle, ${sizeKiB} KiB component (incl. sha256 twice)` },
    { name: 'verify p95', value: percentile(verifyMs, 95), unit: 'ms' },
    { name: 'verify p50 (64 B artifact)', value: percentile(verifyTinyMs, 50), unit: 'ms', note: 'bundle parse + ECDSA P-256 verify; target < 2 ms' },
    { name: 'verify p95 (64 B artifact)', value: percentile(verifyTinyMs, 95), unit: 'ms' },
    {
      name: 'sign p50 (private CA + timestamp)',
      value: percentile(certSignMs, 50),
      unit: 'ms',
      note: '64 B artifact; in-process TSA (no HTTP), certificate issued once',
    },
    {
      name: 'verify p50 (private CA + timestamp)',
      value: percentile(certVerifyMs, 50),
      unit: 'ms',
      note: 'chain to fleet CA, TSA token, identity policy, code-signing EKU',
    },
    { name: 'verify p95 (private CA + timestamp)', value: percentile(certVerifyMs, 95), unit: 'ms' },
    {
      name: 'verify cached p50',
      value: percentile(cachedMs, 50),
      unit: 'ms',
      note: `${cache.misses} miss, ${cache.hits} hits (cache key hashes the component)`,
    },
  ];

  const registry = await startLocalRegistry();
  try {
    const client = new RegistryClient(registry.host, { plainHttp: true });
    const big = new Uint8Array(randomBytes(pullMiB * 1024 * 1024));
    const pushStart = performance.now();
    const pushed = await pushComponent(client, 'bench/component', '1.0.0', big, [bundle!]);
    const pushS = (performance.now() - pushStart) / 1000;
    const pullS: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await pullComponent(client, 'bench/component', pushed.manifestDigest);
      pullS.push((performance.now() - t) / 1000);
    }
    figures.push(
      { name: 'push throughput', value: pullMiB / pushS, unit: 'MiB/s', note: `${pullMiB} MiB component + signature, docker-registry 2.8 on loopback` },
      {
        name: 'pull throughput (best of 3)',
        value: pullMiB / Math.min(...pullS),
        unit: 'MiB/s',
        note: 'by digest, manifest + blob + referrers, digests checked',
      },
    );
  } finally {
    await registry.stop();
  }
  return { bench: 'supply-chain', figures, notes: [`${iterations} iterations per timing`] };
}
