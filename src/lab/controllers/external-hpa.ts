/**
 * Approaches `hpa-prometheus` and `hpa-adapter`: a plain HPA on the External metric `kq_queue_backlog`
 * (minReplicas, maxReplicas, behavior, AverageValue target from the rendered HPA). The metric arrives
 * late by each pipeline's delay: Prometheus's scrape interval (from the rendered scrape config Secret
 * when it sets one, else the lab's --scrape-interval-seconds), or the adapter's cache lifetime.
 */
import { parse } from 'yaml';
import { SCRAPE_SECRET } from '../../k8s/approaches/hpa-prometheus.js';
import { WORKER_NAME } from '../../k8s/common.js';
import { sampledMetric } from '../queue-metrics.js';
import { type Controller, type ControllerDeps, every } from './controller.js';
import { createHpa, HPA_SYNC_MS } from './hpa.js';
import { findObject, podSpecOf, quantity, type RenderedObject } from './objects.js';
import { createReplicaSet, rolloutStrategy } from './replica-set.js';

function durationMs(text: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/**
 * The scrape interval the rendered scrape config (the Secret `kq-prometheus-scrape`, key `kq-scrape.yaml`)
 * sets for kq's job; undefined when it sets none (Prometheus's global interval applies). An approach
 * without that Secret is an error: the lab would otherwise play a made-up delay without saying so.
 */
export function renderedScrapeInterval(objects: readonly RenderedObject[]): number | undefined {
  const secret = objects.find((o) => o.kind === 'Secret' && o.metadata?.name === SCRAPE_SECRET.name) as
    | { stringData?: Record<string, string>; data?: Record<string, string> }
    | undefined;
  const encoded = secret?.data?.[SCRAPE_SECRET.key];
  const text =
    secret?.stringData?.[SCRAPE_SECRET.key] ??
    (encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8'));
  if (text === undefined) {
    throw new Error(
      `kq lab: the rendered hpa-prometheus approach has no Secret ${SCRAPE_SECRET.name} with key ${SCRAPE_SECRET.key} (its Prometheus scrape config)`,
    );
  }
  const jobs = parse(text) as { scrape_interval?: string }[];
  const interval = jobs?.[0]?.scrape_interval;
  if (interval === undefined) return undefined;
  const ms = durationMs(interval);
  if (ms === undefined)
    throw new Error(
      `kq lab: scrape_interval ${JSON.stringify(interval)} is not a duration the lab reads (e.g. 30s)`,
    );
  return ms;
}

/** Long enough to see the scale-in start after the stabilization window. */
export function hpaTailMs(objects: readonly RenderedObject[]): number {
  const h = findObject(objects, 'HorizontalPodAutoscaler');
  return (h.spec?.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300) * 1000 + 2 * HPA_SYNC_MS;
}

export function hpaController(
  name: 'hpa-prometheus' | 'hpa-adapter',
  objects: readonly RenderedObject[],
  deps: ControllerDeps,
): Controller {
  const d = findObject(objects, 'Deployment');
  const h = findObject(objects, 'HorizontalPodAutoscaler');
  const metric = h.spec?.metrics?.[0]?.external;
  if (!metric?.target.averageValue) throw new Error('kq lab: the HPA has no External AverageValue metric');
  const rs = createReplicaSet(
    deps.runner,
    podSpecOf(d.spec?.template, 'Deployment'),
    WORKER_NAME,
    d.spec?.replicas ?? 1,
  );
  const hpa = createHpa(rs, {
    minReplicas: h.spec?.minReplicas ?? 1,
    maxReplicas: h.spec?.maxReplicas ?? 1,
    target: quantity(metric.target.averageValue, 'HPA averageValue'),
    behavior: h.spec?.behavior,
  });
  const delayMs =
    name === 'hpa-prometheus'
      ? (renderedScrapeInterval(objects) ?? deps.scrapeIntervalMs)
      : deps.adapterCacheMs;
  const source = sampledMetric(delayMs, () => deps.source.backlog(deps.prefix, deps.queue));
  const sync = every(HPA_SYNC_MS);
  return {
    tailMs: hpaTailMs(objects),
    notes: [
      `HPA on ${metric.metric.name} (${name === 'hpa-prometheus' ? `Prometheus scrape every ${delayMs / 1000} s` : `kq metrics-adapter, cached ${delayMs / 1000} s`}): replicas ${h.spec?.minReplicas ?? 1}-${h.spec?.maxReplicas}, target ${metric.target.averageValue} per pod, sync ${HPA_SYNC_MS / 1000} s, tolerance 0.1, stabilization windows ${hpa.windows}`,
    ],
    atRest() {
      rs.replicas = Math.max(rs.replicas, h.spec?.minReplicas ?? 1);
      rs.reconcile();
    },
    rollout: () => rs.rollout(rolloutStrategy(d, rs.replicas)),
    busy: () => rs.rollingOut,
    async tick(now) {
      const value = await source.read(now);
      const syncAt = sync(now);
      if (syncAt !== undefined) hpa.sync(syncAt, value);
      rs.reconcile();
    },
    stats: () => ({
      rolledOut: rs.rolledOut,
      replicas: rs.replicas,
      maxReplicasSeen: Math.max(rs.replicas, ...hpa.decisions.map(([, r]) => r)),
      metricDelayS: delayMs / 1000,
    }),
  };
}
