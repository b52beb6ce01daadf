import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as x509 from '@peculiar/x509';
import { BerthError } from '../common/errors.js';
import { readInput } from '../trust/signing/files.js';
import type { SigningCertificateAnswer } from '../wire/signing.js';
import type { Command } from './main.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const HELP = `usage: berth signing-cert --url <control plane> --ca <fleet-ca.pem> [--out <prefix>] [--force]

Gets a short-lived code-signing certificate (10 minutes) from the control plane's fleet signing
CA for a new P-256 key: <prefix>.key (private, 0600) and <prefix>.crt. The certificate's identity
is the vendor of the token (spiffe://<trust-domain>/vendor/<name>), its issuer the control plane's
URL. Then: berth sign <component> --key <prefix>.key --cert <prefix>.crt --tsa-url <url>/api/v1/timestamp --tsa-ca <fleet-ca.pem>

  --url <url>        the control plane (https://host:port)
  --ca <file>        PEM of the fleet CA that issued the control plane's certificate
  --out <prefix>     file name prefix (default: signing)
  --force            overwrite existing files
The vendor token comes from BERTH_VENDOR_TOKEN (not a flag: flags show in the process list).`;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const OPTIONS = {
  url: { type: 'string' },
  ca: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: OPTIONS,
    });
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    const token = process.env.BERTH_VENDOR_TOKEN;
    const problem = !values.url ? '--url is required' : !values.ca ? '--ca is required' : !token ? 'set BERTH_VENDOR_TOKEN to a vendor token' : undefined;
    if (problem) {
      process.stderr.write(`berth signing-cert: ${problem}\n\n${HELP}\n`);
      return 2;
    }
    const ca = (await readInput(values.ca!, 'fleet CA', 1024 * 1024)).toString('utf8');
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=berth vendor signing key', keys, signingAlgorithm: ALG });
    const { adminCall } = await import('../orchestrator/admin/client.js');
    const issued: SigningCertificateAnswer = await adminCall({ kind: 'https', url: values.url!, token: token!, ca }, 'POST', '/api/v1/signing/certificates', {
      csr: csr.toString('pem'),
    });
    const prefix = values.out ?? 'signing';
    const flag = values.force ? 'w' : 'wx';
    try {
      await writeFile(`${prefix}.key`, x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'), {
        mode: 0o600,
        flag,
      });
      await writeFile(`${prefix}.crt`, issued.certificate, { mode: 0o644, flag });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new BerthError('cli.exists', `${(err as NodeJS.ErrnoException).path} exists; use --force to overwrite`);
      throw new BerthError('cli.bad-file', `cannot write the key or certificate: ${(err as Error).message}`);
    }
    process.stdout.write(
      `wrote ${prefix}.key (private, 0600) and ${prefix}.crt: ${issued.identity}, issuer ${issued.issuer}, valid ${issued.validForSeconds / 60} minutes\n`,
    );
    return 0;
  },
};
