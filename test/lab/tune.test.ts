/**
 * `kq lab tune`: a recommendation that meets the objective, with a `kq manifests` command that renders;
 * exit 3 with the closest settings when nothing can meet it; exit 2 naming a bad objective.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { manifestsCommand, parseSlo, searchSpace, timingAxes } from '../../src/lab/tune.js';
import { withTiming } from '../../src/lab/tune-space.js';
import { CLI, spawnKq } from '../helpers/kq-process.js';

async function kq(args: string[]) {
  const p = spawnKq(args, {});
  const { code } = await p.waitForExit(120_000);
  return { code, output: p.output() };
}

describe('kq lab tune', () => {
  it('recommends the cheapest setting meeting the objective, and its command renders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kq-lab-tune-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const r = await kq([
      'lab',
      'tune',
      'deployment',
      'keda-scaledjob',
      '--workload',
      'smoke',
      '--slo',
      'wait-p95=30s',
      '--report',
      dir,
    ]);
    expect(r.code, r.output).toBe(0);
    const tuned = JSON.parse(readFileSync(join(dir, 'tune.json'), 'utf8'));
    expect(tuned.engine).toBe('model');
    const rec = tuned.recommendation;
    expect(rec.trial.meets).toBe(true);
    expect(rec.trial.figures.waitP95Ms).toBeLessThanOrEqual(30_000);
    expect(rec.trial.figures.lost).toBe(0);
    // The cheapest among every setting played that meets the objective.
    const meeting = tuned.trials.filter((t: { meets: boolean }) => t.meets);
    const cheapest = Math.min(
      ...meeting.map((t: { figures: { podSeconds: number } }) => t.figures.podSeconds),
    );
    expect(rec.trial.figures.podSeconds).toBe(cheapest);
    expect(r.output).toContain(`Render it: ${rec.command}`);
    expect(readFileSync(join(dir, 'tune.html'), 'utf8')).toContain(
      '<figure class="tradeoff" data-approach="deployment">',
    );
    // The command is one kq manifests accepts.
    const rendered = await kq(rec.command.replace(/^kq /, '').split(' '));
    expect(rendered.code, rendered.output).toBe(0);
    expect(rendered.output).toContain('kind: ');
  });

  it('--verify replays the recommendation on the real engine at the speed and pod start given, model beside real', async () => {
    const r = await kq([
      'lab',
      'tune',
      'deployment',
      '--workload',
      'smoke',
      '--slo',
      'wait-p95=30s',
      '--max-replicas',
      '2',
      '--verify',
      '--speed',
      '90',
      '--pod-start-seconds',
      '3',
    ]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(
      /replaying kq manifests deployment --replicas \d --concurrency \d on the real engine/,
    );
    expect(r.output).toMatch(/Verify \(speed 90, pod start 3 s\):\n\| figure \| model \| real \|/);
    expect(r.output).toMatch(/\| completed \| 12 \| 12 \|/);
    expect(r.output).toMatch(/The real run is (reliable at this speed|not reliable: .+)\./);
  });

  it('exits 3 and shows the closest settings when no setting meets the objective', async () => {
    // One pod of at most 4 slots cannot start a burst of 6 five-second jobs within a second.
    const r = await kq([
      'lab',
      'tune',
      'deployment',
      '--workload',
      'smoke',
      '--slo',
      'wait-p95=1s',
      '--max-replicas',
      '1',
    ]);
    expect(r.code, r.output).toBe(3);
    expect(r.output).toMatch(
      /\| deployment \| replicas \d+, concurrency \d+ \| [\d.]+ \| .* no \(closest: [\d.]+ s over\) \|/,
    );
    expect(r.output).toContain('No approach meets wait-p95 <= 1s');
    expect(r.output).not.toMatch(/replicas [2-9]/);
  });

  it('refuses a bad objective or engine with exit 2, naming the option and the rule', async () => {
    const bad = await kq(['lab', 'tune', '--slo', 'latency=fast']);
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(
      /Invalid --slo "latency=fast": must be <figure>=<duration>, figure one of wait-p50/,
    );
    const real = await kq(['lab', 'tune', '--engine', 'real']);
    expect(real.code).toBe(2);
    expect(real.output).toMatch(/searches on the model engine .* add --verify/);
  });
});

describe('the search', () => {
  it('parses objectives and caps the settings with --max-replicas', () => {
    expect(parseSlo('wait-p95=60s')).toMatchObject({ figure: 'waitP95Ms', maxMs: 60_000 });
    expect(parseSlo('e2e-p95=2m').maxMs).toBe(120_000);
    expect(parseSlo('wait-p99=500ms').maxMs).toBe(500);
    for (const s of searchSpace('keda-scaledobject', 4)) expect(s.maxReplicas).toBeLessThanOrEqual(4);
    for (const s of searchSpace('deployment', 3)) expect(s.replicas).toBeLessThanOrEqual(3);
    expect(manifestsCommand('cronjob', { parallelism: 2, concurrency: 4 })).toBe(
      'kq manifests cronjob --parallelism 2 --concurrency 4',
    );
  });

  it('a setting with a schedule gives a command a shell runs as printed', () => {
    const command = manifestsCommand('cronjob', { parallelism: 1, schedule: '*/2 * * * *' });
    expect(command).toBe("kq manifests cronjob --parallelism 1 --schedule '*/2 * * * *'");
    const r = spawnSync('sh', ['-c', command.replace(/^kq /, `"${process.execPath}" "${CLI}" `)], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('schedule: "*/2 * * * *"');
  });

  it('timing axes: each tries what the approach renders, and a setting at it leaves the flag out', () => {
    expect(timingAxes('deployment')).toEqual([]);
    expect(timingAxes('keda-scaledobject').map((a) => a.knob)).toEqual([
      'pollingIntervalSeconds',
      'cooldownPeriodSeconds',
      'scaleUpWindowSeconds',
      'scaleDownWindowSeconds',
    ]);
    for (const name of ['cronjob', 'keda-external', 'keda-external-job', 'hpa-adapter'] as const) {
      for (const axis of timingAxes(name))
        expect(axis.values, `${name} ${axis.knob}`).toContain(axis.rendered);
    }
    const [polling] = timingAxes('keda-external');
    expect(polling?.rendered).toBe(30);
    if (!polling) throw new Error('no axis');
    expect(withTiming({ concurrency: 2 }, polling, 30)).toEqual({ concurrency: 2 });
    expect(withTiming({ concurrency: 2 }, polling, 5)).toEqual({ concurrency: 2, pollingIntervalSeconds: 5 });
  });
});
