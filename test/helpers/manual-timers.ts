/**
 * A manual `LifecycleTimers` (src/worker/lifecycle.ts): time stands still and nothing fires until the test
 * moves the clock (`now()` is in ms from its creation), so a test of kq's shutdown deadlines reads in ms
 * of the worker's time and never sleeps on them.
 */
import type { LifecycleTimers } from '../../src/worker/lifecycle.js';

export interface ManualTimers extends LifecycleTimers {
  /** Timers armed and not yet fired or cancelled, by due time. */
  pending(): number[];
  /** Moves the clock forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void;
}

/** @example const timers = manualTimers(); await startWorker(o, { jobs, log, timers }); timers.advance(1000); */
export function manualTimers(): ManualTimers {
  let now = 0;
  let seq = 0;
  const armed = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    after(ms, fn) {
      const id = seq++;
      armed.set(id, { at: now + Math.max(0, ms), fn });
      return () => armed.delete(id);
    },
    pending: () => [...armed.values()].map((t) => t.at).sort((a, b) => a - b),
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const next = [...armed.entries()]
          .filter(([, t]) => t.at <= until)
          .sort(([ia, a], [ib, b]) => a.at - b.at || ia - ib)[0];
        if (!next) break;
        armed.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = until;
    },
  };
}
