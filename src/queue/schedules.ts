/**
 * Schedules (recurring jobs) on BullMQ's job schedulers, in BullMQ's key layout (`<queue>:repeat` ZSET
 * scored by the next run, `<queue>:repeat:<id>` HASH), so bull-board and BullMQ itself see them. BullMQ
 * creates one delayed job per run with the id `repeat:<id>:<run ms>` and, when a worker picks it up,
 * the next one: a run fires once however many API or worker replicas run.
 *
 * kq marks each scheduler it creates in the template's job options: `kqScheduleSource` ('api' for the
 * API and CLI, 'module' for a handlers module) and `kqScheduleDigest` (prepareSchedule's digest). Applying
 * a module (`applyDeclaredSchedules`) compares digests, so a restart changes nothing, and removes only
 * `module` schedules the module no longer declares.
 */
import type { JobSchedulerJson } from 'bullmq';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QueueCache } from './queues.js';
import type { PreparedSchedule } from './schedule-spec.js';

export const SOURCE_OPTION = 'kqScheduleSource';
export const DIGEST_OPTION = 'kqScheduleDigest';
export type ScheduleSource = 'api' | 'module' | 'other';

/** A schedule as the API, the CLI and logs show it. */
export interface ScheduleInfo {
  id: string;
  queue: string;
  type: string;
  data: unknown;
  cron: string | null;
  tz: string | null;
  every: number | null;
  startAt: string | null;
  endAt: string | null;
  limit: number | null;
  /** Runs created so far (BullMQ's iteration count). */
  iterations: number;
  /** When the next run is due; null once it has ended (limit or endAt reached). */
  nextRunAt: string | null;
  /** Who made it: the API or CLI, a handlers module, or something else (BullMQ directly, bull-board). */
  source: ScheduleSource;
}

const iso = (ms: number | undefined | null) =>
  typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : null;

function toInfo(queue: string, s: JobSchedulerJson): ScheduleInfo {
  const opts = (s.template?.opts ?? {}) as Record<string, unknown>;
  const source = opts[SOURCE_OPTION];
  return {
    id: s.key,
    queue,
    type: s.name,
    data: s.template?.data ?? {},
    cron: s.pattern ?? null,
    tz: s.tz ?? null,
    every: s.every ?? null,
    startAt: iso(s.startDate),
    endAt: iso(s.endDate),
    limit: s.limit ?? null,
    iterations: s.iterationCount ?? 0,
    nextRunAt: iso(s.next),
    source: source === 'api' || source === 'module' ? source : 'other',
  };
}

const digestOf = (s: JobSchedulerJson) =>
  (s.template?.opts as Record<string, unknown> | undefined)?.[DIGEST_OPTION] as string | undefined;

/** One scheduler, or undefined. */
export async function readSchedule(
  queues: QueueCache,
  queue: string,
  id: string,
): Promise<ScheduleInfo | undefined> {
  const s = await queues.get(queue).getJobScheduler(id);
  return s ? toInfo(queue, s) : undefined;
}

/** Every scheduler of `names`, queue by queue, each sorted by next run. */
export async function listSchedules(queues: QueueCache, names: readonly string[]): Promise<ScheduleInfo[]> {
  const per = await Promise.all(
    names.map(async (q) => (await queues.get(q).getJobSchedulers(0, -1, true)).map((s) => toInfo(q, s))),
  );
  return per.flat();
}

/**
 * Creates or replaces the schedule (BullMQ `upsertJobScheduler`); `created` is false when one with that
 * id existed on that queue. Two requests for one new id at the same moment may both say created.
 * @example const { created } = await upsertSchedule(queues, prepareSchedule(jobs, req), 'api');
 */
export async function upsertSchedule(
  queues: QueueCache,
  p: PreparedSchedule,
  source: Exclude<ScheduleSource, 'other'>,
): Promise<{ created: boolean; schedule: ScheduleInfo }> {
  const q = queues.get(p.queue);
  const existed = (await q.getJobScheduler(p.id)) !== undefined;
  await q.upsertJobScheduler(p.id, p.repeat, {
    name: p.type,
    data: p.data,
    opts: { ...p.opts, [SOURCE_OPTION]: source, [DIGEST_OPTION]: p.digest } as typeof p.opts,
  });
  const s = await q.getJobScheduler(p.id);
  const schedule = s
    ? toInfo(p.queue, s)
    : // Already past its limit or end: BullMQ stores nothing.
      ({ ...fromPrepared(p, source), nextRunAt: null } as ScheduleInfo);
  return { created: !existed, schedule };
}

function fromPrepared(p: PreparedSchedule, source: ScheduleSource): ScheduleInfo {
  return {
    id: p.id,
    queue: p.queue,
    type: p.type,
    data: p.data,
    cron: p.repeat.pattern ?? null,
    tz: p.repeat.tz ?? null,
    every: p.repeat.every ?? null,
    startAt: iso(p.repeat.startDate),
    endAt: iso(p.repeat.endDate),
    limit: p.repeat.limit ?? null,
    iterations: 0,
    nextRunAt: null,
    source,
  };
}

/** Removes the scheduler and its pending run; false when there was none. */
export function removeSchedule(queues: QueueCache, queue: string, id: string): Promise<boolean> {
  return queues.get(queue).removeJobScheduler(id);
}

/**
 * The queue holding schedule `id`: `queue` when given, else the one of `names` that has it. 404
 * SCHEDULE_NOT_FOUND when none has it, 409 SCHEDULE_AMBIGUOUS naming the queues when several do.
 */
export async function locateSchedule(
  queues: QueueCache,
  names: readonly string[],
  id: string,
  queue?: string,
): Promise<ScheduleInfo> {
  const candidates = queue ? [queue] : names;
  const found = (await Promise.all(candidates.map((q) => readSchedule(queues, q, id)))).filter(
    (s): s is ScheduleInfo => s !== undefined,
  );
  const [first] = found;
  if (!first) {
    throw new NotFoundError(
      'SCHEDULE_NOT_FOUND',
      `Schedule ${JSON.stringify(id)} was not found${queue ? ` on queue ${JSON.stringify(queue)}` : ' on any known queue'}.`,
      { id, ...(queue ? { queue } : {}) },
    );
  }
  if (found.length > 1) {
    const where = found.map((s) => s.queue);
    throw new ConflictError(
      'SCHEDULE_AMBIGUOUS',
      `Schedule id ${JSON.stringify(id)} exists on queues ${where.join(', ')}; add ?queue=<name> (CLI: --queue) to say which.`,
      { id, queues: where },
    );
  }
  return first;
}

export interface ApplyResult {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
}

/**
 * Makes Redis hold the module's schedules: adds missing ones, replaces those whose digest differs (or
 * that were made by hand with the same id), removes `module` schedules of `names` the module no longer
 * declares. Idempotent: a second run (a restart, a second replica) changes nothing. One log line per
 * schedule added, changed or removed.
 * @example await applyDeclaredSchedules({ queues, names: await directory.names(), declared, log });
 */
export async function applyDeclaredSchedules(o: {
  queues: QueueCache;
  /** Queues to look for stale module schedules on (the known queues). */
  names: readonly string[];
  declared: readonly PreparedSchedule[];
  log?: Logger;
}): Promise<ApplyResult> {
  const names = [...new Set([...o.names, ...o.declared.map((p) => p.queue)])];
  const existing = new Map<string, JobSchedulerJson & { queue: string }>();
  await Promise.all(
    names.map(async (q) => {
      for (const s of await o.queues.get(q).getJobSchedulers(0, -1, true))
        existing.set(`${q}/${s.key}`, { ...s, queue: q });
    }),
  );
  const result: ApplyResult = { added: [], changed: [], removed: [], unchanged: [] };
  const declaredKeys = new Set<string>();
  for (const p of o.declared) {
    const key = `${p.queue}/${p.id}`;
    declaredKeys.add(key);
    const now = existing.get(key);
    const action = !now
      ? 'added'
      : digestOf(now) !== p.digest || toInfo(p.queue, now).source !== 'module'
        ? 'changed'
        : 'unchanged';
    if (action !== 'unchanged') {
      await upsertSchedule(o.queues, p, 'module');
      o.log?.info(
        {
          event: `schedule.${action}`,
          schedule: p.id,
          queue: p.queue,
          type: p.type,
          cron: p.repeat.pattern,
          tz: p.repeat.tz,
          every: p.repeat.every,
        },
        `schedule ${p.id} on queue ${p.queue} ${action}`,
      );
    }
    result[action].push(key);
  }
  for (const [key, s] of existing) {
    if (declaredKeys.has(key) || toInfo(s.queue, s).source !== 'module') continue;
    await removeSchedule(o.queues, s.queue, s.key);
    o.log?.info(
      { event: 'schedule.removed', schedule: s.key, queue: s.queue, type: s.name },
      `schedule ${s.key} on queue ${s.queue} removed (no longer declared in the handlers module)`,
    );
    result.removed.push(key);
  }
  return result;
}
