import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import { bundleAuthorities, type SpiffeBundle } from '../trust/bundle.js';
import { fetchRevocationDocument } from '../trust/revocation/fetch.js';
import { RevocationList } from '../trust/revocation/list.js';
import { verifyWorkloadToken, type RevocationCheck } from '../trust/workload/verify.js';
import { parseCertificates, type x509 } from '../trust/x509.js';
import type { Command } from './main.js';

const HELP = `usage: berth identity verify <TOKEN|-> --audience AUD --bundle FILE --trust-domain TD [--revocations FILE|URL] [--revoked ID,...]

Verifies a workload token offline, as any relying party can: the x5c chain to the fleet's
roots, the device certificate, the signature, the workload's SPIFFE ID, audience and expiry.
  --bundle FILE       the fleet's trust bundle: SPIFFE bundle JSON (GET /.well-known/...) or PEM
  --trust-domain TD   the fleet's SPIFFE trust domain
  --revocations SRC   the control plane's signed revocation list: a file (offline) or an
                      https:// URL (GET /api/v1/identity/revocations); it must verify against
                      the bundle and be current, and a token from a listed certificate is refused
  --revoked IDS       device ids whose tokens no longer count, locally (comma-separated)
Prints the verified identity as JSON; exit code 1 with the reason when refused.`;

async function readRoots(file: string): Promise<x509.X509Certificate[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BerthError('unreadable-file', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (text.trimStart().startsWith('{')) {
    try {
      return bundleAuthorities(JSON.parse(text) as SpiffeBundle);
    } catch (err) {
      throw new BerthError('identity.bad_bundle', `${file} is not a SPIFFE trust bundle: ${(err as Error).message}`);
    }
  }
  const certs = parseCertificates(text);
  if (certs.length === 0) throw new BerthError('identity.bad_bundle', `${file} holds no PEM certificates`);
  return certs;
}

const OPTIONS = {
  audience: { type: 'string' },
  bundle: { type: 'string' },
  'trust-domain': { type: 'string' },
  revocations: { type: 'string' },
  revoked: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: OPTIONS,
    });
    if (values.help) return (void process.stdout.write(HELP + '\n'), 0);
    const [verb, tokenArg] = positionals;
    if (verb !== 'verify' || !tokenArg || !values.audience || !values.bundle || !values['trust-domain'])
      throw new BerthError('usage', `missing arguments\n${HELP}`);
    const token = tokenArg === '-' ? (await readStdin()).trim() : tokenArg;
    const roots = await readRoots(values.bundle);
    const now = new Date();
    const list = values.revocations === undefined ? undefined : await RevocationList.load(await readRevocations(values.revocations, roots), { roots, now });
    const revoked = new Set((values.revoked ?? '').split(',').filter(Boolean));
    const revocations: RevocationCheck = {
      async check(certificate, deviceId, at) {
        if (revoked.has(deviceId)) throw new BerthError('token.revoked', `device ${deviceId} is revoked (--revoked)`);
        await list?.check(certificate, deviceId, at);
      },
    };
    const verified = await verifyWorkloadToken(token, { roots, trustDomain: values['trust-domain'], audience: values.audience, now, revocations });
    process.stdout.write(JSON.stringify(verified) + '\n');
    return 0;
  },
};

/** A URL is fetched over HTTPS trusting the fleet roots (the control plane's server chains to them). */
async function readRevocations(source: string, roots: readonly x509.X509Certificate[]): Promise<string> {
  if (/^[a-z]+:\/\//i.test(source)) return fetchRevocationDocument(source, { ca: roots.map((r) => r.toString('pem')) });
  try {
    return await readFile(source, 'utf8');
  } catch (err) {
    throw new BerthError('unreadable-file', `cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function readStdin(): Promise<string> {
  let data = '';
  for await (const chunk of process.stdin) data += chunk;
  return data;
}
