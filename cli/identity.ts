import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import { bundleAuthorities, type SpiffeBundle } from '../trust/bundle.js';
import { verifyWorkloadToken } from '../trust/workload/verify.js';
import { parseCertificates, type x509 } from '../trust/x509.js';
import type { Command } from './main.js';

const HELP = `usage: berth identity verify <TOKEN|-> --audience AUD --bundle FILE --trust-domain TD [--revoked ID,...]

Verifies a workload token offline, as any relying party can: the x5c chain to the fleet's
roots, the device certificate, the signature, the workload's SPIFFE ID, audience and expiry.
  --bundle FILE       the fleet's trust bundle: SPIFFE bundle JSON (GET /.well-known/...) or PEM
  --trust-domain TD   the fleet's SPIFFE trust domain
  --revoked IDS       device ids whose tokens no longer count (comma-separated)
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

export const command: Command = {
  summary: 'verify a workload identity token offline',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { audience: { type: 'string' }, bundle: { type: 'string' }, 'trust-domain': { type: 'string' }, revoked: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) return void process.stdout.write(HELP + '\n'), 0;
    const [verb, tokenArg] = positionals;
    if (verb !== 'verify' || !tokenArg || !values.audience || !values.bundle || !values['trust-domain']) throw new BerthError('usage', `missing arguments\n${HELP}`);
    const token = tokenArg === '-' ? (await readStdin()).trim() : tokenArg;
    const revoked = new Set((values.revoked ?? '').split(',').filter(Boolean));
    const verified = await verifyWorkloadToken(token, {
      roots: await readRoots(values.bundle),
      trustDomain: values['trust-domain'],
      audience: values.audience,
      revocations: { isRevoked: (id) => revoked.has(id) },
    });
    process.stdout.write(JSON.stringify(verified) + '\n');
    return 0;
  },
};

async function readStdin(): Promise<string> {
  let data = '';
  for await (const chunk of process.stdin) data += chunk;
  return data;
}
