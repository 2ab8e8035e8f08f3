/** What route modules receive from `buildApp`: the shared Redis pieces and the submission path. */
import type { Redis } from 'ioredis';
import type { JobRegistry } from '../jobs/registry.js';
import type { QueueRegistry } from '../queue/queues.js';
import type { QueueDirectory } from './queue-directory.js';
import type { RedisGuard } from './redis-guard.js';
import type { Submitter } from './submit.js';

export interface ApiContext {
  jobs: JobRegistry;
  queues: QueueRegistry;
  /** The API's fail-fast connection. */
  redis: Redis;
  prefix: string;
  directory: QueueDirectory;
  guard: RedisGuard;
  submitter: Submitter;
  /** True once shutdown began: /readyz answers 503. */
  isClosing(): boolean;
}
