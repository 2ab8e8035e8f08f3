/**
 * Each kq container of the manifests, started for real from its rendered args and env (ports remapped
 * to free ones, Redis pointed at the test server, mounted files at their rendered paths under a temp
 * root), answers its rendered liveness and readiness probes. So env names, args, file paths and probe
 * paths are the ones the code actually uses, not just names that look right.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { afterAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { BACKLOG_METRIC } from '../../src/k8s/approaches/external-hpa.js';
import { adapterRules, scrapeConfig } from '../../src/k8s/approaches/hpa-prometheus.js';
import { directoryKeys } from '../../src/queue/keys.js';
import { registerQueue } from '../../src/queue/queue-directory.js';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { createCa, issueCert, type Pem } from '../metrics-adapter/certs.js';
import { get, metricPath } from '../metrics-adapter/https-client.js';
import { type FoundContainer, kqContainers, manifestOptions, render } from './manifest-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'kq-mounts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

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
function mountFiles({ pod, container }: FoundContainer): Pem {
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
  return frontProxyCa;
}

/**
 * hpa-prometheus's rule and scrape job fit this API: the scrape job keeps this pod by its labels, sends
 * a bearer token, and /metrics serves the series the adapter rule queries, per queue.
 */
async function checkScrapeTarget({ obj }: FoundContainer, port: number, token: string): Promise<void> {
  const rule = adapterRules().externalRules[0];
  const job = scrapeConfig({ o: manifestOptions(), external: undefined })[0];
  const labels = (obj.spec as { template: { metadata: { labels: Record<string, string> } } }).template
    .metadata.labels;
  const keep = job?.relabel_configs[0];
  // Prometheus exposes pod labels as __meta_kubernetes_pod_label_<name with invalid chars as _>.
  const meta = Object.fromEntries(
    Object.entries(labels).map(([k, v]) => [
      `__meta_kubernetes_pod_label_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`,
      v,
    ]),
  );
  const joined = (keep?.source_labels ?? []).map((l) => meta[l] ?? '').join(';');
  expect(joined).toBe(keep?.regex);
  expect(job?.authorization.type).toBe('Bearer');
  const t = useTestQueue();
  await t.bull.add('noop', {});
  // Added with bare BullMQ, as another producer would: the API lists registered queues (no keyspace scan).
  await registerQueue(t.redis, t.prefix, t.queue);
  onTestFinished(async () => {
    await t.redis.srem(directoryKeys(t.prefix).queues, t.queue);
  });
  const series = `${BACKLOG_METRIC}{queue="${t.queue}"} 1`;
  expect(rule?.seriesQuery.startsWith(`${BACKLOG_METRIC}{`)).toBe(true);
  const scrape = (auth?: string) =>
    fetch(`http://127.0.0.1:${port}/metrics`, { headers: auth ? { authorization: `Bearer ${auth}` } : {} });
  expect((await scrape()).status).toBe(401);
  await waitFor(
    `/metrics to show ${series}`,
    async () => (await (await scrape(token)).text()).includes(series),
    {
      timeoutMs: 15_000,
      intervalMs: 250,
    },
  );
}

/**
 * hpa-adapter's HPA asks for exactly what the adapter serves: its metric name and `queue` selector, as
 * the aggregator would send it (front-proxy client cert with the rendered allowed name), answer the
 * queue's real backlog.
 */
async function checkHpaQuery(port: number, frontProxyCa: Pem, env: Record<string, string>): Promise<void> {
  const objects = render('hpa-adapter');
  const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler');
  if (!hpa) throw new Error('hpa-adapter renders no HorizontalPodAutoscaler');
  const metric = (
    hpa.spec as {
      metrics: {
        external: { metric: { name: string; selector: { matchLabels: Record<string, string> } } };
      }[];
    }
  ).metrics[0]?.external.metric;
  expect(metric?.selector.matchLabels).toEqual({ queue: 'jobs' });
  const allowed = (env.REQUESTHEADER_ALLOWED_NAMES ?? '').split(',')[0] ?? '';
  const client = issueCert(frontProxyCa, allowed, 'client');
  const t = useTestQueue(undefined, env.KQ_PREFIX);
  await t.bull.add('noop', {});
  await t.bull.add('noop', {});
  const reply = await get(port, metricPath(metric?.name ?? '', `queue=${t.queue}`, hpa?.metadata.namespace), {
    insecure: true,
    client,
    headers: { 'X-Remote-User': 'system:serviceaccount:kube-system:horizontal-pod-autoscaler' },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const items = (reply.body as { items: { value: string; metricName: string }[] }).items;
  expect(items.map((i) => [i.metricName, i.value])).toEqual([[metric?.name, '2']]);
}

describe('containers start from their rendered args and env and pass their probes', () => {
  const containers = kqContainers(render('hpa-adapter'));
  for (const name of ['worker', 'api', 'metrics-adapter']) {
    it(name, async () => {
      const found = containers.find((c) => c.container.name === name);
      if (!found) throw new Error(`no ${name} container rendered`);
      const { container } = found;
      const frontProxyCa = mountFiles(found);
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
        if (name === 'api') await checkScrapeTarget(found, port, env.API_TOKENS as string);
        if (name === 'metrics-adapter') await checkHpaQuery(port, frontProxyCa, env);
      } finally {
        proc.kill('SIGTERM');
        await proc.waitForExit(30_000);
      }
    });
  }
});
