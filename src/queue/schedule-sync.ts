/**
 * `kq api` applying its handlers module's schedules at start: once Redis answers, then never again in
 * that process. Redis may be down when the API starts (the API starts anyway and answers 503), so a
 * failed attempt is retried every `retryMs` until it succeeds or the API closes.
 */
import type { Logger } from '../log.js';
import type { QueueDirectory } from './queue-directory.js';
import type { QueueCache } from './queues.js';
import type { RedisGuard } from './redis-guard.js';
import type { PreparedSchedule } from './schedule-spec.js';
import { type ApplyResult, applyDeclaredSchedules } from './schedules.js';

export interface ScheduleSync {
  /** Resolves once applied; never rejects. */
  readonly done: Promise<ApplyResult>;
  close(): void;
}

/** @example const sync = keepSchedulesApplied({ queues, directory, guard, declared, log }); await sync.done; */
export function keepSchedulesApplied(o: {
  queues: QueueCache;
  directory: QueueDirectory;
  guard: RedisGuard;
  declared: readonly PreparedSchedule[];
  log?: Logger;
  /** @default 5000 */
  retryMs?: number;
}): ScheduleSync {
  const retryMs = o.retryMs ?? 5000;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let resolve: (r: ApplyResult) => void = () => undefined;
  const done = new Promise<ApplyResult>((r) => {
    resolve = r;
  });
  const attempt = async () => {
    if (closed) return;
    try {
      const r = await o.guard(async () =>
        applyDeclaredSchedules({
          queues: o.queues,
          names: await o.directory.names(),
          declared: o.declared,
          log: o.log,
        }),
      );
      o.log?.info(
        {
          event: 'schedules.applied',
          declared: o.declared.length,
          added: r.added.length,
          changed: r.changed.length,
          removed: r.removed.length,
          unchanged: r.unchanged.length,
        },
        `schedules applied: ${r.added.length} added, ${r.changed.length} changed, ${r.removed.length} removed, ${r.unchanged.length} unchanged`,
      );
      resolve(r);
    } catch (err) {
      if (closed) return;
      o.log?.warn(
        { event: 'schedules.apply-failed', err: (err as Error).message },
        `applying the handlers module's schedules failed (${(err as Error).message}); retrying in ${retryMs} ms`,
      );
      timer = setTimeout(attempt, retryMs);
      timer.unref();
    }
  };
  void attempt();
  return {
    done,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
