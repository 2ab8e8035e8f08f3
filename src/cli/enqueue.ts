/** `kq enqueue <type> [json]`: validates the payload against the type's schema, stores the job, prints its id. */
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
import { closeRedis, createRedis } from '../queue/connection.js';
import { enqueue, MAX_PRIORITY } from '../queue/enqueue.js';
import { createQueueRegistry } from '../queue/queues.js';

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
        );
      }
    }
    const jobs = await loadRegistry(values.handlers);
    const redis = createRedis(values.redisUrl, {
      kind: 'fail-fast',
      commandTimeoutMs: 5000,
      auth: redisAuth(values),
    });
    const queues = createQueueRegistry(redis, values.prefix);
    try {
      await redis.ping().catch(async () => {
        await new Promise((r) => setTimeout(r, 500));
        await redis.ping();
      });
      const job = await enqueue(queues, jobs, {
        type,
        data,
        queue: values.queue || undefined,
        delay: values.delay || undefined,
        priority: values.priority || undefined,
        attempts: values.attempts || undefined,
      });
      process.stdout.write(`${job.id}\n`);
      return 0;
    } catch (err) {
      if (err instanceof ValidationError) {
        process.stderr.write(`kq enqueue: ${err.message}\n`);
        return 2;
      }
      process.stderr.write(`kq enqueue: could not store the job: ${(err as Error).message}\n`);
      return 1;
    } finally {
      await queues.close();
      await closeRedis(redis);
    }
  },
};
