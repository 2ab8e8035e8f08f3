/**
 * Schedules declared in a handlers module, next to the job definitions:
 * `export const schedules = [defineSchedule({ id: 'nightly', type: report, cron: '0 3 * * *' })]`
 * (any export name; a schedule or an array of them). `kq api` applies them at start (src/queue/schedules.ts):
 * adds the new ones, replaces the changed ones, and removes the schedules it declared earlier that the
 * module no longer declares. Schedules made through the API or the CLI are never removed that way.
 */

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, KqError } from '../errors.js';
import type { PreparedSchedule, ScheduleRequest } from '../queue/schedule-spec.js';
import type { JobDefinition } from './define-job.js';
import type { JobRegistry } from './registry.js';

export const SCHEDULE_DEFINITION = Symbol.for('kq.scheduleDefinition');

export interface ScheduleDefinition extends ScheduleRequest {
  readonly [SCHEDULE_DEFINITION]: true;
}

/** `type` may be the job definition itself, so a renamed job cannot leave its schedule behind. */
export type DefineScheduleInput = Omit<ScheduleRequest, 'type'> & { type: string | JobDefinition };

/**
 * Declares a recurring job in a handlers module; `kq api` applies it at start.
 * @example
 * export const nightly = defineSchedule({ id: 'nightly-report', type: report, cron: '0 3 * * *', tz: 'Europe/Berlin' });
 */
export function defineSchedule(input: DefineScheduleInput): ScheduleDefinition {
  const type = typeof input.type === 'string' ? input.type : input.type?.name;
  return { ...input, type, [SCHEDULE_DEFINITION]: true };
}

export function isScheduleDefinition(value: unknown): value is ScheduleDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[SCHEDULE_DEFINITION] === true
  );
}

/** Schedules of a module's exports, with where each is exported (`nightly`, `schedules[1]`). */
export function collectSchedules(
  mod: Record<string, unknown>,
): { schedule: ScheduleDefinition; exportName: string }[] {
  const found: { schedule: ScheduleDefinition; exportName: string }[] = [];
  const visit = (value: unknown, exportName: string) => {
    if (isScheduleDefinition(value)) found.push({ schedule: value, exportName });
    else if (Array.isArray(value)) for (const [i, v] of value.entries()) visit(v, `${exportName}[${i}]`);
  };
  for (const [name, value] of Object.entries(mod)) visit(value, name);
  return found;
}

/**
 * The schedules the handlers module at `path` declares, validated against `jobs` (a bad one is a
 * ConfigError naming the export and the field); none when `path` is empty (the demo jobs).
 * The module is the one `loadRegistry` imported: Node's module cache makes this import free.
 * @example const schedules = await loadSchedules(process.env.HANDLERS ?? '', jobs);
 */
export async function loadSchedules(path: string, jobs: JobRegistry): Promise<PreparedSchedule[]> {
  if (!path) return [];
  // Loaded here, not at the top: handler modules import defineSchedule from kq's library entry, and a
  // worker has no use for the validation (nor its cron parser).
  const { prepareSchedule } = await import('../queue/schedule-spec.js');
  const file = isAbsolute(path) ? path : resolve(process.cwd(), path);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const seen = new Map<string, { exportName: string; schedule: ScheduleDefinition }>();
  const out: PreparedSchedule[] = [];
  for (const { schedule, exportName } of collectSchedules(mod)) {
    let p: PreparedSchedule;
    try {
      p = prepareSchedule(jobs, schedule);
    } catch (err) {
      if (!(err instanceof KqError)) throw err;
      throw new ConfigError(
        `HANDLERS (--handlers) ${JSON.stringify(path)}: the schedule exported as \`${exportName}\` is invalid: ${err.message}`,
        { option: 'handlers', value: path, export: exportName, ...err.details },
        { cause: err },
      );
    }
    const key = `${p.queue}/${p.id}`;
    const first = seen.get(key);
    if (first?.schedule === schedule) continue;
    if (first !== undefined) {
      throw new ConfigError(
        `HANDLERS (--handlers) ${JSON.stringify(path)}: exports \`${first.exportName}\` and \`${exportName}\` declare two schedules with id ${JSON.stringify(p.id)} on queue ${JSON.stringify(p.queue)}; schedule ids must be unique per queue.`,
        { option: 'handlers', value: path },
      );
    }
    out.push(p);
    seen.set(key, { exportName, schedule });
  }
  return out;
}
