/**
 * kq's alerting rules (prometheus-operator `PrometheusRule` groups, also a plain Prometheus rule file).
 * Every expression uses only series kq exports: the API's queue gauges and `kq_redis_up`, the workers'
 * outcome counters, the keda-scaler's request counters. Rules aggregate by
 * `namespace` (added by the scrape) so two kq installs never mix. docs/observability.md says what to do
 * for each alert; test/observability/alerts.test.ts runs a promtool case per alert, firing and quiet.
 */

/** The thresholds of the alerts that have one (`kq manifests monitoring` flags). */
export interface AlertThresholds {
  /** Seconds the oldest waiting job may wait before `KqOldestWaitingJobTooOld`. @default 600 */
  oldestWaitingAlertSeconds: number;
  /** Percent of settled jobs failing for good that raises `KqJobFailureRateHigh`. @default 10 */
  failureRateAlertPercent: number;
}

export const DEFAULT_ALERT_THRESHOLDS: Readonly<AlertThresholds> = {
  oldestWaitingAlertSeconds: 600,
  failureRateAlertPercent: 10,
};
/** The default age of the oldest waiting job that raises `KqOldestWaitingJobTooOld`. */
export const OLDEST_WAITING_ALERT_SECONDS = DEFAULT_ALERT_THRESHOLDS.oldestWaitingAlertSeconds;
/** The default share of settled jobs failing for good that raises `KqJobFailureRateHigh`. */
export const FAILURE_RATIO_ALERT = DEFAULT_ALERT_THRESHOLDS.failureRateAlertPercent / 100;

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: 'critical' | 'warning' | 'info' };
  annotations: { summary: string; description: string; runbook: string };
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

const runbook = (alert: string) => `docs/observability.md#${alert.toLowerCase()}`;

const ns = 'namespace, queue';
const failedRate = `sum by (${ns}) (rate(kq_jobs_failed_total[10m]))`;

/** The rules with the given thresholds. @example alertRules({ ...DEFAULT_ALERT_THRESHOLDS, failureRateAlertPercent: 5 }) */
export function alertRules(t: AlertThresholds = DEFAULT_ALERT_THRESHOLDS): AlertRule[] {
  const oldest = t.oldestWaitingAlertSeconds;
  const percent = t.failureRateAlertPercent;
  // As a ratio for PromQL, without binary noise (7 % is 0.07, not 0.07000000000000001).
  const ratio = Number((percent / 100).toPrecision(12));
  return [
    {
      alert: 'KqBacklogGrowingNoWorkers',
      // No job of the queue was active in Redis for 10 min (read by the API, so it holds for every approach,
      // including one-job pods Prometheus may never scrape), yet the backlog grew.
      expr: `(max by (${ns}) (delta(kq_queue_backlog[15m])) > 0) and on (${ns}) (max by (${ns}) (max_over_time(kq_queue_jobs{state="active"}[10m])) == 0)`,
      for: '10m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Queue {{ $labels.queue }} grows and no worker runs',
        description:
          'The backlog of {{ $labels.queue }} in {{ $labels.namespace }} grew over 15 minutes and none of its jobs ran for 10 minutes: the autoscaler is not starting workers, or they cannot start.',
        runbook: runbook('KqBacklogGrowingNoWorkers'),
      },
    },
    {
      alert: 'KqOldestWaitingJobTooOld',
      expr: `max by (${ns}) (kq_queue_oldest_waiting_age_seconds) > ${oldest}`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `A job of {{ $labels.queue }} has waited more than ${oldest} s`,
        description: `The oldest waiting job of {{ $labels.queue }} in {{ $labels.namespace }} has waited more than ${oldest} s: workers are too few, too slow, or not running.`,
        runbook: runbook('KqOldestWaitingJobTooOld'),
      },
    },
    {
      alert: 'KqJobFailureRateHigh',
      // A queue whose jobs all fail has no completed series: it counts as 0 completed, not as no data.
      expr: `${failedRate} / (${failedRate} + (sum by (${ns}) (rate(kq_jobs_completed_total[10m])) or ${failedRate} * 0)) > ${ratio}`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Over ${percent}% of the jobs of {{ $labels.queue }} fail for good`,
        description: `More than ${percent}% of the jobs of {{ $labels.queue }} in {{ $labels.namespace }} that settled in the last 10 minutes failed for good (attempts used up, invalid payload, unrecoverable).`,
        runbook: runbook('KqJobFailureRateHigh'),
      },
    },
    {
      alert: 'KqStalledJobsRecovered',
      expr: `sum by (${ns}) (increase(kq_jobs_stalled_total[15m])) > 0`,
      labels: { severity: 'info' },
      annotations: {
        summary: 'Jobs of {{ $labels.queue }} lost their worker',
        description:
          'Workers of {{ $labels.queue }} in {{ $labels.namespace }} found jobs whose worker died or froze (lock expired) in the last 15 minutes; they were run again, or failed past MAX_STALLED_COUNT.',
        runbook: runbook('KqStalledJobsRecovered'),
      },
    },
    {
      alert: 'KqRedisDown',
      expr: 'max by (namespace) (kq_redis_up) == 0',
      for: '2m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'kq cannot reach Redis in {{ $labels.namespace }}',
        description:
          'No kq API replica in {{ $labels.namespace }} got an answer from Redis for 2 minutes: no job can be enqueued, started or settled.',
        runbook: runbook('KqRedisDown'),
      },
    },
    {
      alert: 'KqKedaScalerErrors',
      // Either kind of error alone fires: `or`, since a code that never failed has no series to add to.
      expr: '(sum by (namespace) (rate(kq_keda_scaler_requests_total{code!="OK"}[5m])) > 0) or (sum by (namespace) (rate(kq_keda_scaler_redis_errors_total[5m])) > 0)',
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'kq keda-scaler answers KEDA with errors in {{ $labels.namespace }}',
        description:
          'kq keda-scaler in {{ $labels.namespace }} failed gRPC requests or Redis reads for 5 minutes: KEDA keeps the last replica count (or its fallback) and stops scaling on the backlog.',
        runbook: runbook('KqKedaScalerErrors'),
      },
    },
  ];
}

/** The rules with the default thresholds. */
export const ALERTS: AlertRule[] = alertRules();

/** The rule groups: one group, evaluated every 30 s. */
export function ruleGroups(
  t: AlertThresholds = DEFAULT_ALERT_THRESHOLDS,
): (RuleGroup & { interval: string })[] {
  return [{ name: 'kq', interval: '30s', rules: alertRules(t) }];
}
