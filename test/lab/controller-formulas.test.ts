/**
 * The controller arithmetic the lab plays, against the worked examples of the Kubernetes HPA
 * documentation ("Algorithm details", "Scaling policies", "Stabilization window", "Default behavior")
 * and KEDA's ScaledJob scaling strategies, plus the cron schedules a CronJob takes.
 */
import { describe, expect, it } from 'vitest';
import { parseCron } from '../../src/k8s/cron-schedule.js';
import {
  externalAverageValueReplicas,
  limitByPolicies,
  type Rules,
  scaleDownLimit,
  scaleUpLimit,
  stabilize,
  withDefaults,
} from '../../src/lab/controllers/hpa-formulas.js';
import { scaledJobMaxScale, scaledJobNewJobs, sumFormula } from '../../src/lab/controllers/keda-formulas.js';

describe('HPA: desired replicas for an External AverageValue metric', () => {
  it('doubles at twice the target and halves at half of it (docs: 200m vs 100m, 50m)', () => {
    // 2 pods averaging 200m (total 400m) against a 100m target -> 4; averaging 50m -> 1.
    expect(externalAverageValueReplicas({ current: 2, total: 0.4, target: 0.1 })).toBe(4);
    expect(externalAverageValueReplicas({ current: 2, total: 0.1, target: 0.1 })).toBe(1);
  });
  it('skips scaling within the 0.1 tolerance', () => {
    expect(externalAverageValueReplicas({ current: 10, total: 105, target: 10 })).toBe(10);
    expect(externalAverageValueReplicas({ current: 10, total: 111, target: 10 })).toBe(12);
    expect(externalAverageValueReplicas({ current: 10, total: 91, target: 10 })).toBe(10);
  });
  it('uses ceil(total / target): a backlog of 7 with 1 per pod wants 7', () => {
    expect(externalAverageValueReplicas({ current: 1, total: 7, target: 1 })).toBe(7);
    expect(externalAverageValueReplicas({ current: 3, total: 0, target: 1 })).toBe(0);
  });
});

describe('HPA: scaling policies', () => {
  const down: Rules = {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 60 },
      { type: 'Percent', value: 10, periodSeconds: 60 },
    ],
  };
  it('docs example: 80 replicas scaling to 10 lose 8 first (10 % beats 4 pods), then 8 of 72', () => {
    expect(scaleDownLimit(80, [], [], down, 0)).toBe(72);
    // 72 * 0.9 = 64.8: the percentage allows 7.2, rounded up to 8 pods.
    expect(scaleDownLimit(72, [], [], down, 0)).toBe(64);
  });
  it('selectPolicy Min picks the smallest change', () => {
    expect(scaleDownLimit(80, [], [], { ...down, selectPolicy: 'Min' }, 0)).toBe(76);
  });
  it('counts changes already made within the period', () => {
    // 8 pods removed 30 s ago: the period started at 80, so 72 is still the floor and nothing more goes.
    expect(scaleDownLimit(72, [], [{ at: 0, change: 8 }], down, 30_000)).toBe(72);
    // After the period the next step is allowed.
    expect(scaleDownLimit(72, [], [{ at: 0, change: 8 }], down, 61_000)).toBe(64);
  });
  it('default scale-up: the larger of +100 % and +4 pods per 15 s', () => {
    const { up } = withDefaults(undefined);
    expect(scaleUpLimit(1, [], [], up, 0)).toBe(5);
    expect(scaleUpLimit(10, [], [], up, 0)).toBe(20);
  });
  it('default scale-down: 300 s stabilization, 100 % per 15 s', () => {
    const { down: d } = withDefaults(undefined);
    expect(d.stabilizationWindowSeconds).toBe(300);
    expect(scaleDownLimit(10, [], [], d, 0)).toBe(0);
  });
  it('clamps to min and max replicas', () => {
    const { up, down: d } = withDefaults(undefined);
    const base = { now: 0, up, down: d, upEvents: [], downEvents: [] };
    expect(limitByPolicies({ ...base, current: 3, desired: 50, min: 1, max: 10 })).toBe(7);
    expect(limitByPolicies({ ...base, current: 6, desired: 50, min: 1, max: 10 })).toBe(10);
    expect(limitByPolicies({ ...base, current: 3, desired: 0, min: 1, max: 10 })).toBe(1);
    expect(limitByPolicies({ ...base, current: 2, desired: 9, min: 1, max: 10 })).toBe(6);
  });
  it('kq’s rendered scale-down (1 pod per 120 s) removes one pod per period', () => {
    const rules: Rules = {
      stabilizationWindowSeconds: 600,
      selectPolicy: 'Min',
      policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }],
    };
    expect(scaleDownLimit(5, [], [], rules, 0)).toBe(4);
    expect(scaleDownLimit(4, [], [{ at: 0, change: 1 }], rules, 60_000)).toBe(4);
  });
});

describe('HPA: stabilization window', () => {
  it('scale-down takes the highest recommendation within the window', () => {
    const history = [
      { at: 0, replicas: 10 },
      { at: 100_000, replicas: 6 },
    ];
    expect(
      stabilize({ now: 200_000, current: 10, desired: 2, history, upWindowS: 0, downWindowS: 300 }),
    ).toBe(10);
    // Once the 10 has left the 300 s window, the highest left is 6.
    expect(
      stabilize({ now: 350_000, current: 10, desired: 2, history, upWindowS: 0, downWindowS: 300 }),
    ).toBe(6);
  });
  it('scale-up takes the lowest recommendation within its window', () => {
    const history = [{ at: 0, replicas: 3 }];
    expect(stabilize({ now: 30_000, current: 2, desired: 8, history, upWindowS: 60, downWindowS: 300 })).toBe(
      3,
    );
    expect(stabilize({ now: 30_000, current: 2, desired: 8, history, upWindowS: 0, downWindowS: 300 })).toBe(
      8,
    );
  });
});

describe('KEDA ScaledJob strategies', () => {
  it('maxScale = min(ceil(value / target), maxReplicaCount), per trigger, then combined', () => {
    expect(scaledJobMaxScale([{ name: 'a', value: 7, target: 2 }], 'max', 100)).toBe(4);
    expect(scaledJobMaxScale([{ name: 'a', value: 700, target: 1 }], 'max', 10)).toBe(10);
    const two = [
      { name: 'wait', value: 3, target: 1 },
      { name: 'prioritized', value: 2, target: 1 },
    ];
    expect(scaledJobMaxScale(two, 'sum', 100)).toBe(5);
    expect(scaledJobMaxScale(two, 'max', 100)).toBe(3);
    expect(scaledJobMaxScale(two, 'min', 100)).toBe(2);
    expect(scaledJobMaxScale(two, 'avg', 100)).toBe(3);
  });
  it('default: maxScale - running', () => {
    expect(scaledJobNewJobs({ strategy: 'default', maxScale: 10, running: 3, pending: 0, max: 100 })).toBe(7);
    expect(scaledJobNewJobs({ strategy: 'default', maxScale: 2, running: 3, pending: 0, max: 100 })).toBe(0);
  });
  it('accurate: max - running when over the limit, else maxScale - pending', () => {
    // The metric excludes running jobs: 5 queued, 3 running of which 1 pending, limit 100 -> 4 new.
    expect(scaledJobNewJobs({ strategy: 'accurate', maxScale: 5, running: 3, pending: 1, max: 100 })).toBe(4);
    // 8 queued + 5 running - 0 pending > 10 -> 10 - 5.
    expect(scaledJobNewJobs({ strategy: 'accurate', maxScale: 8, running: 5, pending: 0, max: 10 })).toBe(5);
  });
  it('eager: min(max - running - pending, maxScale)', () => {
    expect(scaledJobNewJobs({ strategy: 'eager', maxScale: 3, running: 2, pending: 1, max: 10 })).toBe(3);
    expect(scaledJobNewJobs({ strategy: 'eager', maxScale: 9, running: 2, pending: 1, max: 10 })).toBe(7);
  });
  it('never creates more than maxReplicaCount unfinished Jobs, whatever the strategy', () => {
    for (const strategy of ['default', 'accurate', 'eager']) {
      for (let running = 0; running <= 10; running++) {
        for (let pending = 0; pending <= running; pending++) {
          for (let maxScale = 0; maxScale <= 10; maxScale++) {
            const n = scaledJobNewJobs({ strategy, maxScale, running, pending, max: 10 });
            expect(n + running).toBeLessThanOrEqual(10);
          }
        }
      }
    }
  });
  it('scalingModifiers: sums trigger names, refuses other formulas', () => {
    expect(sumFormula('wait + prioritized + active', { wait: 2, prioritized: 1, active: 3 })).toBe(6);
    expect(() => sumFormula('wait * 2', { wait: 2 })).toThrow(/add trigger names/);
  });
});

describe('cron schedules', () => {
  it('every minute fires at each minute, from workload time 0', () => {
    const s = parseCron('* * * * *');
    expect(s.next(-1)).toBe(0);
    expect(s.next(0)).toBe(60_000);
    expect(s.next(59_999)).toBe(60_000);
  });
  it('steps, ranges and lists', () => {
    expect(parseCron('*/5 * * * *').next(0)).toBe(300_000);
    expect(parseCron('0 9-17/4 * * *').next(0)).toBe(9 * 3_600_000);
    expect(parseCron('15,45 * * * *').next(16 * 60_000)).toBe(45 * 60_000);
    // Workload time 0 is a Monday: the first Saturday midnight is 5 days later.
    expect(parseCron('0 0 * * 6').next(0)).toBe(5 * 86_400_000);
  });
  it('refuses what it cannot read', () => {
    expect(() => parseCron('* * * *')).toThrow(/5 fields/);
    expect(() => parseCron('61 * * * *')).toThrow(/out of range/);
    expect(() => parseCron('@hourly * * * *')).toThrow(/not supported/);
  });
});
