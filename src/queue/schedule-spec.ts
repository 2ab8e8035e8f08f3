/**
 * What a schedule is before it reaches Redis: the one validation shared by `POST /schedules`,
 * `kq schedules set` and schedules declared in a handlers module. Every rule broken is a 422
 * (`ValidationError`) naming the field, and nothing is stored. The next run times come from BullMQ's
 * own strategy (`getNextMillis`, cron-parser underneath), so what kq checks is what BullMQ will do.
 */
import { createHash } from 'node:crypto';
import { getNextMillis, type JobsOptions } from 'bullmq';
import { QUEUE_NAME_RULE } from '../config.js';
import { ValidationError } from '../errors.js';
import type { JobRegistry } from '../jobs/registry.js';
import { validatePayload } from './enqueue.js';

/** A schedule as a client, the CLI or a handlers module gives it. */
export interface ScheduleRequest {
  /** Unique per queue; upserting the same id replaces the schedule. */
  id: string;
  /** The job type every run creates. */
  type: string;
  /** Payload of every run; validated against the type's schema. @default {} */
  data?: unknown;
  /** @default the job type's queue */
  queue?: string;
  /** A cron expression (5 fields, or 6 with seconds first); exactly one of `cron` and `every`. */
  cron?: string;
  /** IANA time zone of `cron` (e.g. `Europe/Berlin`). @default UTC */
  tz?: string;
  /** Milliseconds between runs, at least 1000. */
  every?: number;
  /** No run before this instant (ISO 8601 or epoch ms). */
  startAt?: string | number;
  /** No run after this instant (ISO 8601 or epoch ms); after `startAt` and in the future. */
  endAt?: string | number;
  /** Runs at most. */
  limit?: number;
}

/** What BullMQ's `upsertJobScheduler` takes, plus the digest that tells a changed schedule apart. */
export interface PreparedSchedule {
  id: string;
  queue: string;
  type: string;
  data: unknown;
  repeat: {
    pattern?: string;
    tz?: string;
    every?: number;
    startDate?: number;
    endDate?: number;
    limit?: number;
  };
  opts: JobsOptions;
  /** sha256 (16 hex chars) of everything above: equal digests = nothing to change. */
  digest: string;
}

export const SCHEDULE_ID_RULE = {
  re: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/,
  rule: 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
};
export const MIN_EVERY_MS = 1000;
const MAX_EVERY_MS = 366 * 24 * 3600 * 1000;

const invalid = (field: string, value: unknown, rule: string, at = ''): ValidationError =>
  new ValidationError(
    'INVALID_SCHEDULE',
    `${at}Invalid schedule field ${field}: ${JSON.stringify(value)} ${rule}.`,
    { field, value, rule },
  );

/** True when `Intl` knows the time zone (what cron-parser's time zone support relies on). */
export function isKnownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function instant(field: string, value: string | number | undefined, at: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms) || ms < 0) {
    throw invalid(
      field,
      value,
      'must be an ISO 8601 date-time (e.g. 2030-01-01T03:00:00Z) or epoch milliseconds',
      at,
    );
  }
  return ms;
}

/**
 * The next run at or after `fromMs` for a cron or interval, as BullMQ computes it; undefined when a cron
 * never fires again. Throws cron-parser's error for a bad expression.
 * @example nextRunAfter({ pattern: '0 3 * * *', tz: 'Europe/Berlin' }, Date.now())
 */
export function nextRunAfter(repeat: PreparedSchedule['repeat'], fromMs: number): number | undefined {
  return getNextMillis(fromMs, repeat) ?? undefined;
}

/**
 * Validates a schedule against the registry and turns it into BullMQ's arguments; throws a 422 naming
 * the field (`INVALID_SCHEDULE`, `UNKNOWN_JOB_TYPE`, `INVALID_PAYLOAD`). `at` prefixes messages.
 * @example const p = prepareSchedule(jobs, { id: 'nightly', type: 'report', cron: '0 3 * * *' });
 */
export function prepareSchedule(
  jobs: JobRegistry,
  req: ScheduleRequest,
  nowMs = Date.now(),
  at = '',
): PreparedSchedule {
  if (typeof req.id !== 'string' || !SCHEDULE_ID_RULE.re.test(req.id))
    throw invalid('id', req.id, SCHEDULE_ID_RULE.rule, at);
  const def = jobs.get(req.type);
  if (!def) {
    const known = jobs.all.map((d) => d.name);
    throw new ValidationError(
      'UNKNOWN_JOB_TYPE',
      `${at}Invalid schedule field type: unknown job type ${JSON.stringify(req.type)}. Known types: ${known.join(', ') || '(none)'}.`,
      { field: 'type', type: req.type, knownTypes: known },
    );
  }
  const queue = req.queue ?? def.queue;
  if (!QUEUE_NAME_RULE.re.test(queue))
    throw invalid('queue', queue, `must be a queue name that ${QUEUE_NAME_RULE.rule}`, at);
  let data: unknown;
  try {
    data = validatePayload(def, req.data ?? {}, at);
  } catch (err) {
    if (err instanceof ValidationError)
      throw new ValidationError(err.code, err.message, { field: 'data', ...err.details });
    throw err;
  }
  const hasCron = req.cron !== undefined;
  const hasEvery = req.every !== undefined;
  if (hasCron === hasEvery) {
    throw new ValidationError(
      'INVALID_SCHEDULE',
      `${at}Invalid schedule: give exactly one of cron and every (${hasCron ? 'both were given' : 'neither was given'}).`,
      { field: hasCron ? 'every' : 'cron', fields: ['cron', 'every'], rule: 'exactly one of cron and every' },
    );
  }
  const repeat: PreparedSchedule['repeat'] = {};
  if (hasEvery) {
    const every = req.every as number;
    if (!Number.isInteger(every) || every < MIN_EVERY_MS || every > MAX_EVERY_MS) {
      throw invalid(
        'every',
        every,
        `must be a whole number of milliseconds from ${MIN_EVERY_MS} to ${MAX_EVERY_MS}`,
        at,
      );
    }
    if (req.tz !== undefined) throw invalid('tz', req.tz, 'applies to cron only; remove it or use cron', at);
    repeat.every = every;
  }
  if (req.tz !== undefined && (typeof req.tz !== 'string' || !isKnownTimeZone(req.tz))) {
    throw invalid(
      'tz',
      req.tz,
      'must be an IANA time zone this runtime knows (e.g. Europe/Berlin, America/New_York, UTC)',
      at,
    );
  }
  const startDate = instant('startAt', req.startAt, at);
  const endDate = instant('endAt', req.endAt, at);
  if (endDate !== undefined && startDate !== undefined && endDate <= startDate) {
    throw invalid('endAt', req.endAt, `must be after startAt (${new Date(startDate).toISOString()})`, at);
  }
  if (endDate !== undefined && endDate <= nowMs) {
    throw invalid('endAt', req.endAt, `must be in the future (now is ${new Date(nowMs).toISOString()})`, at);
  }
  if (req.limit !== undefined && (!Number.isInteger(req.limit) || req.limit < 1)) {
    throw invalid('limit', req.limit, 'must be a whole number >= 1', at);
  }
  if (startDate !== undefined) repeat.startDate = startDate;
  if (endDate !== undefined) repeat.endDate = endDate;
  if (req.limit !== undefined) repeat.limit = req.limit;
  if (hasCron) {
    const cron = req.cron as string;
    repeat.pattern = cron;
    if (req.tz !== undefined) repeat.tz = req.tz;
    let next: number | undefined;
    try {
      if (typeof cron !== 'string' || cron.trim() === '') throw new Error('it is empty');
      next = nextRunAfter(repeat, Math.max(nowMs, startDate ?? 0));
    } catch (err) {
      throw invalid(
        'cron',
        cron,
        `is not a valid cron expression (${(err as Error).message}); e.g. "0 3 * * *" = 03:00 every day`,
        at,
      );
    }
    if (next === undefined || (endDate !== undefined && next > endDate)) {
      throw invalid('cron', cron, 'never fires (before endAt, if given)', at);
    }
  }
  const o = def.options;
  const opts: JobsOptions = {
    attempts: o.attempts,
    backoff: o.backoff,
    removeOnComplete: o.removeOnComplete,
    removeOnFail: o.removeOnFail,
  };
  const digest = createHash('sha256')
    .update(JSON.stringify([queue, def.name, data, repeat, opts]))
    .digest('hex')
    .slice(0, 16);
  return { id: req.id, queue, type: def.name, data, repeat, opts, digest };
}
