/**
 * Each kq container of the manifests, started for real from its rendered args and env (ports remapped
 * to free ones, Redis pointed at the test server, mounted files at their rendered paths under a temp
 * root), answers its rendered liveness and readiness probes. So env names, args, file paths and probe
 * paths are the ones the code actually uses, not just names that look right.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { spawnKq } from '../helpers/kq-process.js';
import { waitFor } from '../helpers/wait.js';
import { createCa, issueCert } from '../metrics-adapter/certs.js';
import { type FoundContainer, kqContainers, render } from './manifest-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'kq-mounts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function probe(p: IProbe | undefined, port: number): Promise<number> {
  const get = p?.httpGet;
  if (!get) throw new Error('not an HTTP probe');
  const request = get.scheme === 'HTTPS' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // Like the kubelet: no client certificate, no server certificate verification.
    const req = request(
      { host: '127.0.0.1', port, path: get.path, rejectUnauthorized: false, agent: false, timeout: 5000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Writes what the pod's volumes would hold, at the rendered mount paths under `root`. */
function mountFiles({ pod, container }: FoundContainer): void {
  const ca = createCa('serving-ca');
  const serving = issueCert(ca, 'kq-metrics-adapter', 'server');
  const frontProxyCa = createCa('front-proxy-ca');
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    const dir = join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true });
    if (volume?.secret?.secretName === 'kq-metrics-adapter-tls') {
      // A kubernetes.io/tls Secret's keys.
      writeFileSync(join(dir, 'tls.crt'), serving.cert);
      writeFileSync(join(dir, 'tls.key'), serving.key);
    }
    if (volume?.configMap?.name === 'kq-requestheader-ca')
      writeFileSync(join(dir, 'requestheader-client-ca-file'), frontProxyCa.cert);
  }
}

describe('containers start from their rendered args and env and pass their probes', () => {
  const containers = kqContainers(render('hpa-adapter'));
  for (const name of ['worker', 'api', 'metrics-adapter']) {
    it(name, async () => {
      const found = containers.find((c) => c.container.name === name);
      if (!found) throw new Error(`no ${name} container rendered`);
      const { container } = found;
      mountFiles(found);
      const port = await freePort();
      const portEnv = { worker: 'HEALTH_PORT', api: 'PORT', 'metrics-adapter': 'SECURE_PORT' }[
        name
      ] as string;
      const rendered = container.env ?? [];
      // Secret-backed values are stand-ins; REDIS_URL is replaced by the test server's below.
      const env: Record<string, string> = { API_TOKENS: 'a'.repeat(32) };
      for (const e of rendered) {
        if (e.valueFrom) continue;
        env[e.name] = (e.value ?? '').startsWith('/var/run/')
          ? join(root, e.value as string)
          : (e.value as string);
      }
      expect(Object.keys(env)).toContain(portEnv);
      const renderedPort = Number(env[portEnv]);
      expect(container.livenessProbe?.httpGet?.port).toBe(renderedPort);
      expect(container.readinessProbe?.httpGet?.port).toBe(renderedPort);
      env[portEnv] = String(port);
      env.REDIS_URL = inject('redisUrl');
      const proc = spawnKq(container.args ?? [], env, `kq ${name} from the manifest`);
      try {
        await waitFor(
          `${name} readiness probe to pass`,
          async () => (await probe(container.readinessProbe, port)) === 200,
          {
            timeoutMs: 30_000,
            intervalMs: 200,
          },
        ).catch((err: Error) => {
          throw new Error(`${err.message}\n--- ${name} output:\n${proc.output().slice(-1500)}`);
        });
        expect(await probe(container.livenessProbe, port)).toBe(200);
      } finally {
        proc.kill('SIGTERM');
        await proc.waitForExit(30_000);
      }
    });
  }
});
