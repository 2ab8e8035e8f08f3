/**
 * The autoscalers' and the CronJob's timing flags: `--polling-interval-seconds`, `--cooldown-period-seconds`,
 * `--scale-up-window-seconds`, `--scale-down-window-seconds` and `--schedule` land in the fields they name,
 * leave the defaults as they were without them, validate against the Kubernetes schemas and KEDA's CRDs,
 * and a bad value exits 2 naming the flag, the value and the rule.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { APPROACH_NAMES, type ApproachName, renderObjects } from '../../src/k8s/render.js';
import { CLI } from '../helpers/kq-process.js';
import { kedaCrdErrors } from './keda-crd-schema.js';
import { type K8sObject, manifestOptions, render } from './manifest-fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: reading fields of untyped rendered JSON
type Spec = Record<string, any>;
const specOf = (name: ApproachName, kind: string, flags: string[] = []): Spec =>
  (render(name, flags).find((o) => o.kind === kind && o.metadata.name === 'kq-worker')?.spec ?? {}) as Spec;

const FLAGS = [
  '--polling-interval-seconds',
  '7',
  '--cooldown-period-seconds',
  '45',
  '--scale-up-window-seconds',
  '20',
  '--scale-down-window-seconds',
  '90',
  '--schedule',
  '*/3 8-18 * * 1-5',
];

describe('timing flags', () => {
  it('without them every approach renders what it rendered before', () => {
    const so = specOf('keda-scaledobject', 'ScaledObject');
    expect([so.pollingInterval, so.cooldownPeriod]).toEqual([15, 300]);
    const behavior = so.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(behavior.scaleDown.stabilizationWindowSeconds).toBe(600);
    expect(specOf('keda-external', 'ScaledObject').pollingInterval).toBe(30);
    expect(specOf('keda-scaledjob', 'ScaledJob').pollingInterval).toBe(15);
    expect(specOf('keda-external-job', 'ScaledJob').pollingInterval).toBe(5);
    expect(specOf('cronjob', 'CronJob').schedule).toBe('* * * * *');
    expect(
      specOf('hpa-adapter', 'HorizontalPodAutoscaler').behavior.scaleDown.stabilizationWindowSeconds,
    ).toBe(600);
  });

  it('with them each approach sets the fields it has, and only those', () => {
    for (const name of ['keda-scaledobject', 'keda-external'] as const) {
      const so = specOf(name, 'ScaledObject', FLAGS);
      expect([so.pollingInterval, so.cooldownPeriod], name).toEqual([7, 45]);
      const b = so.advanced.horizontalPodAutoscalerConfig.behavior;
      expect([b.scaleUp.stabilizationWindowSeconds, b.scaleDown.stabilizationWindowSeconds], name).toEqual([
        20, 90,
      ]);
    }
    for (const name of ['keda-scaledjob', 'keda-external-job'] as const) {
      const sj = specOf(name, 'ScaledJob', FLAGS);
      expect(sj.pollingInterval, name).toBe(7);
      expect(sj.cooldownPeriod, name).toBeUndefined(); // a ScaledJob has no cooldownPeriod
    }
    for (const name of ['hpa-prometheus', 'hpa-adapter'] as const) {
      const b = specOf(name, 'HorizontalPodAutoscaler', FLAGS).behavior;
      expect([b.scaleUp.stabilizationWindowSeconds, b.scaleDown.stabilizationWindowSeconds], name).toEqual([
        20, 90,
      ]);
    }
    expect(specOf('cronjob', 'CronJob', FLAGS).schedule).toBe('*/3 8-18 * * 1-5');
    // The ScaledJob's sweeper keeps its own minute: it is not the cronjob approach's schedule.
    const sweeper = render('keda-scaledjob', FLAGS).find((o) => o.metadata.name === 'kq-worker-sweeper');
    expect((sweeper?.spec as Spec | undefined)?.schedule).toBe('* * * * *');
  });

  it('the objects they change validate against their schemas and KEDA’s CRDs', () => {
    const changed = new Set(['ScaledObject', 'ScaledJob', 'HorizontalPodAutoscaler', 'CronJob']);
    for (const name of APPROACH_NAMES) {
      for (const obj of renderObjects(name, manifestOptions(FLAGS))) {
        const plain = JSON.parse(JSON.stringify(obj.toJSON())) as K8sObject;
        if (!changed.has(plain.kind)) continue;
        expect(() => obj.validate(), `${name} ${plain.kind}`).not.toThrow();
        if (plain.apiVersion.startsWith('keda.sh/'))
          expect(kedaCrdErrors(plain), `${name} ${plain.kind}`).toEqual([]);
      }
    }
    // The extremes of each range too: KEDA's minimum pollingInterval is 1, cooldownPeriod 0.
    const edge = ['--polling-interval-seconds', '1', '--cooldown-period-seconds', '0'];
    for (const name of ['keda-scaledobject', 'keda-scaledjob'] as const) {
      for (const obj of render(name, edge).filter((o) => o.apiVersion.startsWith('keda.sh/')))
        expect(kedaCrdErrors(obj), `${name} ${obj.kind}`).toEqual([]);
    }
  });

  it('a bad value exits 2 naming the flag, the value and the rule', () => {
    const kq = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'manifests', ...args], { encoding: 'utf8', timeout: 30_000 });
    const cases: [string[], RegExp][] = [
      [
        ['keda-scaledobject', '--polling-interval-seconds', '0.5'],
        /Invalid --polling-interval-seconds: "0.5" must be a whole number from 0 to 3600/,
      ],
      [
        ['keda-scaledobject', '--cooldown-period-seconds', '-5'],
        /Invalid --cooldown-period-seconds: "-5" must be a whole number from 0 to 86400/,
      ],
      [
        ['hpa-adapter', '--scale-down-window-seconds', '3601'],
        /Invalid --scale-down-window-seconds: "3601" must be a whole number from 0 to 3600/,
      ],
      [
        ['hpa-adapter', '--scale-up-window-seconds', 'soon'],
        /Invalid --scale-up-window-seconds: "soon" must be a whole number/,
      ],
      [
        ['cronjob', '--schedule', '61 * * * *'],
        /Invalid --schedule: "61 \* \* \* \*" \(cron minute field "61" is out of range 0-59\) must be a five-field cron schedule/,
      ],
      [['cronjob', '--schedule', '@hourly'], /Invalid --schedule: "@hourly" \(.*must have 5 fields\)/],
      [['cronjob', '--schedule', '0 0 31 2 *'], /Invalid --schedule: "0 0 31 2 \*" \(.*never fires\)/],
    ];
    for (const [args, message] of cases) {
      expect(() => manifestOptions(args.slice(1)), args.join(' ')).toThrow(message);
    }
    // As users meet it: the built CLI, exit 2, the message on stderr, nothing on stdout.
    const r = kq('cronjob', '--schedule', '61 * * * *');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(cases[4]?.[1] as RegExp);
    expect(r.stdout).toBe('');
  });
});
