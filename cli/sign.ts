import { parseArgs } from 'node:util';
import { sha256Digest } from '../common/digest.js';
import { loadPrivateKey } from '../trust/signing/keys.js';
import { readInput, signaturePathFor, writeOutput } from '../trust/signing/files.js';
import { serializeBundle, signComponent, signComponentWithCertificate } from '../trust/signing/sign.js';
import { requestTimestamp } from '../trust/signing/timestamp-client.js';
import type { Command } from './main.js';

const HELP = `usage: berth sign <component.wasm> --key <key> [--cert <cert.pem> --tsa-url <url>] [--out <file>]

Signs a component into a Sigstore bundle (v0.3, message signature over the SHA-256 digest).
With a vendor key alone, the bundle names the key (public-key hint = key id). With --cert, it
carries the short-lived certificate the fleet signing CA issued for --key, and an RFC 3161
timestamp from the fleet timestamp authority. No transparency log is contacted.

  --key <file>      private key (berth keygen, or the key the certificate was issued for)
  --cert <file>     signing certificate from the fleet signing CA (PEM)
  --tsa-url <url>   RFC 3161 timestamp authority (required with --cert)
  --tsa-ca <file>   PEM CA for an HTTPS timestamp authority
  --out <file>      bundle file (default: <component>.sig.json)`;

const OPTIONS = {
  key: { type: 'string' },
  cert: { type: 'string' },
  'tsa-url': { type: 'string' },
  'tsa-ca': { type: 'string' },
  out: { type: 'string' },
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
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    const problem =
      positionals.length !== 1
        ? 'give exactly one component file'
        : !values.key
          ? '--key is required'
          : values.cert && !values['tsa-url']
            ? '--cert needs --tsa-url (a certificate outlives nothing without a timestamp)'
            : undefined;
    if (problem) {
      process.stderr.write(`berth sign: ${problem}\n\n${HELP}\n`);
      return 2;
    }
    const componentPath = positionals[0]!;
    const component = await readInput(componentPath, 'component');
    const key = loadPrivateKey((await readInput(values.key!, 'signing key', 64 * 1024)).toString('utf8'), `signing key ${values.key}`);
    const out = values.out ?? signaturePathFor(componentPath);
    let bundle;
    if (values.cert) {
      const certPem = (await readInput(values.cert, 'signing certificate', 64 * 1024)).toString('utf8');
      const tsaOptions = values['tsa-ca'] ? { ca: (await readInput(values['tsa-ca'], 'TSA CA', 1024 * 1024)).toString('utf8') } : {};
      // The timestamp is over the signature, so sign first, then stamp, then assemble.
      const probe = signComponentWithCertificate(component, key, certPem);
      if (probe.content.$case !== 'messageSignature') throw new Error('unreachable');
      const stamp = await requestTimestamp(values['tsa-url']!, probe.content.messageSignature.signature, tsaOptions);
      bundle = probe;
      bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: stamp }] };
    } else {
      bundle = signComponent(component, key);
    }
    await writeOutput(out, serializeBundle(bundle), 'signature bundle');
    process.stdout.write(`signed ${sha256Digest(component)} → ${out}\n`);
    return 0;
  },
};
