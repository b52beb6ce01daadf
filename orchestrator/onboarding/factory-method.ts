import { webcrypto } from 'node:crypto';
import type { z } from 'zod';
import { BerthError } from '../../common/errors.js';
import { securityEvent, type Logger } from '../../common/logger.js';
import { validatePath } from '../../trust/path/validate.js';
import { EC_P256, ECDSA_SHA256, fingerprintOf, x509 } from '../../trust/x509.js';
import { FACTORY_SIGNING_PREFIX, type factoryOnboardingSchema } from '../../wire/onboarding.js';
import { HttpProblem } from '../http/problem.js';
import { trustedManufacturers } from '../store/authorities.js';
import type { DeviceIdentifier } from '../store/devices.js';
import type { Attestation, OnboardingMethod } from './method.js';

const SERIAL_NUMBER_OID = '2.5.4.5';

/**
 * Factory certificate (IEEE 802.1AR IDevID style). The device shows its manufacturer-issued
 * certificate chain and signs the CSR's DER with the factory key, which proves it holds that key
 * now and binds the factory identity to the new key in the CSR.
 *
 * Device id: the lowercase hex SHA-256 of the DER leaf (Margo's draft enrollment subject), so the
 * same factory certificate always names the same device. The subject's serialNumber (as
 * `<manufacturer>/<serial>`) and reported MACs are recorded as further identifiers of it.
 */
export function factoryMethod(logger: Logger): OnboardingMethod<z.infer<typeof factoryOnboardingSchema>> {
  return {
    name: 'factory-certificate',
    async attest(tx, request, csr) {
      const refuse = (code: string, detail: string): never => {
        securityEvent(logger, 'onboarding.refused', { method: 'factory-certificate', reason: code, detail });
        throw new HttpProblem(403, code, 'The factory certificate was refused', { detail, retryable: false });
      };
      let chain: x509.X509Certificate[];
      try {
        chain = request.factoryCertificates.map((pem) => new x509.X509Certificate(pem));
      } catch {
        throw new HttpProblem(422, 'onboarding.factory_certificate_malformed', 'The factory certificate does not parse', {
          errors: [{ field: 'factoryCertificates', message: 'each entry must be one PEM certificate' }],
        });
      }
      const leaf = chain[0]!;
      const manufacturers = await trustedManufacturers(tx);
      const anchors = manufacturers.map((m) => new x509.X509Certificate(m.certificatePem));
      let anchor: x509.X509Certificate;
      try {
        ({ anchor } = validatePath({ leaf, intermediates: chain.slice(1), anchors, purpose: 'factory-identity', at: new Date() }));
      } catch (err) {
        return refuse('onboarding.factory_untrusted', err instanceof BerthError ? `${err.code}: ${err.message}` : 'chain verification failed');
      }
      const alg = leaf.publicKey.algorithm as { name: string; namedCurve?: string };
      if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') return refuse('onboarding.factory_bad_key', 'the factory key must be ECDSA P-256');
      const key = await leaf.publicKey.export(EC_P256, ['verify']);
      const signed = Buffer.concat([Buffer.from(FACTORY_SIGNING_PREFIX, 'utf8'), Buffer.from(csr.request.rawData)]);
      const ok = await webcrypto.subtle.verify(ECDSA_SHA256, key, Buffer.from(request.signature, 'base64url'), signed).catch(() => false);
      if (!ok) return refuse('onboarding.factory_bad_signature', "the signature does not verify with the factory certificate's key (no proof of possession)");

      const manufacturer = manufacturers.find((m) => m.fingerprint === fingerprintOf(anchor))!.name;
      const leafHash = fingerprintOf(leaf);
      const factoryId: DeviceIdentifier = { kind: 'factory-cert', value: leafHash };
      const identifiers: DeviceIdentifier[] = [factoryId];
      for (const serial of leaf.subjectName.getField(SERIAL_NUMBER_OID)) identifiers.push({ kind: 'serial', value: `${manufacturer}/${serial}` });
      for (const mac of request.macAddresses ?? []) identifiers.push({ kind: 'mac', value: mac });
      const attestation: Attestation = {
        derivedDeviceId: leafHash,
        identifiers,
        reonboardIdentifier: factoryId,
        labels: { manufacturer },
        subject: `factory-cert:${leafHash}`,
      };
      return attestation;
    },
  };
}
