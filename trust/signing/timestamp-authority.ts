import 'reflect-metadata';
import { createHash, createPrivateKey, generateKeyPairSync, sign, webcrypto, type KeyObject } from 'node:crypto';
import { BerthError } from '../../common/errors.js';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  id_signedData,
} from '@peculiar/asn1-cms';
import {
  MessageImprint,
  PKIFailureInfo,
  PKIFailureInfoFlags,
  PKIFreeText,
  PKIStatus,
  PKIStatusInfo,
  TimeStampReq,
  TimeStampResp,
  TSTInfo,
  TSTInfoVersion,
  id_ct_tstInfo,
} from '@peculiar/asn1-tsp';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/**
 * A private RFC 3161 timestamp authority, as the control plane will run it for air-gapped
 * fleets: it signs (hash of data, time) with a key whose certificate has the critical
 * timeStamping extended key usage. The token is a CMS SignedData over a TSTInfo with the
 * contentType and messageDigest signed attributes (ESS signingCertificateV2 is not added:
 * the verifier pins the TSA certificate by issuer and serial instead).
 */
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
/** Berth's TSA policy (a UUID-based OID, 2.25). */
export const BERTH_TSA_POLICY = '2.25.329800735698586629295641978511506172918';

export interface TimestampAuthority {
  /** Leaf first, then the root that issued it: what verifiers configure as the TSA chain. */
  certChainPem: [string, string];
  /** A DER TimeStampResp (status granted + token) over sha256(data), at `at` (default now). */
  timestamp(data: Uint8Array, at?: Date): Buffer;
  /** Answers a DER TimeStampReq (RFC 3161 over HTTP); a bad request gets a rejection response. */
  respond(requestDer: Uint8Array, at?: Date): Buffer;
}

export async function createTimestampAuthority(name = 'Berth fleet timestamp authority'): Promise<TimestampAuthority> {
  return (await generateTimestampAuthority(name)).authority;
}

/**
 * A new TSA: a root that signs one timeStamping leaf and is then forgotten (only the leaf key
 * is kept, PKCS#8 PEM), so the chain can be given to verifiers and the leaf key kept on disk.
 */
export async function generateTimestampAuthority(name = 'Berth fleet timestamp authority'): Promise<{ authority: TimestampAuthority; privateKeyPem: string }> {
  const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const rootKeys = (await webcrypto.subtle.generateKey(ALG, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name} root`,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 3650 * 86_400_000),
    keys: rootKeys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leafPublic = await webcrypto.subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }), { name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'verify',
  ]);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${name}`,
    issuer: root.subject,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 3650 * 86_400_000),
    publicKey: leafPublic,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.timeStamping], true),
    ],
  });
  const certChainPem: [string, string] = [leaf.toString('pem'), root.toString('pem')];
  return { authority: timestampAuthorityOf(certChainPem, privateKey), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The TSA a control plane kept on disk: its chain (leaf first) and the leaf's PKCS#8 key. */
export function loadTimestampAuthority(certChainPem: [string, string], privateKeyPem: string): TimestampAuthority {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new BerthError('signing.tsa', 'the timestamp authority key on disk cannot be read (PKCS#8 PEM expected)');
  }
  return timestampAuthorityOf(certChainPem, key);
}

function timestampAuthorityOf(certChainPem: [string, string], privateKey: KeyObject): TimestampAuthority {
  let leafAsn: Certificate;
  try {
    leafAsn = AsnConvert.parse(new x509.X509Certificate(certChainPem[0]).rawData, Certificate);
  } catch {
    throw new BerthError('signing.tsa', 'the timestamp authority certificate cannot be read');
  }
  return {
    certChainPem,
    timestamp: (data, at = new Date()) => timestampResponse(createHash('sha256').update(data).digest(), undefined, at, privateKey, leafAsn),
    respond(requestDer, at = new Date()) {
      let req: TimeStampReq;
      try {
        req = AsnConvert.parse(requestDer, TimeStampReq);
      } catch {
        return rejection('request is not a DER TimeStampReq', PKIFailureInfoFlags.badDataFormat);
      }
      const imprint = Buffer.from(req.messageImprint.hashedMessage.buffer);
      if (req.messageImprint.hashAlgorithm.algorithm !== OID_SHA256 || imprint.length !== 32) {
        return rejection('only SHA-256 message imprints are accepted', PKIFailureInfoFlags.badAlg);
      }
      if (req.reqPolicy && req.reqPolicy !== BERTH_TSA_POLICY) return rejection('unknown policy', PKIFailureInfoFlags.unacceptedPolicy);
      return timestampResponse(imprint, req.nonce, at, privateKey, leafAsn);
    },
  };
}

function rejection(text: string, failure: PKIFailureInfoFlags): Buffer {
  return Buffer.from(
    AsnConvert.serialize(
      new TimeStampResp({
        status: new PKIStatusInfo({ status: PKIStatus.rejection, statusString: new PKIFreeText([text]), failInfo: new PKIFailureInfo(failure) }),
      }),
    ),
  );
}

function timestampResponse(imprint: Buffer, nonce: ArrayBuffer | undefined, at: Date, key: KeyObject, cert: Certificate): Buffer {
  const tstInfo = new TSTInfo({
    version: TSTInfoVersion.v1,
    policy: BERTH_TSA_POLICY,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA256 }),
      hashedMessage: new OctetString(imprint),
    }),
    ...(nonce ? { nonce } : {}),
    serialNumber: toArrayBuffer(webcrypto.getRandomValues(new Uint8Array(16)).map((b, i) => (i === 0 ? b & 0x7f : b))),
    genTime: new Date(Math.floor(at.getTime() / 1000) * 1000),
  });
  const tstInfoDer = Buffer.from(AsnConvert.serialize(tstInfo));
  const attributes = [
    new Attribute({ attrType: OID_CONTENT_TYPE, attrValues: [derOid(id_ct_tstInfo)] }),
    new Attribute({ attrType: OID_MESSAGE_DIGEST, attrValues: [AsnConvert.serialize(new OctetString(createHash('sha256').update(tstInfoDer).digest()))] }),
  ];
  // The signature covers the attributes encoded as a SET (RFC 5652 §5.4).
  const attrsDer = Buffer.concat(attributes.map((a) => Buffer.from(AsnConvert.serialize(a))));
  const signedAttrsSet = Buffer.concat([Buffer.from([0x31]), derLength(attrsDer.length), attrsDer]);
  const signature = sign('sha256', signedAttrsSet, key);

  const signerInfo = new SignerInfo({
    version: 1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: cert.tbsCertificate.issuer, serialNumber: cert.tbsCertificate.serialNumber }),
    }),
    digestAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA256 }),
    signedAttrs: attributes,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: OID_ECDSA_SHA256 }),
    signature: new OctetString(signature),
  });
  const signedData = new SignedData({
    version: 3,
    digestAlgorithms: new DigestAlgorithmIdentifiers([new AlgorithmIdentifier({ algorithm: OID_SHA256 })]),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_ct_tstInfo, eContent: new EncapsulatedContent({ single: new OctetString(tstInfoDer) }) }),
    certificates: new CertificateSet([new CertificateChoices({ certificate: cert })]),
    signerInfos: new SignerInfos([signerInfo]),
  });
  const token = new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) });
  return Buffer.from(AsnConvert.serialize(new TimeStampResp({ status: new PKIStatusInfo({ status: PKIStatus.granted }), timeStampToken: token })));
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derOid(oid: string): ArrayBuffer {
  const parts = oid.split('.').map((p) => BigInt(p));
  const body: number[] = [Number(parts[0]! * 40n + parts[1]!)];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [];
    let v = part;
    do {
      chunk.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    body.push(...chunk);
  }
  return toArrayBuffer(Buffer.concat([Buffer.from([0x06]), derLength(body.length), Buffer.from(body)]));
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}
