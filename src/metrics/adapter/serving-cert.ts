/**
 * A self-signed serving pair for when no --tls-cert-file is given (development, or an APIService with
 * `insecureSkipTLSVerify: true`). The key comes from Node's native RSA generator (fast); node-forge only
 * builds and signs the certificate.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import forge from 'node-forge';

export interface ServingPair {
  cert: string;
  key: string;
  /** SHA-256 fingerprint of the DER certificate, colon-separated hex, for the start-up log. */
  fingerprint: string;
}

/** @example const { cert, key } = selfSignedServingPair(['kq-metrics-adapter.kq.svc']); */
export function selfSignedServingPair(extraNames: string[] = [], days = 365): ServingPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // DER INTEGER: positive and minimal, so the first byte is 0x01-0x7f (OpenSSL rejects other paddings).
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  const subject = [{ name: 'commonName', value: 'kq-metrics-adapter' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const dns = [...new Set(['localhost', hostname(), ...extraNames])];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...dns.map((value) => ({ type: 2, value })),
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(key), forge.md.sha256.create());
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  const fingerprint = createHash('sha256')
    .update(Buffer.from(der, 'binary'))
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
  return { cert: forge.pki.certificateToPem(cert), key, fingerprint };
}
