/**
 * Approach 3c: Prometheus scrapes the API's `GET /metrics`, prometheus-adapter serves its
 * `kq_queue_backlog{queue}` gauge as an External metric, and a plain HPA scales the workers on it.
 *
 * Every API replica reports the same backlog (each reads Redis), so the adapter takes `max`, not `sum`,
 * across pods; `or vector(0)` makes an empty or unknown queue answer 0 instead of "no metric" (an error for
 * the HPA).
 *
 * The adapter's rule ships as a values file for the prometheus-community/prometheus-adapter chart, under
 * `rules.external`: the chart renders its external-metrics APIService, ClusterRole and the HPA
 * controller's binding only `if .Values.rules.external` (a ConfigMap passed as `rules.existing` left all
 * three out, so the HPA got FailedGetExternalMetric). `rules.default: false` drops the chart's container
 * rules, which would claim custom.metrics.k8s.io for nothing kq needs. See docs/deploy.md.
 *
 * The scrape job for Prometheus goes to the monitoring namespace as a Secret, because the Prometheus
 * Operator's `additionalScrapeConfigs` is a Secret key selector; it sends an API token because `/metrics`
 * is not public.
 */
import { Secret } from 'kubernetes-models/v1/Secret';
import { stringify } from 'yaml';
import { API_PORT, labels, type RenderContext } from '../common.js';
import { workerDeploymentObjects } from './deployment.js';
import { BACKLOG_METRIC, externalBacklogHpa } from './external-hpa.js';

export const SCRAPE_SECRET = { name: 'kq-prometheus-scrape', key: 'kq-scrape.yaml' } as const;
export const ADAPTER_VALUES_FILE = 'prometheus-adapter-values.yaml';
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

/** Helm values for prometheus-community/prometheus-adapter: kq's rule as an external rule, nothing else. */
export function prometheusAdapterValues() {
  return { rules: { default: false, custom: [], external: adapterRules().externalRules } };
}

export function prometheusAdapterValuesYaml(): string {
  return [
    '# Rendered by: kq manifests hpa-prometheus --out-dir. Do not edit; render again with `kq manifests hpa-prometheus --out-dir <dir>`.',
    '# Helm values for prometheus-community/prometheus-adapter (see README.md next to this file):',
    `#   helm install prometheus-adapter prometheus-community/prometheus-adapter -n monitoring \\`,
    `#     -f ${ADAPTER_VALUES_FILE} --set prometheus.url=http://<prometheus>.monitoring.svc`,
    '# rules.external: the chart renders its external.metrics.k8s.io APIService, ClusterRole and HPA binding',
    '# only when this list is non-empty. rules.default: false: no custom.metrics.k8s.io rules.',
    stringify(prometheusAdapterValues(), { lineWidth: 0 }),
  ].join('\n');
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
    ...workerDeploymentObjects(ctx),
    externalBacklogHpa(ctx),
    // No secret in it (the token is a file Prometheus reads); a Secret because that is what
    // `additionalScrapeConfigs` accepts.
    new Secret({
      metadata: { name: SCRAPE_SECRET.name, namespace: ns, labels: labels(SCRAPE_SECRET.name, 'api') },
      type: 'Opaque',
      stringData: { [SCRAPE_SECRET.key]: stringify(scrapeConfig(ctx)) },
    }),
  ];
}
