/**
 * The worker's lifecycle on its own (src/worker/lifecycle.ts): states, exit codes and deadlines, driven by
 * a manual clock. `close` here is a promise the test settles, standing for "every connection closed" or
 * "a close that hangs" (Redis unreachable); the same machine with real Redis is in lifecycle-worker.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createWorkerLifecycle, handBackReserveMs, MIN_DEADLINE_MS } from '../../src/worker/lifecycle.js';
import { manualTimers } from '../helpers/manual-timers.js';

function setup(shutdownTimeoutMs = 10_000) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, 'info', { write: (s: string) => lines.push(JSON.parse(s)) });
  const timers = manualTimers();
  const calls = { close: [] as boolean[], handBack: 0, stopped: [] as number[] };
  let closed: () => void = () => undefined;
  const life = createWorkerLifecycle({
    log,
    shutdownTimeoutMs,
    timers,
    running: () => 1,
    close: (force) => {
      calls.close.push(force);
      return new Promise<void>((r) => {
        closed = r;
      });
    },
    handBackAll: () => {
      calls.handBack++;
    },
    onStopped: (code) => calls.stopped.push(code),
  });
  let settled: number | undefined;
  life.done.then((code) => {
    settled = code;
  });
  const events = () => lines.map((l) => l.event);
  return { life, timers, calls, events, closeNow: () => closed(), settled: () => settled };
}

/** Lets the promise callbacks run (the machine's `await close`, `done`). */
const turn = () => new Promise<void>((r) => setImmediate(r));

describe('worker lifecycle: states and exit codes', () => {
  it('starting -> running -> draining -> stopped: a signal lets the running job finish, exit 0', async () => {
    const s = setup();
    expect(s.life.state).toBe('starting');
    expect(s.life.notReadyReason()).toBe('starting');
    expect(s.life.begin()).toBe(true);
    expect(s.life.state).toBe('running');
    expect(s.life.notReadyReason()).toBeUndefined();
    s.life.shutdown('SIGTERM');
    expect(s.life.state).toBe('draining');
    expect(s.life.notReadyReason()).toBe('shutting down');
    expect(s.calls.close).toEqual([false]);
    // The hand-back time and the deadline are armed, nothing fired yet.
    expect(s.timers.pending()).toEqual([10_000 - handBackReserveMs(10_000), 10_000]);
    s.closeNow();
    await turn();
    expect(s.settled()).toBe(0);
    expect(s.life.state).toBe('stopped');
    expect(s.calls).toMatchObject({ handBack: 0, stopped: [0] });
    expect(s.timers.pending()).toEqual([]);
    expect(s.events()).toEqual(['worker.shutting-down', 'worker.stopping', 'worker.stopped']);
  });

  it('draining -> leaving at the hand-back time; a close still hanging at the deadline exits 1', async () => {
    const s = setup(10_000);
    s.life.begin();
    s.life.shutdown('SIGTERM');
    s.timers.advance(10_000 - handBackReserveMs(10_000) - 1);
    expect(s.calls.handBack).toBe(0);
    s.timers.advance(1);
    expect(s.calls.handBack).toBe(1);
    expect(s.life.state).toBe('leaving');
    s.timers.advance(handBackReserveMs(10_000) - 1);
    await turn();
    expect(s.settled()).toBeUndefined();
    s.timers.advance(1);
    await turn();
    expect(s.settled()).toBe(1);
    expect(s.life.state).toBe('stopped');
    expect(s.events()).toContain('worker.deadline');
    // A close that ends after the deadline changes nothing.
    s.closeNow();
    await turn();
    expect(s.calls.stopped).toEqual([1]);
  });

  it('a second signal hands back at once and exits 130, within MIN_DEADLINE_MS if the close hangs', async () => {
    const s = setup(60_000);
    s.life.begin();
    s.life.shutdown('SIGTERM');
    s.life.shutdown('SIGINT');
    expect(s.calls.handBack).toBe(1);
    expect(s.life.state).toBe('leaving');
    expect(s.events()).toContain('worker.shutting-down-now');
    s.timers.advance(MIN_DEADLINE_MS - 1);
    await turn();
    expect(s.settled()).toBeUndefined();
    s.timers.advance(1);
    await turn();
    expect(s.settled()).toBe(130);
  });

  it('a second signal whose hand-back lets the close finish exits 130 at once', async () => {
    const s = setup(60_000);
    s.life.begin();
    s.life.shutdown('SIGTERM');
    s.life.shutdown('SIGINT');
    s.closeNow();
    await turn();
    expect(s.settled()).toBe(130);
    expect(s.timers.pending()).toEqual([]);
  });

  it('fail: hands back at once, leaving, exit 1; a signal after it does not lower the code', async () => {
    const s = setup();
    s.life.begin();
    s.life.fail('uncaught exception: boom');
    expect(s.calls.handBack).toBe(1);
    expect(s.life.state).toBe('leaving');
    s.life.shutdown('SIGTERM');
    expect(s.calls.close).toHaveLength(1);
    s.closeNow();
    await turn();
    expect(s.settled()).toBe(1);
  });

  it('exit mode: an empty queue stops without a deadline (exit 0); a signal then still arms one', async () => {
    const s = setup(5000);
    s.life.begin();
    s.life.stop(0, 'queue is empty');
    expect(s.life.state).toBe('draining');
    expect(s.timers.pending()).toEqual([]);
    s.life.shutdown('SIGTERM');
    expect(s.timers.pending()).toEqual([5000 - handBackReserveMs(5000), 5000]);
    expect(s.calls.close).toHaveLength(1);
    s.closeNow();
    await turn();
    expect(s.settled()).toBe(0);
  });

  it('exit mode: Redis down leaves at once (force) and exits 1, by the deadline at the latest', async () => {
    const s = setup(2000);
    s.life.begin();
    s.life.redisDown();
    expect(s.life.state).toBe('leaving');
    expect(s.calls.close).toEqual([true]);
    s.timers.advance(2000);
    await turn();
    expect(s.settled()).toBe(1);
  });

  it('MAX_JOBS: finishing stays ready until its jobs settle, then draining (503); exit 0', async () => {
    const s = setup();
    s.life.begin();
    s.life.stop(0, 'MAX_JOBS (1) reached', { maxJobs: true });
    expect(s.life.state).toBe('finishing');
    expect(s.life.notReadyReason()).toBeUndefined();
    s.life.jobsSettled();
    expect(s.life.state).toBe('draining');
    expect(s.life.notReadyReason()).toBe('shutting down');
    s.closeNow();
    await turn();
    expect(s.settled()).toBe(0);
  });

  it('MAX_JOBS then a signal: not ready at once, and the deadline hands the job back', async () => {
    const s = setup(10_000);
    s.life.begin();
    s.life.stop(0, 'MAX_JOBS (1) reached', { maxJobs: true });
    s.life.shutdown('SIGTERM');
    expect(s.life.state).toBe('draining');
    expect(s.life.notReadyReason()).toBe('shutting down');
    s.timers.advance(10_000 - handBackReserveMs(10_000));
    expect(s.calls.handBack).toBe(1);
    s.closeNow();
    await turn();
    expect(s.settled()).toBe(0);
  });

  it('a stop during start: fetching never begins', async () => {
    const s = setup();
    s.life.stop(0, 'queue is empty');
    expect(s.life.state).toBe('draining');
    expect(s.life.begin()).toBe(false);
    s.closeNow();
    await turn();
    expect(s.settled()).toBe(0);
  });

  it('refused at start: exit 2, nothing to close, no timer; stops after it change nothing', async () => {
    const s = setup();
    s.life.refuse();
    expect(s.life.state).toBe('refused');
    await turn();
    expect(s.settled()).toBe(2);
    expect(s.life.begin()).toBe(false);
    s.life.stop(0, 'queue is empty');
    s.life.shutdown('SIGTERM');
    expect(s.life.state).toBe('refused');
    expect(s.calls.close).toEqual([]);
    expect(s.timers.pending()).toEqual([]);
  });

  it('a tiny SHUTDOWN_TIMEOUT_MS still gives the stop MIN_DEADLINE_MS', () => {
    const s = setup(100);
    s.life.begin();
    s.life.shutdown('SIGTERM');
    expect(s.timers.pending()).toEqual([100 - handBackReserveMs(100), MIN_DEADLINE_MS]);
  });
});
