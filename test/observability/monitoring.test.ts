/**
 * `kq manifests monitoring`: the dashboard's structure (what Grafana's JSON model needs), the ConfigMap
 * the Grafana sidecar loads, the committed deploy/monitoring/, and that every metric name in the
 * dashboard's and the alerts' expressions is served by a live worker, API or keda-scaler /metrics.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALERTS,
  FAILURE_RATIO_ALERT,
  OLDEST_WAITING_ALERT_SECONDS,
} from '../../src/k8s/monitoring/alerts.js';
import { DATASOURCE_UID, dashboard } from '../../src/k8s/monitoring/dashboard.js';
import { monitoringFiles, monitoringObjects, monitoringYaml } from '../../src/k8s/monitoring/render.js';
import { APPROACH_NAMES, renderObjects } from '../../src/k8s/render.js';
import { AUTH, testApp } from '../api/app-fixture.js';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { manifestOptions } from '../k8s/manifest-fixture.js';
import { spawnWorker } from '../worker/helpers.js';

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: { containers?: { args?: string[]; ports?: { name?: string }[] }[] };
}

/** Pod templates anywhere in an object: a `template` whose spec has containers. */
function findPodTemplates(node: unknown): PodTemplate[] {
  if (typeof node !== 'object' || node === null) return [];
  const found: PodTemplate[] = [];
  const t = (node as { template?: PodTemplate }).template;
  if (t?.spec?.containers) found.push(t);
  for (const v of Object.values(node)) found.push(...findPodTemplates(v));
  return found;
}

interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource: { type: string; uid: string };
  targets: { expr: string; refId: string; datasource: { uid: string } }[];
}

const panels = () => (dashboard() as { panels: DashboardPanel[] }).panels;
const expressions = () => [
  ...panels().flatMap((p) => p.targets.map((t) => t.expr)),
  ...ALERTS.map((a) => a.expr),
];

/** The kq metric names an expression reads; a histogram's `_bucket` series names its histogram. */
const metricNames = (expr: string) => [...expr.matchAll(/\bkq_[a-z_]+\b/g)].map((m) => m[0]);

/** Metric names a /metrics text declares (`# TYPE name type`), with each histogram's series names. */
function declared(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name as string);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
  }
  return names;
}

describe('monitoring: dashboard and alerts', () => {
  it('the dashboard is a Grafana JSON model: schemaVersion, a datasource variable, panels with targets', () => {
    const d = dashboard() as {
      schemaVersion: number;
      uid: string;
      templating: { list: { name: string; type: string; query: unknown }[] };
    };
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    const vars = d.templating.list;
    expect(vars.find((v) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    const ids = new Set<number>();
    for (const p of panels()) {
      expect(p.type).toBe('timeseries');
      expect(ids.has(p.id), `duplicate panel id ${p.id}`).toBe(false);
      ids.add(p.id);
      expect(p.datasource.uid).toBe(DATASOURCE_UID);
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
      for (const t of p.targets) expect(t.datasource.uid).toBe(DATASOURCE_UID);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
    // Panels never overlap on Grafana's 24-column grid.
    const cells = new Set<string>();
    for (const { gridPos: g, title } of panels())
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps another panel`).toBe(false);
          cells.add(`${x},${y}`);
        }
    // Every variable a panel uses is defined.
    const defined = new Set(vars.map((v) => v.name));
    for (const expr of expressions())
      for (const [, v] of expr.matchAll(/\$(\w+)/g)) if (!v?.startsWith('__')) expect(defined).toContain(v);
  });

  it('the ConfigMap carries the dashboard under the Grafana sidecar’s label', () => {
    const [cm] = monitoringObjects({ namespace: 'jobs' }) as {
      kind: string;
      metadata: { namespace: string; labels: Record<string, string> };
      data: Record<string, string>;
    }[];
    expect(cm?.kind).toBe('ConfigMap');
    expect(cm?.metadata.namespace).toBe('jobs');
    expect(cm?.metadata.labels.grafana_dashboard).toBe('1');
    expect(JSON.parse(cm?.data['kq.json'] ?? '')).toEqual(dashboard());
  });

  it('deploy/monitoring/ matches the generator, and `kq manifests monitoring` prints it', async () => {
    const deploy = resolve(import.meta.dirname, '../../deploy');
    for (const [file, text] of Object.entries(monitoringFiles({ namespace: 'kq' }))) {
      const path = resolve(deploy, file);
      const committed = existsSync(path) ? readFileSync(path, 'utf8') : '(missing)';
      expect(committed, `deploy/${file} is out of date: run \`npm run manifests\``).toBe(text);
    }
    expect(existsSync(resolve(deploy, 'monitoring/README.md'))).toBe(true);
    const cli = spawnKq(['manifests', 'monitoring', '--namespace', 'jobs'], {});
    expect((await cli.waitForExit()).code).toBe(0);
    expect(cli.output()).toBe(monitoringYaml({ namespace: 'jobs' }));
  });

  it('docs/observability.md has a section per alert, and states its thresholds', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/observability.md'), 'utf8');
    for (const a of ALERTS) {
      expect(doc).toContain(`### ${a.alert}\n\n\`${a.labels.severity}\`.`);
      expect(a.annotations.runbook).toBe(`docs/observability.md#${a.alert.toLowerCase()}`);
    }
    expect(doc).toContain(`more than ${OLDEST_WAITING_ALERT_SECONDS} s`);
    expect(doc).toContain(`More than ${FAILURE_RATIO_ALERT * 100} %`);
  });

  it('the PodMonitors find a port of their name on every kq pod they select, in every approach', () => {
    const monitors = monitoringObjects({ namespace: 'kq' }).filter((o) => o.kind === 'PodMonitor') as {
      spec: {
        selector: { matchExpressions: { values: string[] }[] };
        podMetricsEndpoints: { port: string }[];
      };
    }[];
    const portOf = new Map<string, string>();
    for (const m of monitors)
      for (const c of m.spec.selector.matchExpressions[0]?.values ?? [])
        portOf.set(c, m.spec.podMetricsEndpoints[0]?.port ?? '');
    const seen = new Set<string>();
    for (const name of APPROACH_NAMES) {
      for (const obj of renderObjects(name, manifestOptions())) {
        const text = JSON.stringify(obj.toJSON());
        // Every pod template in the object (Deployment, Job, CronJob, ScaledJob) with its labels and ports.
        for (const tpl of findPodTemplates(JSON.parse(text))) {
          const component = tpl.metadata?.labels?.['app.kubernetes.io/component'];
          const port = component ? portOf.get(component) : undefined;
          if (!component || port === undefined) continue;
          // A pod running another command under the same component (the ScaledJob's `kq sweep`) serves no metrics.
          const commands = (tpl.spec?.containers ?? []).map((c) => c.args?.[0]);
          if (!commands.includes(component)) continue;
          seen.add(component);
          const ports = (tpl.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.name));
          expect(ports, `${name}: ${component} pods have no port ${port}`).toContain(port);
        }
      }
    }
    expect([...seen].sort()).toEqual(['api', 'keda-scaler', 'worker']);
  });

  it('every metric the dashboard and the alerts read is served by a live worker, API or keda-scaler', async () => {
    const t = useTestQueue();
    const port = await freePort();
    const worker = spawnWorker(t, { HEALTH_PORT: String(port) });
    const scaler = spawnKq(['keda-scaler'], { REDIS_URL: t.redisUrl, SCALER_PORT: '0', HEALTH_PORT: '0' });
    const app = await testApp(t);
    try {
      await worker.waitForLog('started', (l) => l.event === 'worker.started');
      const line = await scaler.waitForLog('listening', (l) => l.event === 'keda-scaler.listening');
      const texts = [
        await waitFor('worker /metrics', async () =>
          (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
        ),
        await (await fetch(`http://127.0.0.1:${line.healthPort}/metrics`)).text(),
        (await app.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body,
      ];
      const served = new Set(texts.flatMap((text) => [...declared(text)]));
      const used = new Set(expressions().flatMap(metricNames));
      expect(used.size).toBeGreaterThan(10);
      expect([...used].filter((n) => !served.has(n))).toEqual([]);
      // docs/observability.md names only served metrics, and lists every metric the three serve.
      const doc = readFileSync(resolve(import.meta.dirname, '../../docs/observability.md'), 'utf8');
      // Served only while tracing is on (test/tracing/traces.test.ts reads it from both processes).
      const withTracing = new Set(['kq_trace_spans_dropped_total']);
      expect(metricNames(doc).filter((n) => !served.has(n) && !withTracing.has(n))).toEqual([]);
      const listed = new Set([...doc.matchAll(/^\| `(kq_[a-z_]+)` \|/gm)].map((m) => m[1]));
      const base = [...served].filter(
        (n) => !/_(bucket|sum|count)$/.test(n) || !served.has(n.replace(/_(bucket|sum|count)$/, '')),
      );
      expect(base.filter((n) => !listed.has(n))).toEqual([]);
    } finally {
      worker.kill('SIGTERM');
      scaler.kill('SIGTERM');
      await worker.waitForExit();
      await scaler.waitForExit();
      await app.close();
    }
  });
});
