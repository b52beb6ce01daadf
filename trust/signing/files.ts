import { readFile, writeFile } from 'node:fs/promises';
import { BerthError } from '../../common/errors.js';
import type { FleetSigningRoots } from './roots.js';

/** File access for the vendor commands: failures name the file and what it was meant to be. */
export async function readInput(path: string, what: string, maxBytes = 512 * 1024 * 1024): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new BerthError('cli.bad-file', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (bytes.byteLength > maxBytes) throw new BerthError('cli.bad-file', `${what} ${path} is larger than ${maxBytes} bytes`);
  return bytes;
}

export async function writeOutput(path: string, bytes: Uint8Array | string, what: string): Promise<void> {
  try {
    await writeFile(path, bytes);
  } catch (err) {
    throw new BerthError('cli.bad-file', `cannot write ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Default bundle file names next to a component: `x.wasm.sig.json`, `x.wasm.att.json`, `x.wasm.sbom.json`. */
export function signaturePathFor(component: string): string {
  return `${component}.sig.json`;
}
export function attestationPathFor(component: string): string {
  return `${component}.att.json`;
}
export function sbomPathFor(component: string): string {
  return `${component}.sbom.json`;
}

/** The policy the command line builds from `--key` files, or reads from `--policy`. */
export async function policyInput(flags: { policy?: string; key?: string[]; vendor?: string }): Promise<unknown> {
  if (flags.policy && flags.key?.length) throw new BerthError('cli.usage', 'give either --policy or --key, not both');
  if (flags.policy) {
    const text = (await readInput(flags.policy, 'policy file', 1024 * 1024)).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw new BerthError('policy.invalid', `policy file ${flags.policy} is not JSON`);
    }
  }
  if (!flags.key?.length) throw new BerthError('cli.usage', 'give the vendor trust policy: --policy <file.json> or one or more --key <vendor.pub>');
  const publicKeys: string[] = [];
  for (const k of flags.key) {
    const pem = (await readInput(k, 'public key', 64 * 1024)).toString('utf8');
    if (!pem.includes('-----BEGIN')) throw new BerthError('cli.bad-file', `${k} holds no PEM public key`);
    publicKeys.push(pem);
  }
  return { vendor: flags.vendor ?? 'vendor', publicKeys };
}

/** Every PEM certificate block in a file, in order. */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Fleet signing roots from `--signing-ca` and `--tsa-chain` files, or undefined if neither was given. */
export async function rootsInput(flags: { 'signing-ca'?: string[]; 'tsa-chain'?: string[] }): Promise<FleetSigningRoots | undefined> {
  if (!flags['signing-ca']?.length && !flags['tsa-chain']?.length) return undefined;
  const signingCas: string[] = [];
  for (const f of flags['signing-ca'] ?? []) {
    const certs = pemCertificates((await readInput(f, 'signing CA certificate', 1024 * 1024)).toString('utf8'));
    if (certs.length === 0) throw new BerthError('cli.bad-file', `${f} holds no PEM certificate`);
    signingCas.push(...certs);
  }
  const timestampAuthorities: string[][] = [];
  for (const f of flags['tsa-chain'] ?? []) {
    const certs = pemCertificates((await readInput(f, 'timestamp authority chain', 1024 * 1024)).toString('utf8'));
    if (certs.length === 0) throw new BerthError('cli.bad-file', `${f} holds no PEM certificate`);
    timestampAuthorities.push(certs);
  }
  return { signingCas, timestampAuthorities };
}

export const ROOT_FLAG_OPTIONS = {
  'signing-ca': { type: 'string', multiple: true },
  'tsa-chain': { type: 'string', multiple: true },
} as const;

export const ROOT_FLAG_HELP = [
  '  --signing-ca <file>    fleet signing CA certificate(s), PEM, for certificate-signed bundles',
  '  --tsa-chain <file>     fleet timestamp authority chain, PEM, its certificate first; repeatable',
].join('\n');
