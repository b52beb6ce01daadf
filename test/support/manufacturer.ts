import { generateP256, privateKeyToPem, x509, ECDSA_SHA256, randomSerial } from '../../trust/x509.js';

/** A manufacturer CA and an IDevID it issued, with the serialNumber subject attribute. */
export async function manufacturer(name: string) {
  const keys = await generateP256();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${name} device CA`,
    keys,
    signingAlgorithm: ECDSA_SHA256,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const idevid = async (serial: string) => {
    const devKeys = await generateP256();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${name} controller, 2.5.4.5=${serial}`,
      issuer: ca.subjectName,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: ECDSA_SHA256,
      publicKey: devKeys.publicKey,
      signingKey: keys.privateKey,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
    });
    return { certificatesPem: [cert.toString('pem')], keyPem: await privateKeyToPem(devKeys.privateKey), cert };
  };
  return { ca, idevid };
}
