/**
 * `kq queues`: the queue directory by hand (src/queue/queue-directory.ts).
 * - `list`: the registered queues;
 * - `register <name>...`: make queues known that kq did not create (BullMQ producers or workers in
 *   other languages), so the API, /metrics and the adapter see them;
 * - `forget <name>...`: drop names from the registry (their jobs and keys are untouched);
 * - `discover`: SCAN the keyspace for BullMQ queues and register them. O(keys in Redis): run it by
 *   hand or from a one-off Job, never on a schedule that competes with traffic.
 */
import type { Command } from '../cli.js';
import {
  parseOptions,
  prefixOption,
  QUEUE_NAME_RULE,
  redisAuth,
  redisAuthOptions,
  redisUrlOption,
} from '../config.js';
import { ConfigError } from '../errors.js';
import { redisMode } from '../queue/connection.js';
import { createQueueDirectory, discoverQueues } from '../queue/queue-directory.js';
import { RedisSessionError, withRedis } from './redis-session.js';

const specs = { redisUrl: redisUrlOption(), ...redisAuthOptions(), prefix: prefixOption() };
const ACTIONS = ['list', 'register', 'forget', 'discover'] as const;

export const command: Command = {
  summary: 'List, register, forget or discover queues in kq’s queue directory',
  usage: 'kq queues list | register <name>... | forget <name>... | discover [options]',
  options: specs,
  async run(argv, env) {
    const { values, positionals } = parseOptions(specs, argv, env, 1000);
    const [action, ...names] = positionals;
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) {
      throw new ConfigError(
        `Unknown action ${JSON.stringify(action ?? '')}: it must be one of ${ACTIONS.join(', ')}; see kq queues --help.`,
      );
    }
    for (const n of names) {
      if (!QUEUE_NAME_RULE.re.test(n))
        throw new ConfigError(`Invalid queue name ${JSON.stringify(n)}: it ${QUEUE_NAME_RULE.rule}.`);
    }
    if ((action === 'register' || action === 'forget') && names.length === 0)
      throw new ConfigError(`kq queues ${action} needs at least one queue name.`);
    if (action === 'discover' && redisMode(values.redisUrl) === 'cluster')
      // SCAN walks one node of a Cluster: a partial list would look complete.
      throw new ConfigError(
        'kq queues discover does not work on a Redis Cluster yet (SCAN reaches one node only); register queues by name with kq queues register <name>...',
        { option: 'redis-url' },
      );
    try {
      const out = await withRedis(
        {
          command: `queues ${action}`,
          url: values.redisUrl,
          auth: redisAuth(values),
          // Discovery scans the whole keyspace: give it longer than a read.
          timeoutMs: action === 'discover' ? 600_000 : 5000,
          writes: action !== 'list',
        },
        async (redis) => {
          const dir = createQueueDirectory({ redis, prefix: values.prefix });
          if (action === 'list') return (await dir.names()).join('\n');
          if (action === 'register') return `${await dir.register(names)} new of ${names.length}`;
          if (action === 'forget') return `${await dir.forget(names)} removed`;
          const found = await discoverQueues(redis, values.prefix);
          return `${found.length} found, ${await dir.register(found)} new: ${found.join(' ')}`;
        },
      );
      if (out) process.stdout.write(`${out}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof RedisSessionError)) throw err;
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
  },
};
