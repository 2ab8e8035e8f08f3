/**
 * kq's alerting rules: the PrometheusRule (and the PodMonitors beside it) validate against
 * prometheus-operator's own CRDs (prometheus-operator-crd.ts), `promtool check rules` accepts the groups,
 * and `promtool test rules` runs a case per alert with series where it fires and where it stays quiet.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ALERTS, type AlertRule, alertRules, ruleGroups } from '../../src/k8s/monitoring/alerts.js';
import { monitoringObjects, monitoringYaml } from '../../src/k8s/monitoring/render.js';
import { spawnKq } from '../helpers/kq-process.js';
import { prometheusOperatorValidator } from './prometheus-operator-crd.js';
import { promtool } from './promtool.js';

const dir = mkdtempSync(join(tmpdir(), 'kq-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rulesFile = join(dir, 'rules.yaml');
writeFileSync(rulesFile, stringify({ groups: ruleGroups() }));

type Labels = Record<string, string>;
interface Case {
  alert: string;
  series: Record<string, string>;
  at: string;
  fires: Labels[];
}

/** The alert's annotations as Prometheus renders them for `labels` (kq's templates use labels only). */
function annotations(rule: AlertRule, labels: Labels): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(rule.annotations))
    out[k] = v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? '');
  expect(Object.values(out).join(' ')).not.toContain('{{');
  return out;
}

const rule = (name: string, rules = ALERTS) => rules.find((a) => a.alert === name) as AlertRule;

/** `promtool test rules` of `cases` against `rules`; returns its result. */
function promtoolTest(cases: Case[], rules: AlertRule[], file: string) {
  const tests = cases.map((c) => ({
    name: c.alert,
    interval: '1m',
    input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
    alert_rule_test: [
      {
        eval_time: c.at,
        alertname: c.alert,
        exp_alerts: c.fires.map((labels) => ({
          exp_labels: { ...labels, severity: rule(c.alert, rules).labels.severity } as Labels,
          exp_annotations: annotations(rule(c.alert, rules), labels),
        })),
      },
    ],
  }));
  const testFile = join(dir, `${file}.tests.yaml`);
  writeFileSync(testFile, stringify({ rule_files: [join(dir, file)], evaluation_interval: '30s', tests }));
  return promtool(['test', 'rules', testFile]);
}

// Per alert: series where it must fire (the labels listed) and, beside them, series where it must not.
const CASES: Case[] = [
  {
    alert: 'KqBacklogGrowingNoWorkers',
    series: {
      'kq_queue_backlog{namespace="kq",queue="idle",pod="api-1"}': '0+1x60',
      'kq_queue_jobs{namespace="kq",queue="idle",state="active",pod="api-1"}': '0x60',
      'kq_queue_backlog{namespace="kq",queue="served",pod="api-1"}': '0+1x60',
      'kq_queue_jobs{namespace="kq",queue="served",state="active",pod="api-1"}': '1x60',
      'kq_queue_backlog{namespace="kq",queue="flat",pod="api-1"}': '5x60',
      'kq_queue_jobs{namespace="kq",queue="flat",state="active",pod="api-1"}': '0x60',
    },
    at: '40m',
    fires: [{ namespace: 'kq', queue: 'idle' }],
  },
  {
    alert: 'KqOldestWaitingJobTooOld',
    series: {
      'kq_queue_oldest_waiting_age_seconds{namespace="kq",queue="stuck",pod="api-1"}': '700+60x20',
      'kq_queue_oldest_waiting_age_seconds{namespace="kq",queue="fresh",pod="api-1"}': '30x20',
      'kq_queue_oldest_waiting_age_seconds{namespace="kq",queue="blip",pod="api-1"}':
        '0 0 0 0 0 0 0 0 0 0 0 900 0 0 0',
    },
    at: '12m',
    fires: [{ namespace: 'kq', queue: 'stuck' }],
  },
  {
    alert: 'KqJobFailureRateHigh',
    series: {
      'kq_jobs_failed_total{namespace="kq",queue="bad",type="a",pod="w-1"}': '0+10x40',
      'kq_jobs_completed_total{namespace="kq",queue="bad",type="a",pod="w-1"}': '0+10x40',
      'kq_jobs_failed_total{namespace="kq",queue="all-fail",type="a",pod="w-1"}': '0+3x40',
      'kq_jobs_failed_total{namespace="kq",queue="good",type="a",pod="w-1"}': '0+1x40',
      'kq_jobs_completed_total{namespace="kq",queue="good",type="a",pod="w-1"}': '0+100x40',
      'kq_jobs_completed_total{namespace="kq",queue="quiet",type="a",pod="w-1"}': '0x40',
    },
    at: '30m',
    fires: [
      { namespace: 'kq', queue: 'all-fail' },
      { namespace: 'kq', queue: 'bad' },
    ],
  },
  {
    alert: 'KqStalledJobsRecovered',
    series: {
      'kq_jobs_stalled_total{namespace="kq",queue="crashy",type="a",pod="w-1"}': '0 0 0 0 1 1 1 1 1 1',
      'kq_jobs_stalled_total{namespace="kq",queue="calm",type="a",pod="w-1"}': '0x10',
    },
    at: '6m',
    fires: [{ namespace: 'kq', queue: 'crashy' }],
  },
  {
    alert: 'KqRedisDown',
    series: {
      'kq_redis_up{namespace="down",pod="api-1"}': '1 1 0 0 0 0 0 0 0 0',
      'kq_redis_up{namespace="down",pod="api-2"}': '1 1 0 0 0 0 0 0 0 0',
      'kq_redis_up{namespace="split",pod="api-1"}': '0x10',
      'kq_redis_up{namespace="split",pod="api-2"}': '1x10',
    },
    at: '8m',
    fires: [{ namespace: 'down' }],
  },
  {
    alert: 'KqKedaScalerErrors',
    series: {
      'kq_keda_scaler_requests_total{namespace="grpc",method="GetMetrics",code="UNAVAILABLE"}': '0+5x20',
      'kq_keda_scaler_redis_errors_total{namespace="grpc"}': '0x20',
      'kq_keda_scaler_requests_total{namespace="redis",method="GetMetrics",code="OK"}': '0+5x20',
      'kq_keda_scaler_redis_errors_total{namespace="redis"}': '0+2x20',
      'kq_keda_scaler_requests_total{namespace="fine",method="GetMetrics",code="OK"}': '0+5x20',
      'kq_keda_scaler_redis_errors_total{namespace="fine"}': '0x20',
    },
    at: '15m',
    fires: [{ namespace: 'grpc' }, { namespace: 'redis' }],
  },
];

describe('alerting rules', () => {
  it('the PrometheusRule and PodMonitors validate against prometheus-operator’s CRDs, unknown fields rejected', () => {
    const objects = monitoringObjects({ namespace: 'kq' }).filter(
      (o) => o.apiVersion === 'monitoring.coreos.com/v1',
    );
    expect(objects.map((o) => o.kind).sort()).toEqual(['PodMonitor', 'PodMonitor', 'PrometheusRule']);
    for (const o of objects) {
      const validate = prometheusOperatorValidator(o.kind as string);
      expect(validate(o), `${o.kind}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    // The check can fail: a misspelt field is an error.
    const rule = objects.find((o) => o.kind === 'PrometheusRule');
    const typo = structuredClone(rule) as { spec: { groups: { rules: Record<string, unknown>[] }[] } };
    (typo.spec.groups[0]?.rules[0] as Record<string, unknown>).fore = '5m';
    expect(prometheusOperatorValidator('PrometheusRule')(typo)).toBe(false);
  });

  it('promtool check rules accepts the groups', () => {
    const r = promtool(['check', 'rules', rulesFile]);
    expect(r.output).toContain(`SUCCESS: ${ALERTS.length} rules found`);
    expect(r.code).toBe(0);
  });

  it('every alert has a promtool test case; each fires where it should and nowhere else', () => {
    expect(CASES.map((c) => c.alert).sort()).toEqual(ALERTS.map((a) => a.alert).sort());
    const tests = CASES.map((c) => ({
      name: c.alert,
      interval: '1m',
      input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
      alert_rule_test: [
        {
          eval_time: c.at,
          alertname: c.alert,
          exp_alerts: c.fires.map((labels) => ({
            exp_labels: { ...labels, severity: rule(c.alert).labels.severity } as Labels,
            exp_annotations: annotations(rule(c.alert), labels),
          })),
        },
      ],
    }));
    const testFile = join(dir, 'tests.yaml');
    writeFileSync(testFile, stringify({ rule_files: [rulesFile], evaluation_interval: '30s', tests }));
    const r = promtool(['test', 'rules', testFile]);
    expect(r.output).toContain('SUCCESS');
    expect(r.code, r.output).toBe(0);

    // The same cases fail when an alert is expected where it must stay quiet: the test can fail.
    const wrong = structuredClone(tests);
    wrong[0]?.alert_rule_test[0]?.exp_alerts.push({
      exp_labels: { namespace: 'kq', queue: 'served', severity: 'critical' },
      exp_annotations: annotations(rule('KqBacklogGrowingNoWorkers'), { namespace: 'kq', queue: 'served' }),
    });
    writeFileSync(testFile, stringify({ rule_files: [rulesFile], evaluation_interval: '30s', tests: wrong }));
    expect(promtool(['test', 'rules', testFile]).code).not.toBe(0);
  });

  it('kq manifests monitoring sets the thresholds from its flags; promtool tests them; bad values are CLI errors', async () => {
    const t = { oldestWaitingAlertSeconds: 120, failureRateAlertPercent: 60 };
    const rules = alertRules(t);
    writeFileSync(join(dir, 'custom.yaml'), stringify({ groups: ruleGroups(t) }));
    const cases: Case[] = [
      {
        alert: 'KqOldestWaitingJobTooOld',
        series: {
          // Quiet at the default 600 s, past 120 s.
          'kq_queue_oldest_waiting_age_seconds{namespace="kq",queue="slow",pod="api-1"}': '200x20',
          'kq_queue_oldest_waiting_age_seconds{namespace="kq",queue="ok",pod="api-1"}': '100x20',
        },
        at: '12m',
        fires: [{ namespace: 'kq', queue: 'slow' }],
      },
      {
        alert: 'KqJobFailureRateHigh',
        series: {
          // 50 % failing fires at the default 10 %, not past 60 %; 75 % does.
          'kq_jobs_failed_total{namespace="kq",queue="half",type="a",pod="w-1"}': '0+10x40',
          'kq_jobs_completed_total{namespace="kq",queue="half",type="a",pod="w-1"}': '0+10x40',
          'kq_jobs_failed_total{namespace="kq",queue="most",type="a",pod="w-1"}': '0+30x40',
          'kq_jobs_completed_total{namespace="kq",queue="most",type="a",pod="w-1"}': '0+10x40',
        },
        at: '30m',
        fires: [{ namespace: 'kq', queue: 'most' }],
      },
    ];
    const custom = promtoolTest(cases, rules, 'custom.yaml');
    expect(custom.code, custom.output).toBe(0);
    // The same series against the default thresholds: more alerts fire, so the cases fail.
    writeFileSync(join(dir, 'defaults.yaml'), stringify({ groups: ruleGroups() }));
    expect(promtoolTest(cases, ALERTS, 'defaults.yaml').code).not.toBe(0);
    expect(rule('KqOldestWaitingJobTooOld', rules).annotations.summary).toContain('more than 120 s');
    expect(rule('KqJobFailureRateHigh', rules).expr).toMatch(/> 0\.6$/);

    // Three CLI runs at once: each is a process start, slow on a loaded machine.
    const flags = ['--oldest-waiting-alert-seconds', '120', '--failure-rate-alert-percent', '60'];
    const bad = [
      [
        '--oldest-waiting-alert-seconds',
        '0',
        'Invalid --oldest-waiting-alert-seconds: "0" must be a whole number from 1 to 604800. Default: 600.',
      ],
      [
        '--failure-rate-alert-percent',
        '12.5',
        'Invalid --failure-rate-alert-percent: "12.5" must be a whole number from 1 to 99. Default: 10.',
      ],
    ] as const;
    const runs = [flags, ...bad.map(([flag, value]) => [flag, value])].map((f) =>
      spawnKq(['manifests', 'monitoring', ...f], {}),
    );
    const codes = await Promise.all(runs.map(async (r) => (await r.waitForExit(60_000)).code));
    expect(codes).toEqual([0, 2, 2]);
    expect(runs[0]?.output()).toBe(monitoringYaml({ namespace: 'kq', ...t }));
    for (const [i, [, , message]] of bad.entries()) expect(runs[i + 1]?.output()).toContain(message);
  });
});
