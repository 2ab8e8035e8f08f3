/**
 * Test PKI built with node-forge: CAs and leaf certificates (server or client usage), as PEM, plus
 * files on disk for the CLI. Keys come from Node's native RSA generator to keep this fast.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll } from 'vitest';

export interface Pem {
  cert: string;
  key: string;
}

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  };
}

function baseCert(cn: string, publicKey: forge.pki.PublicKey) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // DER INTEGER: positive and minimal, so the first byte is 0x01-0x7f (OpenSSL rejects other paddings).
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: cn }]);
  return cert;
}

export function createCa(cn: string): Pem {
  const { keyPem, publicKey } = keyPair();
  const cert = baseCert(cn, publicKey);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

/** A leaf certificate signed by `ca`: `server` gets localhost / 127.0.0.1 SANs, `client` the clientAuth usage. */
export function issueCert(ca: Pem, cn: string, usage: 'server' | 'client'): Pem {
  const { keyPem, publicKey } = keyPair();
  const cert = baseCert(cn, publicKey);
  cert.setIssuer(forge.pki.certificateFromPem(ca.cert).subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    usage === 'server'
      ? { name: 'extKeyUsage', serverAuth: true }
      : { name: 'extKeyUsage', clientAuth: true },
    ...(usage === 'server'
      ? [
          {
            name: 'subjectAltName',
            altNames: [
              { type: 2, value: 'localhost' },
              { type: 7, ip: '127.0.0.1' },
            ],
          },
        ]
      : []),
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

export interface TestPki {
  /** Signs the serving certificate (what the APIService caBundle would hold). */
  servingCa: Pem;
  server: Pem;
  /** The request-header (front-proxy) CA and the aggregator's client certificate. */
  requestheaderCa: Pem;
  frontProxy: Pem;
  /** Signed by the request-header CA but with another CN (for --requestheader-allowed-names). */
  otherClient: Pem;
  /** A client certificate from an unrelated CA. */
  strangerClient: Pem;
  /** The same material as files, for the CLI. */
  files: { dir: string; serverCert: string; serverKey: string; requestheaderCa: string };
}

let cached: TestPki | undefined;

/**
 * One PKI per test file (generation takes a moment on a busy machine); call it at the file's top level.
 * The fast tier's files share this module (no per-file isolation), so the file that made it removes its
 * files and forgets it when it is done, and the next file makes its own.
 */
export function testPki(): TestPki {
  if (cached) return cached;
  const servingCa = createCa('kq-test-serving-ca');
  const requestheaderCa = createCa('kq-test-front-proxy-ca');
  const strangerCa = createCa('some-other-ca');
  const server = issueCert(servingCa, 'kq-metrics-adapter', 'server');
  const dir = mkdtempSync(join(tmpdir(), 'kq-adapter-pki-'));
  // testPki() is called at the top of a test file, so this runs when that file is done.
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    cached = undefined;
  });
  const files = {
    dir,
    serverCert: join(dir, 'tls.crt'),
    serverKey: join(dir, 'tls.key'),
    requestheaderCa: join(dir, 'requestheader-client-ca-file'),
  };
  writeFileSync(files.serverCert, server.cert);
  writeFileSync(files.serverKey, server.key);
  writeFileSync(files.requestheaderCa, requestheaderCa.cert);
  cached = {
    servingCa,
    server,
    requestheaderCa,
    frontProxy: issueCert(requestheaderCa, 'front-proxy-client', 'client'),
    otherClient: issueCert(requestheaderCa, 'not-the-aggregator', 'client'),
    strangerClient: issueCert(strangerCa, 'front-proxy-client', 'client'),
    files,
  };
  return cached;
}

/** The HPA's service account, as the aggregator names it in `X-Remote-User`. */
export const HPA_USER = 'system:serviceaccount:kube-system:horizontal-pod-autoscaler';

/** How the API server's aggregator calls the adapter for the HPA: serving CA, front-proxy client cert. */
export function asAggregator(pki: TestPki, timeoutMs?: number) {
  return {
    ca: pki.servingCa.cert,
    client: pki.frontProxy,
    headers: { 'X-Remote-User': HPA_USER },
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

/** `kq metrics-adapter` flags that serve the test PKI's certificate and trust its front-proxy CA. */
export function adapterTlsArgs(pki: TestPki): string[] {
  return [
    `--tls-cert-file=${pki.files.serverCert}`,
    `--tls-private-key-file=${pki.files.serverKey}`,
    `--requestheader-client-ca-file=${pki.files.requestheaderCa}`,
  ];
}
