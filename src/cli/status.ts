/** `kq status`: prints a queue's counts per state. */
import type { Command } from '../cli.js';
import {
  boolOption,
  parseOptions,
  prefixOption,
  queueOption,
  redisAuth,
  redisAuthOptions,
  redisUrlOption,
} from '../config.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { readCounts } from '../queue/counts.js';
import { createRedisGuard } from '../queue/redis-guard.js';

const specs = {
  redisUrl: redisUrlOption(),
  ...redisAuthOptions(),
  prefix: prefixOption(),
  queue: queueOption(),
  json: boolOption('json', [], false, 'print JSON instead of a table'),
};
const summary = 'Print a queue’s job counts (waiting, prioritized, delayed, active, completed, failed)';

export const command: Command = {
  summary,
  usage: 'kq status [options]',
  options: specs,
  async run(argv, env) {
    const { values } = parseOptions(specs, argv, env);
    const redis = createRedis(values.redisUrl, {
      kind: 'fail-fast',
      commandTimeoutMs: null,
      auth: redisAuth(values),
    });
    // The layer's guard: it waits for the first connection, then bounds the read as a whole.
    const guard = createRedisGuard([redis], 5000);
    try {
      const counts = await guard(() => readCounts(redis, values.prefix, values.queue));
      if (values.json) process.stdout.write(`${JSON.stringify({ queue: values.queue, ...counts })}\n`);
      else {
        const rows = Object.entries(counts).map(([k, v]) => `${k.padEnd(12)} ${v}`);
        process.stdout.write(`queue        ${values.queue}\n${rows.join('\n')}\n`);
      }
      return 0;
    } catch (err) {
      process.stderr.write(`kq status: Redis did not answer (${(err as Error).message}); check REDIS_URL.\n`);
      return 1;
    } finally {
      await closeRedis(redis);
    }
  },
};
