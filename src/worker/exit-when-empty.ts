/**
 * Exit-when-empty (the seed's `EXIT=1` CronJob mode), done without its races.
 *
 * The seed checked `LLEN > 0` and then blocked in `BRPOP`: if another worker took the last item in
 * between, the pod blocked forever. BullMQ's `drained` event is no better: it fires whenever one fetch
 * comes back empty, also while other jobs still run, and not reliably after the last one.
 *
 * Here nothing ever blocks on "is there work": a watcher asks Redis directly, on a short interval and
 * right after each job finishes, but only while this process runs no handler. It counts what a worker
 * could start now: waiting + prioritized + delayed jobs already due (delayed jobs not yet due do not keep
 * it alive; a paused queue counts as empty, since nothing can be taken from it). When that is 0 it calls
 * `onEmpty`; the caller then closes the BullMQ worker, which waits for any job fetched in the meantime,
 * so a job that arrived after the check is finished, never dropped.
 *
 * An orphan (a running job whose worker died, lock gone) is work too: each check first runs the worker's
 * orphan recovery (`recover`, src/worker/orphan-recovery.ts), which requeues them, and a check that
 * requeued anything does not judge; the next one counts those jobs as waiting. A failed recovery counts
 * as a failed check.
 *
 * Redis down is never "empty": a failed check starts an outage clock, a successful one stops it, and an
 * outage longer than `redisDownTimeoutMs` calls `onRedisDown`, so the pod exits non-zero and the Job's
 * `backoffLimit` retries it.
 */
import type { Redis } from 'ioredis';
import { readStartable } from '../queue/counts.js';

export interface ExitWhenEmptyOptions {
  /** A fail-fast connection (commands error at once while Redis is down). */
  redis: Redis;
  prefix: string;
  queue: string;
  /** True when no handler runs in this process. */
  isIdle: () => boolean;
  /** Requeues orphaned jobs now; resolves to how many. */
  recover: () => Promise<number>;
  /** @default 250 */
  intervalMs?: number;
  redisDownTimeoutMs: number;
  /** The clock an outage is measured on, in ms (tests pass their own). @default Date.now */
  now?: () => number;
  onEmpty: (why: 'empty' | 'paused') => void;
  onRedisDown: (err: Error, downForMs: number) => void;
}

export interface EmptyWatcher {
  /** Check soon (after a job finished). */
  poke(): void;
  stop(): void;
}

/** @example const w = watchForEmpty({ redis, prefix, queue, isIdle, redisDownTimeoutMs: 10_000, onEmpty, onRedisDown }); */
export function watchForEmpty(opts: ExitWhenEmptyOptions): EmptyWatcher {
  let stopped = false;
  let checking = false;
  let again = false;
  let downSince: number | undefined;
  const clock = opts.now ?? (() => Date.now());
  const startedAt = clock();

  async function check(): Promise<void> {
    if (stopped) return;
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      if (!opts.isIdle()) return;
      if ((await opts.recover()) > 0) {
        downSince = undefined;
        again = true;
        return;
      }
      const { startable, paused } = await readStartable(opts.redis, opts.prefix, opts.queue);
      downSince = undefined;
      if (stopped || !opts.isIdle()) return;
      if (paused || startable === 0) {
        stopped = true;
        clearInterval(timer);
        opts.onEmpty(paused ? 'paused' : 'empty');
      }
    } catch (err) {
      const now = clock();
      downSince ??= Math.min(now, startedAt);
      if (now - downSince >= opts.redisDownTimeoutMs && !stopped) {
        stopped = true;
        clearInterval(timer);
        opts.onRedisDown(err as Error, now - downSince);
      }
    } finally {
      checking = false;
      if (again && !stopped) {
        again = false;
        setImmediate(check);
      }
    }
  }

  const timer = setInterval(check, opts.intervalMs ?? 250);
  setImmediate(check);
  return {
    poke: () => setImmediate(check),
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
