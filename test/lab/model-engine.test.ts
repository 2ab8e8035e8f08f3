/**
 * The model engine: the same --seed repeats its report exactly (and another seed's faults change it);
 * its workers follow the worker's rules (concurrency, hand-back on SIGTERM, crash then lock expiry and
 * requeue, exit-when-empty); it refuses what it cannot play.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createEventQueue } from '../../src/lab/model/event-queue.js';
import { createModelPods } from '../../src/lab/model/model-pods.js';
import { createModelQueue } from '../../src/lab/model/model-queue.js';
import type { LabJob } from '../../src/lab/workload.js';
import { spawnKq } from '../helpers/kq-process.js';

async function lab(args: string[]) {
  const p = spawnKq(['lab', ...args], {});
  const { code } = await p.waitForExit(60_000);
  return { code, output: p.output() };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kq-lab-model-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('kq lab --engine model', () => {
  it('repeats its report exactly for the same --seed, and says which engine made it', async () => {
    const dir = tempDir();
    const args = ['compare', '--engine', 'model', '--workload', 'smoke', '--kill-rate', '2'];
    const a = await lab([...args, '--seed', '5', '--report', join(dir, 'a')]);
    const b = await lab([...args, '--seed', '5', '--report', join(dir, 'b')]);
    const c = await lab([...args, '--seed', '6', '--report', join(dir, 'c')]);
    for (const r of [a, b, c]) expect(r.code, r.output).toBe(0);
    const read = (x: string) => readFileSync(join(dir, x, 'report.json'), 'utf8');
    expect(read('a')).toBe(read('b'));
    expect(read('a')).not.toBe(read('c')); // the seed moves the kills
    const report = JSON.parse(read('a'));
    expect(report.engine).toBe('model');
    expect(readFileSync(join(dir, 'a', 'report.html'), 'utf8')).toContain('Engine: model.');
    expect(Object.keys(report.approaches)).toHaveLength(8);
    for (const [name, r] of Object.entries(report.approaches) as [
      string,
      { submitted: number; completed: number; failed: number; lost: number; podSeconds: number },
    ][]) {
      expect(r.submitted, name).toBe(report.settings.jobs);
      expect(r.completed + r.failed + r.lost, name).toBe(r.submitted);
      expect(r.podSeconds, name).toBeGreaterThan(0);
    }
  });

  it('plays pod-deletion-cost: scale-in takes idle workers first, and only busy ones without it', async () => {
    const dir = tempDir();
    const args = ['run', 'keda-scaledobject', '--engine', 'model', '--workload', 'long-jobs'];
    const on = await lab([...args, '--report', join(dir, 'on')]);
    const off = await lab([...args, '--no-pod-deletion-cost', '--report', join(dir, 'off')]);
    for (const r of [on, off]) expect(r.code, r.output).toBe(0);
    type Figures = {
      interruptedByScaleIn: number;
      idleWhenInterrupted: number;
      podsWithDeletionCost: number;
    };
    const figures = (x: string): Figures =>
      JSON.parse(readFileSync(join(dir, x, 'report.json'), 'utf8')).approaches['keda-scaledobject'];
    const withCost = figures('on');
    const blind = figures('off');
    expect(withCost.podsWithDeletionCost).toBeGreaterThan(0);
    expect(blind.podsWithDeletionCost).toBe(0);
    // Blind, the ReplicaSet removes the oldest pods, busy with long jobs, while idle ones stay.
    expect(blind.idleWhenInterrupted).toBeGreaterThan(0);
    expect(withCost.idleWhenInterrupted).toBe(0);
    expect(withCost.interruptedByScaleIn).toBeLessThan(blind.interruptedByScaleIn);
    // docs/lab.md quotes both runs: the model is deterministic, so the figures must match exactly.
    const doc = readFileSync(new URL('../../docs/lab.md', import.meta.url), 'utf8');
    const table =
      /<!-- model-scale-in-table -->\n([\s\S]*?)<!-- \/model-scale-in-table -->/.exec(doc)?.[1] ?? '';
    const row = (label: string) =>
      table
        .split('\n')
        .find((l) => l.startsWith(`| ${label}`))
        ?.split('|')
        .slice(2, -1)
        .map((c) => Number(c.trim()));
    const cells = (f: Figures & { lost: number; podSeconds: number }) => [
      f.interruptedByScaleIn,
      f.idleWhenInterrupted,
      f.lost,
      f.podSeconds,
    ];
    expect(row('before')).toEqual(cells(blind as never));
    expect(row('after')).toEqual(cells(withCost as never));
  });

  it('plays smoke on a Deployment as worked out by hand', async () => {
    // smoke: lab-0 due at 10 s (delayed) and failing once, lab-1..5 at 0, lab-6..11 at 20, 5 s each; two
    // replicas of one slot: lab-5 starts at 10 (wait 10 s), lab-0 at 10 then fails at 15, and its retry,
    // due at 20 with the second burst, queues behind that burst (submitted at once, as addBulk does), so
    // lab-10 and lab-11 start at 30: every first start within 10 s. Two pods for the 40 s the run lasts.
    const dir = tempDir();
    // No --engine: the model is the default of run and compare.
    const r = await lab(['run', 'deployment', '--workload', 'smoke', '--report', dir]);
    expect(r.code, r.output).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.engine).toBe('model');
    expect(r.output).toContain('kq lab: played on the model engine');
    const a = report.approaches.deployment;
    expect(a.waitP95Ms).toBe(10_000);
    expect(a.podSeconds).toBe(80);
    expect(a.completed).toBe(12);
    expect(a.runTwice).toBe(0);
  });

  it('plays a delayed job on an idle queue as the real engine does (test/lab/delayed-jobs.test.ts)', async () => {
    const dir = tempDir();
    const file = join(dir, 'w.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'one-delayed',
        durationSeconds: 60,
        arrivals: [{ at: 0, count: 1 }],
        jobSeconds: { dist: 'fixed', value: 5 },
        delayed: { fraction: 1, seconds: { dist: 'fixed', value: 900 } },
      }),
    );
    const names = ['deployment', 'keda-scaledobject', 'keda-scaledjob', 'keda-external', 'keda-external-job'];
    const r = await lab(['compare', ...names, '--engine', 'model', '--workload', file, '--report', dir]);
    expect(r.code, r.output).toBe(0);
    const a = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).approaches;
    for (const n of ['deployment', 'keda-scaledjob', 'keda-external', 'keda-external-job'])
      expect(a[n].completed, n).toBe(1);
    // Its triggers read wait/prioritized/active only, and with no worker BullMQ never promotes the job.
    expect(a['keda-scaledobject'].podsStarted).toBe(0);
    expect(a['keda-scaledobject'].lostJobs).toEqual([{ id: 'lab-0', leftIn: 'delayed' }]);
  });

  it('refuses what only a real Redis or real processes can play', async () => {
    const r = await lab(['run', 'deployment', '--engine', 'model', '--redis-restart-at', '10']);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/--redis-restart-at plays a real Redis: use it with --engine real/);
    // The model is the default of run and compare: a --speed (wall time) names the engine it needs.
    const speed = await lab(['compare', 'deployment', '--speed', '10']);
    expect(speed.code).toBe(2);
    expect(speed.output).toMatch(
      /--speed 10 compresses a real run in wall time: use it with --engine real \(the model engine, the default/,
    );
    const bad = await lab(['run', 'deployment', '--engine', 'simulated']);
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/Invalid --engine: "simulated" must be one of real, model/);
  });
});

describe('modelled workers', () => {
  const job = (index: number, durationMs: number, at = 0): LabJob => ({
    index,
    at,
    durationMs,
    delayMs: 0,
    failAttempts: 0,
    attempts: 3,
    backoffMs: 0,
  });
  function world(jobs: LabJob[]) {
    let now = 0;
    const clock = {
      speed: 1,
      now: () => now,
      toWall: (ms: number) => ms,
      toWorkload: (ms: number) => ms,
      at: (t: number) => t,
      start: () => undefined,
    };
    const events = createEventQueue();
    const queue = createModelQueue(jobs);
    const pods = createModelPods({ clock, events, queue, startLatencyMs: 1000, nodeStartMs: 0 });
    const until = (t: number) => {
      events.runUntil(t, (x) => {
        now = x;
      });
      now = t;
      pods.recover(t);
      pods.dispatch(t);
    };
    for (const j of queue.jobs) queue.submit(j, 0);
    return { queue, pods, until };
  }
  const spec = (env: Record<string, string>, grace = 30) => ({
    terminationGracePeriodSeconds: grace,
    containers: [{ name: 'worker', env: Object.entries(env).map(([name, value]) => ({ name, value })) }],
  });

  it('runs CONCURRENCY jobs at once after the start latency', () => {
    const w = world([job(0, 5000), job(1, 5000), job(2, 5000)]);
    const pod = w.pods.create('d', spec({ CONCURRENCY: '2' }));
    w.until(999);
    expect(w.queue.counts().active).toBe(0);
    w.until(1000);
    expect(pod.ready).toBe(true);
    expect(w.queue.counts()).toMatchObject({ active: 2, waiting: 1 });
    w.until(6000);
    expect(w.queue.counts()).toMatchObject({ active: 1, completed: 2 });
  });

  it('hands running jobs back on SIGTERM without using an attempt', () => {
    const w = world([job(0, 60_000)]);
    const pod = w.pods.create('d', spec({ SHUTDOWN_TIMEOUT_MS: '10000' }));
    w.until(2000);
    w.pods.terminate(pod, 'scale-in');
    w.until(9999);
    expect(w.queue.counts().active).toBe(1); // shutdown timeout less the 2 s hand-back reserve
    w.until(10_000);
    expect(pod.handBacks).toBe(1);
    expect(pod.phase).toBe('Succeeded');
    expect(w.queue.counts()).toMatchObject({ active: 0, waiting: 1 });
    expect(w.queue.jobs[0]?.attemptsMade).toBe(0);
  });

  it('on SIGTERM lets a job that ends within the shutdown timeout finish, then exits', () => {
    const w = world([job(0, 5000)]);
    const pod = w.pods.create('d', spec({ SHUTDOWN_TIMEOUT_MS: '25000' }));
    w.until(2000);
    w.pods.terminate(pod, 'scale-in');
    w.until(6000);
    expect(pod.endedAt).toBe(6000);
    expect(pod.handBacks).toBe(0);
    expect(w.queue.counts().completed).toBe(1);
  });

  it('leaves a crashed worker’s job active until its lock expires, then requeues it', () => {
    const w = world([job(0, 60_000)]);
    const pod = w.pods.create('d', spec({ LOCK_DURATION_MS: '30000' }));
    w.pods.create('d', spec({}));
    w.until(2000);
    // The first pod Ready took the job; the second stays up to recover it.
    expect(w.pods.kill(pod)).toBe(true);
    w.until(31_000);
    expect(w.queue.counts().active).toBe(1);
    w.until(32_000);
    const j = w.queue.jobs[0];
    expect(j?.stalls).toBe(1);
    expect(w.queue.ledger.filter((e) => e.event === 'start')).toHaveLength(2);
  });

  it('exits 0 in EXIT mode once nothing is runnable', () => {
    const w = world([job(0, 3000)]);
    const pod = w.pods.create('c', { ...spec({ EXIT: '1' }), restartPolicy: 'OnFailure' });
    w.until(4000);
    expect(pod.phase).toBe('Succeeded');
    expect(pod.endedAt).toBe(4000);
    expect(w.queue.counts().completed).toBe(1);
  });
});
