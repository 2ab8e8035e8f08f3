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
import { readCounts } from '../queue/counts.js';
import { RedisSessionError, withRedis } from './redis-session.js';

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
    try {
      const counts = await withRedis(
        { command: 'status', url: values.redisUrl, auth: redisAuth(values), timeoutMs: 5000, writes: false },
        (redis) => readCounts(redis, values.prefix, values.queue),
      );
      if (values.json) process.stdout.write(`${JSON.stringify({ queue: values.queue, ...counts })}\n`);
      else {
        const rows = Object.entries(counts).map(([k, v]) => `${k.padEnd(12)} ${v}`);
        process.stdout.write(`queue        ${values.queue}\n${rows.join('\n')}\n`);
      }
      return 0;
    } catch (err) {
      if (!(err instanceof RedisSessionError)) throw err;
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
  },
};
