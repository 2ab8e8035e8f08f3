/**
 * `kq schedules list | set <id> | delete <id>`: schedules (recurring jobs) from the command line, the
 * same rules and storage as `POST /schedules` (src/queue/schedule-spec.ts, src/queue/schedules.ts).
 * Exit codes: 0 done; 1 Redis unreachable; 2 an invalid option or schedule (the message names the
 * option, the value and the rule); 3 no such schedule; 4 the id exists on several queues (add --queue).
 */
import type { Command } from '../cli.js';
import {
  intOption,
  parseOptions,
  prefixOption,
  QUEUE_NAME_RULE,
  redisAuth,
  redisAuthOptions,
  redisUrlOption,
  stringOption,
} from '../config.js';
import { ConfigError, KqError } from '../errors.js';
import { loadRegistry } from '../jobs/registry.js';
import { createQueueDirectory } from '../queue/queue-directory.js';
import { createQueueCache } from '../queue/queues.js';
import { prepareSchedule, type ScheduleRequest } from '../queue/schedule-spec.js';
import {
  listSchedules,
  locateSchedule,
  removeSchedule,
  type ScheduleInfo,
  upsertSchedule,
} from '../queue/schedules.js';
import { RedisSessionError, withRedis } from './redis-session.js';

const specs = {
  redisUrl: redisUrlOption(),
  ...redisAuthOptions(),
  prefix: prefixOption(),
  handlers: stringOption(
    'handlers',
    ['HANDLERS'],
    '',
    'JavaScript module exporting job definitions (to validate --type and --data); empty = demo jobs',
  ),
  queue: stringOption(
    'queue',
    [],
    '',
    "queue; default: the job type's queue (set), every queue (list)",
    QUEUE_NAME_RULE,
  ),
  type: stringOption('type', [], '', 'set: the job type every run creates'),
  data: stringOption('data', [], '', 'set: JSON payload of every run; default {}'),
  cron: stringOption('cron', [], '', 'set: cron expression, e.g. "0 3 * * *" (or --every)'),
  tz: stringOption('tz', [], '', 'set: IANA time zone of --cron, e.g. Europe/Berlin; default UTC'),
  every: intOption(
    'every',
    [],
    0,
    0,
    Number.MAX_SAFE_INTEGER,
    'set: milliseconds between runs, at least 1000 (or --cron)',
  ),
  startAt: stringOption('start-at', [], '', 'set: no run before this ISO 8601 instant'),
  endAt: stringOption('end-at', [], '', 'set: no run after this ISO 8601 instant'),
  limit: intOption('limit', [], 0, 0, Number.MAX_SAFE_INTEGER, 'set: runs at most; 0 = no limit'),
};
const ACTIONS = ['list', 'set', 'delete'] as const;
/** Schedule field -> the option that sets it, for error messages. */
const OPTION_OF: Record<string, string> = {
  id: '<id>',
  type: '--type',
  data: '--data',
  queue: '--queue',
  cron: '--cron',
  tz: '--tz',
  every: '--every',
  startAt: '--start-at',
  endAt: '--end-at',
  limit: '--limit',
};

const line = (s: ScheduleInfo) =>
  [
    `${s.queue}/${s.id}`,
    s.type,
    s.cron !== null ? `cron ${JSON.stringify(s.cron)}${s.tz ? ` tz ${s.tz}` : ''}` : `every ${s.every}ms`,
    `next ${s.nextRunAt ?? '-'}`,
    `runs ${s.iterations}${s.limit !== null ? `/${s.limit}` : ''}`,
    s.source,
  ].join('  ');

export const command: Command = {
  summary: 'List, set (create or replace) or delete schedules (recurring jobs)',
  usage:
    'kq schedules list | set <id> --type <type> (--cron <expr> [--tz <zone>] | --every <ms>) | delete <id> [options]',
  options: specs,
  async run(argv, env) {
    const { values, positionals } = parseOptions(specs, argv, env, 2);
    const [action, id] = positionals;
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) {
      throw new ConfigError(
        `Unknown action ${JSON.stringify(action ?? '')}: it must be one of ${ACTIONS.join(', ')}; see kq schedules --help.`,
        { option: 'action', value: action ?? '' },
      );
    }
    if (action !== 'list' && !id)
      throw new ConfigError(`kq schedules ${action} needs a schedule id: kq schedules ${action} <id>.`, {
        option: '<id>',
      });
    const jobs = await loadRegistry(values.handlers);
    let prepared: ReturnType<typeof prepareSchedule> | undefined;
    if (action === 'set') {
      if (!values.type)
        throw new ConfigError('kq schedules set needs --type <job type>.', { option: 'type' });
      let data: unknown;
      if (values.data) {
        try {
          data = JSON.parse(values.data);
        } catch (err) {
          throw new ConfigError(
            `Invalid --data: ${JSON.stringify(values.data)} is not valid JSON (${(err as Error).message}); quote it, e.g. --data '{"n":1}'.`,
            { option: 'data', value: values.data },
          );
        }
      }
      const req: ScheduleRequest = { id: id as string, type: values.type, data };
      if (values.queue) req.queue = values.queue;
      if (values.cron) req.cron = values.cron;
      if (values.tz) req.tz = values.tz;
      if (values.every) req.every = values.every;
      if (values.startAt) req.startAt = values.startAt;
      if (values.endAt) req.endAt = values.endAt;
      if (values.limit) req.limit = values.limit;
      try {
        prepared = prepareSchedule(jobs, req);
      } catch (err) {
        if (!(err instanceof KqError)) throw err;
        const field = String(err.details.field ?? '');
        const option = OPTION_OF[field];
        const hint =
          field === 'type' && !values.handlers
            ? ' HANDLERS is not set, so only the demo jobs are known: set HANDLERS (--handlers) to the module that exports your job definitions.'
            : '';
        throw new ConfigError(`${option ? `Invalid ${option}: ` : ''}${err.message}${hint}`, {
          option: option ?? field,
          ...err.details,
        });
      }
    }
    try {
      const out = await withRedis(
        {
          command: `schedules ${action}`,
          url: values.redisUrl,
          auth: redisAuth(values),
          timeoutMs: 10_000,
          writes: action !== 'list',
        },
        async (redis) => {
          const queues = createQueueCache(redis, values.prefix);
          const dir = createQueueDirectory({ redis, prefix: values.prefix, declared: jobs.queues() });
          try {
            const names = values.queue ? [values.queue] : await dir.names();
            if (action === 'list') return (await listSchedules(queues, names)).map(line).join('\n');
            if (prepared) {
              await dir.register([prepared.queue]);
              const { created, schedule } = await upsertSchedule(queues, prepared, 'api');
              return `${created ? 'created' : 'replaced'} ${line(schedule)}`;
            }
            const s = await locateSchedule(queues, names, id as string, values.queue || undefined);
            await removeSchedule(queues, s.queue, s.id);
            return `deleted ${s.queue}/${s.id}`;
          } finally {
            await queues.close();
          }
        },
      );
      if (out) process.stdout.write(`${out}\n`);
      return 0;
    } catch (err) {
      if (err instanceof RedisSessionError) {
        process.stderr.write(`${err.message}\n`);
        return 1;
      }
      if (
        err instanceof KqError &&
        (err.code === 'SCHEDULE_NOT_FOUND' || err.code === 'SCHEDULE_AMBIGUOUS')
      ) {
        process.stderr.write(`kq schedules ${action}: ${err.message}\n`);
        return err.code === 'SCHEDULE_NOT_FOUND' ? 3 : 4;
      }
      throw err;
    }
  },
};
