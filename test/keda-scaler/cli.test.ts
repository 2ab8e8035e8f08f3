/** `kq keda-scaler` as shipped (the bundled dist/cli.js): flags, TLS files, health port, SIGTERM. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { uniqueName, useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { createCa, issueCert } from '../metrics-adapter/certs.js';
import { scalerClient } from './scaler-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'kq-scaler-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca = createCa('kq-test-scaler-ca');
const server = issueCert(ca, 'kq-keda-scaler', 'server');
const keda = issueCert(ca, 'keda-operator', 'client');
const files = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), ca: join(dir, 'ca.crt') };
writeFileSync(files.cert, server.cert);
writeFileSync(files.key, server.key);
writeFileSync(files.ca, ca.cert);

async function configError(args: string[], env: Record<string, string> = {}): Promise<string> {
  const p = spawnKq(['keda-scaler', ...args], { REDIS_URL: inject('redisUrl'), ...env });
  const { code } = await p.waitForExit();
  expect(code).toBe(2);
  return p.output();
}

describe('kq keda-scaler', () => {
  it('rejects bad options naming the option, the value and the rule', async () => {
    expect(await configError(['--port', 'x'])).toMatch(
      /Invalid --port \(env SCALER_PORT\): "x" must be a whole number from 0 to 65535/,
    );
    expect(await configError([], { SCALER_PORT: '70000' })).toMatch(/SCALER_PORT \(flag --port\)/);
    expect(await configError(['--tls-cert-file', files.cert])).toMatch(/--tls-private-key-file is missing/);
    expect(await configError(['--client-ca-file', files.ca])).toMatch(
      /--client-ca-file needs --tls-cert-file/,
    );
    expect(await configError(['--tls-cert-file', files.key, '--tls-private-key-file', files.key])).toMatch(
      /--tls-cert-file .* holds no PEM block/,
    );
  });

  it('takes REDIS_PASSWORD like every command (the URL carries none)', async () => {
    const server = await startRedisServer();
    const admin = server.client();
    const queue = uniqueName('pw');
    const bull = new Queue(queue, { connection: admin });
    try {
      await admin.config('SET', 'requirepass', 'scaler-secret');
      await admin.auth('scaler-secret');
      await bull.add('work', {});
      const p = spawnKq(['keda-scaler'], {
        REDIS_URL: server.url,
        REDIS_PASSWORD: 'scaler-secret',
        SCALER_PORT: '0',
        HEALTH_PORT: '0',
      });
      const line = await p.waitForLog('listening', (l) => l.event === 'keda-scaler.listening');
      const c = scalerClient(`127.0.0.1:${line.port}`, credentials.createInsecure());
      const values = await c.getMetrics({ queue }).catch((err: Error) => err.message);
      c.close();
      p.kill('SIGTERM');
      expect((await p.waitForExit()).code).toBe(0);
      expect(values).toEqual([{ metricName: `kq-backlog-${queue}`, metricValue: 1, metricValueFloat: 1 }]);
    } finally {
      await bull.close();
      admin.disconnect();
      await server.remove();
    }
  });

  it('serves mutual TLS from files, /healthz on the health port, and stops on SIGTERM', async () => {
    const t = useTestQueue();
    await t.bull.add('work', {});
    const p = spawnKq(['keda-scaler', '--bind-address', '127.0.0.1'], {
      REDIS_URL: t.redisUrl,
      SCALER_PORT: '0',
      HEALTH_PORT: '0',
      TLS_CERT_FILE: files.cert,
      TLS_PRIVATE_KEY_FILE: files.key,
      CLIENT_CA_FILE: files.ca,
    });
    const line = await p.waitForLog('listening', (l) => l.event === 'keda-scaler.listening');
    expect(line.tls).toBe('mutual');
    const c = scalerClient(
      `localhost:${line.port}`,
      credentials.createSsl(Buffer.from(ca.cert), Buffer.from(keda.key), Buffer.from(keda.cert)),
    );
    expect(await c.getMetrics({ queue: t.queue })).toEqual([
      { metricName: `kq-backlog-${t.queue}`, metricValue: 1, metricValueFloat: 1 },
    ]);
    const health = await fetch(`http://127.0.0.1:${line.healthPort}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${line.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/kq_keda_scaler_requests_total\{method="GetMetrics",code="OK"\} 1/);
    c.close();
    p.kill('SIGTERM');
    expect((await p.waitForExit()).code).toBe(0);
  });
});
