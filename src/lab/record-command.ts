/** `kq lab record`: writes a workload file (record.ts) from a live queue, or says why it cannot. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { createRedisGuard } from '../queue/redis-guard.js';
import type { LabOptions } from './options.js';
import { parseSince, recordWorkload } from './record.js';
import { checkWorkload } from './workload.js';

/** @example await runRecordCommand({ ...values, redisUrl, queue: 'jobs' }) */
export async function runRecordCommand(o: LabOptions): Promise<number> {
  for (const [flag, value] of [
    ['redis-url', o.redisUrl],
    ['queue', o.queue],
  ] as const) {
    if (!value) {
      throw new ConfigError(
        `\`kq lab record\` needs --${flag}: the Redis and the queue whose history to read.`,
        {
          option: flag,
        },
      );
    }
  }
  const sinceMs = parseSince(o.since);
  const redis = createRedis(o.redisUrl, { kind: 'fail-fast', commandTimeoutMs: 10_000 });
  try {
    const { workload, warning } = await createRedisGuard(
      [redis],
      30_000,
    )(() => recordWorkload(redis, o.prefix, o.queue, sinceMs));
    // What record writes, `--workload` must read back.
    checkWorkload(workload, 'recorded');
    const text = `${JSON.stringify(workload, null, 2)}\n`;
    if (o.out) {
      writeFileSync(resolve(o.out), text);
      process.stderr.write(`wrote ${resolve(o.out)}: ${workload.description}\n`);
    } else process.stdout.write(text);
    if (warning) process.stderr.write(`kq lab record: warning: ${warning}\n`);
    return 0;
  } finally {
    await closeRedis(redis);
  }
}
