/**
 * `kq enqueue <type> [json]`: validates the payload against the type's schema, stores the job, prints its id.
 * With traces on (the same OpenTelemetry environment as `kq api`), the job's trace starts at an enqueue
 * span of service `kq-cli`, under the caller's `TRACEPARENT` / `TRACESTATE` environment when set.
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
import { ConfigError, ValidationError } from '../errors.js';
import { loadRegistry } from '../jobs/registry.js';
import { enqueue, MAX_PRIORITY, prepareJob } from '../queue/enqueue.js';
import { createQueueCache } from '../queue/queues.js';
import { loadTracing } from '../tracing/load-tracing.js';
import { RedisSessionError, withRedis } from './redis-session.js';

const specs = {
  redisUrl: redisUrlOption(),
  ...redisAuthOptions(),
  prefix: prefixOption(),
  queue: stringOption('queue', [], '', "queue name; default: the job type's queue", QUEUE_NAME_RULE),
  delay: intOption('delay', [], 0, 0, 365 * 24 * 3600 * 1000, 'milliseconds before the job may run'),
  priority: intOption('priority', [], 0, 0, MAX_PRIORITY, '1 = highest; 0 = no priority (FIFO)'),
  attempts: intOption('attempts', [], 0, 0, 1000, "runs before failing for good; 0 = the type's default"),
  handlers: stringOption(
    'handlers',
    ['HANDLERS'],
    '',
    'JavaScript module exporting job definitions; empty = demo jobs',
  ),
};
const summary = 'Add a job: kq enqueue <type> [json-payload]';

export const command: Command = {
  summary,
  usage: 'kq enqueue <type> [json-payload] [options]',
  options: specs,
  async run(argv, env) {
    const { values, positionals } = parseOptions(specs, argv, env, 2);
    const [type, json] = positionals;
    if (!type)
      throw new ConfigError(
        'Missing <type>: usage is kq enqueue <type> [json-payload], e.g. kq enqueue sleep \'{"seconds":1}\'.',
      );
    let data: unknown;
    if (json !== undefined) {
      try {
        data = JSON.parse(json);
      } catch (err) {
        throw new ConfigError(
          `Payload ${JSON.stringify(json)} is not valid JSON (${(err as Error).message}); quote it, e.g. '{"seconds":1}'.`,
          { option: 'json-payload', value: json },
          { cause: err },
        );
      }
    }
    const jobs = await loadRegistry(values.handlers);
    const req = {
      type,
      data,
      queue: values.queue || undefined,
      delay: values.delay || undefined,
      priority: values.priority || undefined,
      attempts: values.attempts || undefined,
    };
    try {
      // Type and payload are checked before Redis is asked anything.
      prepareJob(jobs, req);
      const tracing = await loadTracing(env, 'kq-cli');
      const store = () =>
        withRedis(
          {
            command: 'enqueue',
            url: values.redisUrl,
            auth: redisAuth(values),
            timeoutMs: 5000,
            writes: true,
          },
          async (redis) => {
            const queues = createQueueCache(redis, values.prefix);
            try {
              return await enqueue(queues, jobs, req);
            } finally {
              await queues.close();
            }
          },
        );
      const job = await (tracing
        ? tracing
            .withParent({ traceparent: env.TRACEPARENT, tracestate: env.TRACESTATE }, store)
            .finally(async () => {
              // An export to an unreachable collector would hold the exit until its own timeout.
              if ((await tracing.shutdown()) === false) setTimeout(() => process.exit(), 100).unref();
            })
        : store());
      process.stdout.write(`${job.id}\n`);
      return 0;
    } catch (err) {
      if (err instanceof ValidationError) {
        const hint =
          err.code === 'UNKNOWN_JOB_TYPE' && !values.handlers
            ? ' HANDLERS is not set, so only the demo jobs are known: set HANDLERS (--handlers) to the module that exports your job definitions, e.g. HANDLERS=dist/jobs.js.'
            : '';
        process.stderr.write(`kq enqueue: ${err.message}${hint}\n`);
        return 2;
      }
      if (err instanceof RedisSessionError) {
        process.stderr.write(`${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
