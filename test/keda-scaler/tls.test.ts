/**
 * TLS as KEDA's `enableTLS` / `caCert` / `tlsClientCert` / `tlsClientKey` use it: the server certificate
 * always, client certificates checked when the scaler has a client CA.
 */
import { credentials, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { createCa, issueCert } from '../metrics-adapter/certs.js';
import { scalerClient, startScaler, statusOf } from './scaler-fixture.js';

const serverCa = createCa('kq-test-scaler-ca');
const server = issueCert(serverCa, 'kq-keda-scaler', 'server');
const clientCa = createCa('kq-test-keda-client-ca');
const keda = issueCert(clientCa, 'keda-operator', 'client');
const stranger = issueCert(createCa('some-other-ca'), 'keda-operator', 'client');

const trustServer = (client?: { cert: string; key: string }) =>
  credentials.createSsl(
    Buffer.from(serverCa.cert),
    client ? Buffer.from(client.key) : null,
    client ? Buffer.from(client.cert) : null,
  );

describe('TLS', () => {
  it('server certificate only: a client trusting its CA is served, a plaintext client is not', async () => {
    const t = useTestQueue();
    await t.bull.add('work', {});
    const scaler = await startScaler(t.redisUrl, { tls: { cert: server.cert, key: server.key } });
    const good = scalerClient(`localhost:${scaler.port}`, trustServer());
    expect(await good.isActive({ queue: t.queue })).toBe(true);
    const plain = scalerClient(`localhost:${scaler.port}`);
    expect((await statusOf(plain.isActive({ queue: t.queue }))).code).toBe(status.UNAVAILABLE);
    const untrusting = scalerClient(
      `localhost:${scaler.port}`,
      credentials.createSsl(Buffer.from(clientCa.cert)),
    );
    expect((await statusOf(untrusting.isActive({ queue: t.queue }))).code).toBe(status.UNAVAILABLE);
    for (const c of [good, plain, untrusting]) c.close();
    await scaler.close();
  });

  it('with a client CA: only clients presenting a certificate it signed are served', async () => {
    const t = useTestQueue();
    await t.bull.add('work', {});
    const scaler = await startScaler(t.redisUrl, {
      tls: { cert: server.cert, key: server.key, clientCa: clientCa.cert },
    });
    const address = `localhost:${scaler.port}`;
    const withCert = scalerClient(address, trustServer(keda));
    expect(await withCert.isActive({ queue: t.queue })).toBe(true);
    const stream = withCert.stream({ queue: t.queue });
    await stream.next(true);
    stream.cancel();
    const noCert = scalerClient(address, trustServer());
    expect((await statusOf(noCert.isActive({ queue: t.queue }))).code).toBe(status.UNAVAILABLE);
    const wrongCa = scalerClient(address, trustServer(stranger));
    expect((await statusOf(wrongCa.getMetrics({ queue: t.queue }))).code).toBe(status.UNAVAILABLE);
    for (const c of [withCert, noCert, wrongCa]) c.close();
    await scaler.close();
  });
});
