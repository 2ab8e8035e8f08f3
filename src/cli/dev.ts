/** `kq dev`: Redis + API (127.0.0.1, no auth) + a worker pool, for trying kq out on one machine. */
import type { Command } from '../cli.js';
import {
  intOption,
  parseOptions,
  QUEUE_NAME_RULE,
  redisAuth,
  redisAuthOptions,
  redisUrlOption,
  stringOption,
} from '../config.js';
import { runDev } from '../dev/run-dev.js';
import { loadRegistry } from '../jobs/registry.js';
import { queueGiven } from '../worker/choose-queue.js';
import { assertPortFree } from './port-check.js';

const specs = {
  port: intOption('port', ['PORT'], 8080, 0, 65535, 'API port (the API binds to 127.0.0.1 only)'),
  workers: intOption('workers', [], 2, 0, 32, 'worker processes'),
  queue: stringOption(
    'queue',
    ['QUEUE'],
    'jobs',
    'queue the workers take jobs from; unset = every queue of the job types (HANDLERS), --workers each',
    QUEUE_NAME_RULE,
  ),
  redisUrl: redisUrlOption({ emptyMeans: 'find or start one' }),
  ...redisAuthOptions(),
  fallbackRedisUrl: stringOption(
    'fallback-redis-url',
    [],
    'redis://127.0.0.1:6379',
    'Redis tried when REDIS_URL is unset, before starting a private redis-server',
    { re: /^rediss?:\/\/.+$/, rule: 'must be a redis:// or rediss:// URL' },
  ),
};
const summary = 'Run Redis, the API (127.0.0.1, no auth) and workers locally: what `npm start` runs';

export const command: Command = {
  summary,
  usage: 'kq dev [options]',
  options: specs,
  async run(argv, env) {
    const { values } = parseOptions(specs, argv, env);
    // Before Redis and the workers start: the API would otherwise fail last, after all of them.
    await assertPortFree('127.0.0.1', values.port);
    // The job types decide the queues (one set of workers each) and the curl hint's type.
    const jobs = await loadRegistry(env.HANDLERS ?? '');
    const queues = queueGiven(argv, env) ? [values.queue] : jobs.queues();
    return runDev({
      ...values,
      queues: queues.length ? queues : [values.queue],
      hint: env.HANDLERS ? jobs.all : undefined,
      auth: redisAuth(values),
      env,
    });
  },
};
