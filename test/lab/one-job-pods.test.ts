/**
 * The pod stop check times a worker from leaving (stopping, its last job ended) to its process gone: the
 * overhead a real run's speed multiplies into pod-seconds. A `MAX_JOBS=1` pod stops as it takes its job,
 * so timing it from that `worker.stopping` line would bill the job's own run as a slow stop and mark every
 * one-job-per-pod run unreliable.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { leavingWatch } from '../../src/lab/pod-runner.js';
import type { Check } from '../../src/lab/reliability.js';
import { spawnKq } from '../helpers/kq-process.js';

const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 30, ...fields });

describe('leavingWatch', () => {
  it('a MAX_JOBS stop leaves when the job it counted ends, an idle stop at once', () => {
    const maxJobs = leavingWatch();
    const seen = [
      line({ event: 'worker.started' }),
      line({ event: 'worker.stopping', reason: 'MAX_JOBS (1) reached', running: 1 }),
      line({ event: 'job.started', jobId: '1' }),
      line({ event: 'job.completed', jobId: '1' }),
      line({ event: 'worker.stopped', exitCode: 0 }),
    ].map(maxJobs);
    expect(seen).toEqual([false, false, false, true, true]);
    const idle = leavingWatch();
    expect(idle(line({ event: 'worker.stopping', reason: 'queue is empty', running: 0 }))).toBe(true);
    // A SIGTERM with two jobs running: one finishes, one is handed back at the deadline.
    const term = leavingWatch();
    expect(
      [
        line({ event: 'worker.shutting-down', running: 2 }),
        line({ event: 'worker.stopping', reason: 'SIGTERM', running: 2 }),
        line({ event: 'job.retried', jobId: '1' }),
        line({ event: 'job.handed-back', jobId: '2' }),
      ].map(term),
    ).toEqual([false, false, false, true]);
  });
});

describe('kq lab: one job per pod', () => {
  it('keda-scaledjob pods are timed from leaving, not from taking their job, and pass the pod stop check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kq-lab-one-job-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const jobSeconds = 15;
    const file = join(dir, 'w.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'two-long',
        durationSeconds: 1,
        arrivals: [{ at: 0, count: 2 }],
        jobSeconds: { dist: 'fixed', value: jobSeconds },
      }),
    );
    const speed = 15;
    const lab = spawnKq(
      [
        'lab',
        'run',
        'keda-scaledjob',
        '--engine',
        'real',
        '--workload',
        file,
        '--speed',
        String(speed),
        '--polling-interval-seconds',
        '5',
        '--report',
        dir,
      ],
      {},
    );
    const { code } = await lab.waitForExit(60_000);
    expect(code, lab.output()).toBe(0);
    const a = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).approaches['keda-scaledjob'] as {
      completed: number;
      controller: Record<string, number>;
      reliability: { checks: Check[]; reasons: string[] };
    };
    expect(a.completed).toBe(2);
    const stop = a.reliability.checks.find((c) => c.what === 'pod stop');
    // One stop per worker that ran a job; each timed from its job's end, far below the job's own run.
    expect(stop?.samples, JSON.stringify(a.reliability)).toBeGreaterThanOrEqual(2);
    expect(stop?.lateP95Ms).toBeLessThan((jobSeconds * 1000) / 2);
    expect(stop?.ok, JSON.stringify(stop)).toBe(true);
    expect(a.reliability.reasons.filter((r) => r.startsWith('pod stop'))).toEqual([]);
  }, 60_000);
});
