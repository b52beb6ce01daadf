import { readFile, writeFile } from 'node:fs/promises';
import { BerthError } from '../../common/errors.js';

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

/** Default bundle file names next to a component: `x.wasm.sig.json`, `x.wasm.att.json`. */
export function signaturePathFor(component: string): string {
  return `${component}.sig.json`;
}
export function attestationPathFor(component: string): string {
  return `${component}.att.json`;
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
  for (const k of flags.key) publicKeys.push((await readInput(k, 'public key', 64 * 1024)).toString('utf8'));
  return { vendor: flags.vendor ?? 'vendor', publicKeys };
}
