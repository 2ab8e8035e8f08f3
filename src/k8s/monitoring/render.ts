/**
 * `kq manifests monitoring`: the dashboard and alerts for every approach, as one kustomize folder.
 * A ConfigMap labelled `grafana_dashboard: "1"` (the Grafana Helm chart's dashboard sidecar loads it)
 * a prometheus-operator `PrometheusRule`, and two `PodMonitor`s that make the operator's Prometheus scrape
 * kq's pods: workers and keda-scaler on their health port, the API on its port with a bearer token (its
 * /metrics is not public) from Secret `kq-scrape-token` (key `token`, one API token, created by the user).
 * It is a target of its own rather than a flag on each approach: the metrics are the same whichever
 * approach scales the workers, and a team often runs Prometheus and Grafana apart from the workloads.
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { stringify } from 'yaml';
import { type AlertThresholds, DEFAULT_ALERT_THRESHOLDS, ruleGroups } from './alerts.js';
import { dashboard } from './dashboard.js';

export const DASHBOARD_CONFIGMAP = 'kq-grafana-dashboard';
export const DASHBOARD_FILE = 'kq.json';
export const PROMETHEUS_RULE = 'kq-alerts';
/** The Secret (in kq's namespace) holding the one API token Prometheus scrapes the API with. */
export const SCRAPE_TOKEN_SECRET = { name: 'kq-scrape-token', key: 'token' } as const;

const partOf = { 'app.kubernetes.io/part-of': 'kq' };

/** What `kq manifests monitoring` renders from: the namespace and, optionally, the alerts' thresholds. */
export type MonitoringOptions = { namespace: string } & Partial<AlertThresholds>;

/** The ConfigMap (validated against the Kubernetes schema) and the PrometheusRule, as plain objects. */
export function monitoringObjects(o: MonitoringOptions): Record<string, unknown>[] {
  const configMap = new ConfigMap({
    metadata: {
      name: DASHBOARD_CONFIGMAP,
      namespace: o.namespace,
      labels: { ...partOf, grafana_dashboard: '1' },
    },
    data: { [DASHBOARD_FILE]: `${JSON.stringify(dashboard(), null, 2)}\n` },
  });
  configMap.validate();
  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: PROMETHEUS_RULE, namespace: o.namespace, labels: partOf },
    spec: {
      groups: ruleGroups({
        oldestWaitingAlertSeconds:
          o.oldestWaitingAlertSeconds ?? DEFAULT_ALERT_THRESHOLDS.oldestWaitingAlertSeconds,
        failureRateAlertPercent:
          o.failureRateAlertPercent ?? DEFAULT_ALERT_THRESHOLDS.failureRateAlertPercent,
      }),
    },
  };
  const podMonitor = (name: string, components: string[], endpoint: Record<string, unknown>) => ({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: { name, namespace: o.namespace, labels: partOf },
    spec: {
      selector: {
        matchLabels: partOf,
        matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: components }],
      },
      // The operator adds `namespace` and `pod` labels: the alerts group by namespace.
      podMetricsEndpoints: [{ path: '/metrics', interval: '30s', ...endpoint }],
    },
  });
  return [
    configMap.toJSON() as Record<string, unknown>,
    rule,
    podMonitor('kq-workers', ['worker', 'keda-scaler'], { port: 'health' }),
    podMonitor('kq-api', ['api'], {
      port: 'http',
      authorization: { type: 'Bearer', credentials: SCRAPE_TOKEN_SECRET },
    }),
  ];
}

/** Multi-document YAML of `monitoringObjects`. @example process.stdout.write(monitoringYaml({ namespace: 'kq' })) */
export function monitoringYaml(o: MonitoringOptions): string {
  const header =
    '# Rendered by: kq manifests monitoring. Do not edit; render again with `kq manifests monitoring` and the options you gave.\n';
  return (
    header +
    monitoringObjects(o)
      .map((obj) => stringify(obj, { lineWidth: 0 }))
      .join('---\n')
  );
}

/** The folder `--out-dir` gets: `monitoring/{kq.yaml,kustomization.yaml}` (no Secrets needed). */
export function monitoringFiles(o: MonitoringOptions): Record<string, string> {
  return {
    'monitoring/kq.yaml': monitoringYaml(o),
    'monitoring/kustomization.yaml': stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: ['kq.yaml'],
    }),
  };
}
