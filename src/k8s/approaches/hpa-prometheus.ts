/**
 * Approach 3c: Prometheus scrapes the API's `GET /metrics`, prometheus-adapter serves its
 * `kq_queue_backlog{queue}` gauge as an External metric, and a plain HPA scales the workers on it.
 *
 * Every API replica reports the same backlog (each reads Redis), so the adapter takes `max`, not `sum`,
 * across pods; `or vector(0)` makes an empty or unknown queue answer 0 instead of "no metric" (an error for
 * the HPA). The two ConfigMaps go to the monitoring namespace: the adapter's rules (use with the Helm
 * chart's `rules.existing`) and a scrape job for Prometheus (`additionalScrapeConfigs`), which sends an
 * API token because `/metrics` is not public.
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { stringify } from 'yaml';
import { API_PORT, labels, type RenderContext } from '../common.js';
import { workerDeployment } from './deployment.js';
import { BACKLOG_METRIC, externalBacklogHpa } from './external-hpa.js';

export const SCRAPE_TOKEN_FILE = '/etc/prometheus/secrets/kq-scrape-token/token';

export function adapterRules() {
  return {
    externalRules: [
      {
        seriesQuery: `${BACKLOG_METRIC}{namespace!="",queue!=""}`,
        resources: { overrides: { namespace: { resource: 'namespace' } } },
        name: { matches: `^${BACKLOG_METRIC}$`, as: BACKLOG_METRIC },
        metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (queue) or vector(0)',
      },
    ],
  };
}

export function scrapeConfig(ctx: RenderContext) {
  return [
    {
      job_name: 'kq-api',
      // /metrics needs an API token: one token alone in this file (Secret kq-scrape-token, which the
      // Prometheus Operator mounts under /etc/prometheus/secrets/ when listed in `spec.secrets`).
      authorization: { type: 'Bearer', credentials_file: SCRAPE_TOKEN_FILE },
      kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [ctx.o.namespace] } }],
      relabel_configs: [
        {
          source_labels: [
            '__meta_kubernetes_pod_label_app_kubernetes_io_part_of',
            '__meta_kubernetes_pod_label_app_kubernetes_io_component',
          ],
          regex: 'kq;api',
          action: 'keep',
        },
        {
          source_labels: ['__meta_kubernetes_pod_ip'],
          target_label: '__address__',
          replacement: `$1:${API_PORT}`,
        },
        { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      ],
    },
  ];
}

export function hpaPrometheusApproach(ctx: RenderContext) {
  const ns = ctx.o.monitoringNamespace;
  return [
    workerDeployment(ctx),
    externalBacklogHpa(ctx),
    new ConfigMap({
      metadata: {
        name: 'kq-prometheus-adapter-config',
        namespace: ns,
        labels: labels('kq-prometheus-adapter-config', 'api'),
      },
      data: { 'config.yaml': stringify(adapterRules()) },
    }),
    new ConfigMap({
      metadata: {
        name: 'kq-prometheus-scrape',
        namespace: ns,
        labels: labels('kq-prometheus-scrape', 'api'),
      },
      data: { 'kq-scrape.yaml': stringify(scrapeConfig(ctx)) },
    }),
  ];
}
