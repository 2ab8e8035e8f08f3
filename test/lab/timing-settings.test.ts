/**
 * The lab plays the timing flags it shares with `kq manifests` (`--polling-interval-seconds`,
 * `--cooldown-period-seconds`, `--scale-up-window-seconds`, `--scale-down-window-seconds`, `--schedule`):
 * its controllers read them from the rendered objects, each changes what the model engine plays, and
 * `kq lab tune` searches them.
 */
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/config.js';
import type { ApproachName } from '../../src/k8s/render.js';
import { labOptionSpecs } from '../../src/lab/options.js';
import { runLab } from '../../src/lab/run-lab.js';
import { parseSlo, searchSpace, tune } from '../../src/lab/tune.js';

async function play(name: ApproachName, flags: string[], minTailMs = 0) {
  const o = parseOptions(labOptionSpecs, ['--engine', 'model', '--workload', 'smoke', ...flags], {}).values;
  const run = await runLab([name], o, undefined, minTailMs);
  const r = run.results[0];
  if (!r) throw new Error('no result');
  return { ...r, settings: run.settings };
}

describe('timing settings in the lab', () => {
  it('keda-scaledobject: pollingInterval and cooldownPeriod from the flags; a shorter cooldown reaches zero sooner', async () => {
    const fast = await play('keda-scaledobject', [
      '--polling-interval-seconds',
      '5',
      '--cooldown-period-seconds',
      '30',
    ]);
    const slow = await play('keda-scaledobject', []);
    expect(fast.notes.join('\n')).toContain('pollingInterval 5 s');
    expect(fast.notes.join('\n')).toContain('cooldownPeriod 30 s');
    expect(slow.notes.join('\n')).toContain('pollingInterval 15 s, cooldownPeriod 300 s');
    const zeroAt = (r: typeof fast) => r.stats.lastScaledToZeroAtS as number;
    expect(zeroAt(fast)).toBeGreaterThan(0);
    // 270 s less cooldown; the last active poll may fall up to one slow poll (15 s) apart, each way.
    expect(zeroAt(slow) - zeroAt(fast)).toBeGreaterThanOrEqual(270 - 2 * 15);
    expect(fast.figures.podSeconds).toBeLessThan(slow.figures.podSeconds);
    expect(fast.settings).toMatchObject({
      manifest: { pollingIntervalSeconds: 5, cooldownPeriodSeconds: 30 },
    });
  });

  it('the HPA approaches: the stabilization windows from the flags; a short scale-down window costs less over the same span', async () => {
    const span = 700_000;
    const short = await play('hpa-adapter', ['--scale-down-window-seconds', '30'], span);
    const long = await play('hpa-adapter', [], span);
    expect(short.notes.join('\n')).toContain('stabilization windows scale-up 0 s, scale-down 30 s');
    expect(long.notes.join('\n')).toContain('stabilization windows scale-up 0 s, scale-down 600 s');
    expect(short.runSeconds).toBe(long.runSeconds);
    expect(long.stats.maxReplicasSeen as number).toBeGreaterThan(1);
    expect(short.figures.podSeconds).toBeLessThan(long.figures.podSeconds);
    const up = await play('hpa-prometheus', ['--scale-up-window-seconds', '60']);
    expect(up.notes.join('\n')).toContain('scale-up 60 s, scale-down 600 s');
  });

  it('the ScaledJobs: a longer pollingInterval makes jobs wait longer', async () => {
    for (const name of ['keda-scaledjob', 'keda-external-job'] as const) {
      const fast = await play(name, ['--polling-interval-seconds', '2']);
      const slow = await play(name, ['--polling-interval-seconds', '30']);
      expect(fast.notes.join('\n'), name).toContain('pollingInterval 2 s');
      expect(slow.notes.join('\n'), name).toContain('pollingInterval 30 s');
      expect(slow.figures.waitP95Ms, name).toBeGreaterThan(fast.figures.waitP95Ms);
    }
  });

  it('cronjob: the schedule from --schedule; every two minutes, the first burst waits for minute 2', async () => {
    const every = await play('cronjob', []);
    const two = await play('cronjob', ['--schedule', '*/2 * * * *']);
    expect(two.notes.join('\n')).toContain('schedule "*/2 * * * *"');
    expect(every.figures.waitP95Ms).toBeLessThan(60_000);
    expect(two.figures.waitP95Ms).toBeGreaterThanOrEqual(100_000);
    expect(two.figures.completed).toBe(two.figures.submitted);
  });

  // kq lab tune searches them: the grid's best settings refined along each axis (tune-space.ts).
  it('refines the grid along the timing axes, every setting over one span, and still picks the cheapest', async () => {
    const o = parseOptions(labOptionSpecs, ['--workload', 'smoke', '--engine', 'model'], {}).values;
    const r = await tune(['keda-scaledobject', 'cronjob'], o, parseSlo('wait-p95=60s'), 0, 0);
    const so = r.trials.filter((t) => t.approach === 'keda-scaledobject');
    expect(so.length).toBeGreaterThan(searchSpace('keda-scaledobject', 0).length);
    expect(so.some((t) => t.setting.cooldownPeriodSeconds !== undefined)).toBe(true);
    expect(so.some((t) => t.setting.scaleDownWindowSeconds !== undefined)).toBe(true);
    const best = r.best.find((b) => b.approach === 'keda-scaledobject');
    // The longest tail searched: a 300 s cooldown, a 30 s poll, the pods' grace period.
    expect(best?.spanTailSeconds).toBeGreaterThanOrEqual(330);
    const cheapest = Math.min(...so.filter((t) => t.meets).map((t) => t.figures.podSeconds));
    expect(best?.trial.figures.podSeconds).toBe(cheapest);
    // A CronJob less often than the objective's 60 s is not tried: it would meet it only by phase.
    expect(r.trials.filter((t) => t.approach === 'cronjob').some((t) => t.setting.schedule)).toBe(false);
    const lax = await tune(['cronjob'], o, parseSlo('wait-p95=5m'), 0, 0);
    const schedules = new Set(lax.trials.map((t) => t.setting.schedule));
    expect(schedules).toEqual(new Set([undefined, '*/2 * * * *', '*/5 * * * *']));
  });
});
