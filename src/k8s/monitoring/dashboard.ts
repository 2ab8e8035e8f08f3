/**
 * kq's Grafana dashboard (JSON model, schemaVersion 39): queue state from the API, job outcomes and
 * wait and run times from the workers, Redis and the KEDA external scaler. A `datasource` variable picks
 * the Prometheus, `namespace` and `queue` variables filter every panel. Only series kq exports appear
 * (test/observability/monitoring.test.ts checks them against live /metrics).
 */

interface Target {
  expr: string;
  legendFormat: string;
}

interface Panel {
  title: string;
  unit: string;
  targets: Target[];
  description: string;
}

const sel = 'namespace=~"$namespace", queue=~"$queue"';
const byQueue = 'sum by (queue)';

const PANELS: Panel[] = [
  {
    title: 'Backlog (waiting + prioritized + active)',
    unit: 'short',
    description: 'What the autoscalers scale on (kq_queue_backlog, from the API).',
    targets: [{ expr: `${byQueue} (kq_queue_backlog{${sel}})`, legendFormat: '{{queue}}' }],
  },
  {
    title: 'Oldest waiting job',
    unit: 's',
    description: 'Age of the job waiting longest per queue (alert: KqOldestWaitingJobTooOld).',
    targets: [
      { expr: `max by (queue) (kq_queue_oldest_waiting_age_seconds{${sel}})`, legendFormat: '{{queue}}' },
    ],
  },
  {
    title: 'Jobs by state',
    unit: 'short',
    description: 'kq_queue_jobs per state, summed over the selected queues.',
    targets: [{ expr: `sum by (state) (kq_queue_jobs{${sel}})`, legendFormat: '{{state}}' }],
  },
  {
    title: 'Outcomes per second',
    unit: 'ops',
    description: 'Job attempts settled by the workers, by outcome.',
    targets: [
      ['completed', 'kq_jobs_completed_total'],
      ['failed', 'kq_jobs_failed_total'],
      ['retried', 'kq_jobs_retried_total'],
      ['cancelled', 'kq_jobs_cancelled_total'],
      ['handed back', 'kq_jobs_handed_back_total'],
      ['stalled', 'kq_jobs_stalled_total'],
    ].map(([legend, metric]) => ({
      expr: `sum (rate(${metric}{${sel}}[$__rate_interval]))`,
      legendFormat: legend as string,
    })),
  },
  {
    title: 'Wait time (enqueue to first start)',
    unit: 's',
    description: 'Quantiles of kq_job_wait_seconds, from the workers.',
    targets: ['0.5', '0.95', '0.99'].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (le) (rate(kq_job_wait_seconds_bucket{${sel}}[$__rate_interval])))`,
      legendFormat: `p${Number(q) * 100}`,
    })),
  },
  {
    title: 'Run time per attempt',
    unit: 's',
    description: 'Quantiles of kq_job_duration_seconds, by outcome.',
    targets: ['0.5', '0.95'].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (le, outcome) (rate(kq_job_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
      legendFormat: `p${Number(q) * 100} {{outcome}}`,
    })),
  },
  {
    title: 'Running jobs and worker pods',
    unit: 'short',
    description: 'Jobs running now (kq_jobs_running) and the number of worker pods reporting it.',
    targets: [
      { expr: `${byQueue} (kq_jobs_running{${sel}})`, legendFormat: 'running {{queue}}' },
      { expr: `count by (queue) (kq_jobs_running{${sel}})`, legendFormat: 'workers {{queue}}' },
    ],
  },
  {
    title: 'Redis up (API)',
    unit: 'short',
    description: '1 when Redis answered the API scrape (alert: KqRedisDown).',
    targets: [{ expr: 'min (kq_redis_up{namespace=~"$namespace"})', legendFormat: 'redis up' }],
  },
  {
    title: 'API requests per second',
    unit: 'reqps',
    description: 'By route template and status.',
    targets: [
      {
        expr: 'sum by (route, status) (rate(kq_http_requests_total{namespace=~"$namespace"}[$__rate_interval]))',
        legendFormat: '{{route}} {{status}}',
      },
    ],
  },
  {
    title: 'KEDA external scaler',
    unit: 'ops',
    description:
      'kq keda-scaler gRPC requests by method and code, and failed Redis reads (alert: KqKedaScalerErrors).',
    targets: [
      {
        expr: 'sum by (method, code) (rate(kq_keda_scaler_requests_total{namespace=~"$namespace"}[$__rate_interval]))',
        legendFormat: '{{method}} {{code}}',
      },
      {
        expr: 'sum (rate(kq_keda_scaler_redis_errors_total{namespace=~"$namespace"}[$__rate_interval]))',
        legendFormat: 'redis errors',
      },
    ],
  },
];

/** Every panel's and target's datasource: the `datasource` variable, in Grafana's own syntax. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, read by Grafana
export const DATASOURCE_UID = '${datasource}';
const datasource = { type: 'prometheus', uid: DATASOURCE_UID };

const variable = (name: string, label: string, query: string) => ({
  name,
  label,
  type: 'query',
  datasource,
  query: { query, refId: `${name}-variable` },
  definition: query,
  refresh: 2,
  includeAll: true,
  multi: true,
  allValue: '.*',
  current: { text: 'All', value: '$__all' },
  sort: 1,
});

/** The dashboard's JSON model. @example JSON.stringify(dashboard()) */
export function dashboard(): Record<string, unknown> {
  return {
    uid: 'kq-overview',
    title: 'kq',
    description: 'kq job queues: backlog, waiting, outcomes, wait and run times, Redis, KEDA scaler',
    tags: ['kq'],
    editable: true,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    timezone: 'browser',
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Prometheus',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
        },
        variable('namespace', 'Namespace', 'label_values(kq_queue_backlog, namespace)'),
        variable('queue', 'Queue', 'label_values(kq_queue_backlog{namespace=~"$namespace"}, queue)'),
      ],
    },
    annotations: { list: [] },
    panels: PANELS.map((p, i) => ({
      id: i + 1,
      type: 'timeseries',
      title: p.title,
      description: p.description,
      datasource,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
      targets: p.targets.map((t, j) => ({
        datasource,
        expr: t.expr,
        legendFormat: t.legendFormat,
        refId: String.fromCharCode(65 + j),
      })),
    })),
  };
}
