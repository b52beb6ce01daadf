import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { MessageImprint, PKIStatus, TimeStampReq, TimeStampReqVersion, TimeStampResp } from '@peculiar/asn1-tsp';
import { RFC3161Timestamp } from '@sigstore/core';
import { BerthError } from '../../common/errors.js';
import { header, Transport, type TransportOptions } from '../../oci/transport.js';
import { truncateText } from '../../common/text.js';

/**
 * RFC 3161 over HTTP (POST application/timestamp-query): asks the fleet's timestamp authority
 * to countersign `data` (a signature). The answer is hostile input like any other: status,
 * nonce and message imprint are checked before the token goes into a bundle. Whether the TSA
 * is trusted is decided at verification, against the fleet's roots.
 */
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';

export async function requestTimestamp(url: string, data: Uint8Array, options: TransportOptions = {}): Promise<Buffer> {
  const imprint = createHash('sha256').update(data).digest();
  const nonce = randomBytes(8);
  nonce[0] = nonce[0]! & 0x7f;
  const request = new TimeStampReq({
    version: TimeStampReqVersion.v1,
    messageImprint: new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA256 }), hashedMessage: new OctetString(imprint) }),
    nonce: new Uint8Array(nonce).buffer,
    certReq: true,
  });
  const res = await new Transport(options).send({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
    body: new Uint8Array(AsnConvert.serialize(request)),
    maxBytes: 64 * 1024,
    what: 'a timestamp',
  });
  if (res.status !== 200) throw new BerthError('signing.timestamp', `timestamp authority answered ${res.status}`);
  const type = (header(res, 'content-type') ?? '').split(';')[0]!.trim();
  if (type !== 'application/timestamp-reply')
    throw new BerthError('signing.timestamp', `timestamp authority answered with '${truncateText(type, 100)}', expected application/timestamp-reply`);
  let parsed: TimeStampResp;
  let token: RFC3161Timestamp;
  try {
    parsed = AsnConvert.parse(res.body, TimeStampResp);
    token = RFC3161Timestamp.parse(res.body as Buffer<ArrayBuffer>);
  } catch {
    throw new BerthError('signing.timestamp', 'timestamp authority answer is not a DER TimeStampResp');
  }
  if (parsed.status.status !== PKIStatus.granted && parsed.status.status !== PKIStatus.grantedWithMods) {
    throw new BerthError(
      'signing.timestamp',
      `timestamp authority refused: ${parsed.status.statusString ? truncateText(parsed.status.statusString.join(' '), 200) : `status ${parsed.status.status}`}`,
    );
  }
  try {
    token.tstInfo.verify(Buffer.from(data));
  } catch {
    throw new BerthError('signing.timestamp', 'timestamp authority stamped other data than asked');
  }
  const tstNonce = token.tstInfo.root.subs.find((s, i) => i > 4 && s.tag.number === 2);
  if (!tstNonce || Buffer.compare(stripSign(tstNonce.value), stripSign(nonce)) !== 0) {
    throw new BerthError('signing.timestamp', 'timestamp authority answer does not carry our nonce (a replayed answer?)');
  }
  return res.body;
}

function stripSign(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}
