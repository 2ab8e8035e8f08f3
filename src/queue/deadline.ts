/**
 * The one deadline mechanism of kq's Redis calls. Deadlines are checked by one shared ticker (every
 * `TICK_MS`, running only while something is pending) instead of a timer and a `Promise.race` per call:
 * on the API's hot path that was a timer, three promises and a closure per request
 * (docs/performance.md). A deadline fires within `TICK_MS` after it is due.
 *
 * A deadline does not cancel the work: Redis may still apply a command whose caller gave up. That is
 * why callers classify what a timeout means (`maybeSent` in redis-errors.ts) instead of saying
 * "nothing stored".
 */

export const TICK_MS = 50;

export interface Deadline {
  /** Stops the deadline (the work finished in time). */
  clear(): void;
}

/**
 * A timer source in place of the shared ticker, for a caller whose clock is injected (the worker's
 * lifecycle timers): calls `fn` once after `ms` and returns what cancels it.
 */
export interface DeadlineTimer {
  after(ms: number, fn: () => void): () => void;
}

interface Entry {
  dueAt: number;
  expire: () => void;
}

const pending = new Set<Entry>();
let ticker: NodeJS.Timeout | undefined;

function tick(): void {
  const now = Date.now();
  for (const e of pending) {
    if (e.dueAt <= now) {
      pending.delete(e);
      e.expire();
    }
  }
  if (pending.size === 0 && ticker) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

/**
 * Calls `expire` once `ms` have passed, unless `clear()` is called first; on `timer` when given.
 * @example const d = startDeadline(5000, () => reject(timeoutError)); work.finally(() => d.clear());
 */
export function startDeadline(ms: number, expire: () => void, timer?: DeadlineTimer): Deadline {
  if (timer) {
    return { clear: timer.after(ms, expire) };
  }
  const entry: Entry = { dueAt: Date.now() + ms, expire };
  pending.add(entry);
  if (!ticker) {
    ticker = setInterval(tick, TICK_MS);
    ticker.unref();
  }
  return { clear: () => pending.delete(entry) };
}

/**
 * `work` within `ms`: resolves or rejects as it does, or rejects with `onTimeout()` when it is late.
 * @example await withDeadline(() => redis.ping(), 1000, () => maybeSent('PING timed out'))
 */
export function withDeadline<T>(
  work: () => Promise<T>,
  ms: number,
  onTimeout: () => unknown,
  timer?: DeadlineTimer,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const d = startDeadline(ms, () => reject(onTimeout()), timer);
    let running: Promise<T>;
    try {
      running = work();
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (v) => {
        d.clear();
        resolve(v);
      },
      (err) => {
        d.clear();
        reject(err);
      },
    );
  });
}

/** Deadlines pending right now (tests use it to check nothing leaks). */
export function pendingDeadlines(): number {
  return pending.size;
}
