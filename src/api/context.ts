/** What route modules receive from `buildApp`: the Redis-access layer's pieces and the submission path. */
import type { Redis } from 'ioredis';
import type { JobRegistry } from '../jobs/registry.js';
import type { JobEvents } from '../queue/job-events.js';
import type { QueueDirectory } from '../queue/queue-directory.js';
import type { QueueReads } from '../queue/queue-reads.js';
import type { QueueCache } from '../queue/queues.js';
import type { RedisGuard } from '../queue/redis-guard.js';
import type { RedisLiveness } from '../queue/redis-liveness.js';
import type { HeldRequests } from './held-requests.js';
import type { Submitter } from './submit.js';

export interface ApiContext {
  jobs: JobRegistry;
  queues: QueueCache;
  /** The API's fail-fast connection. */
  redis: Redis;
  prefix: string;
  /** The queue directory (no keyspace scans). */
  directory: QueueDirectory;
  /** TTL-cached counts (metrics). */
  reads: QueueReads;
  guard: RedisGuard;
  submitter: Submitter;
  /** True once shutdown began: /readyz answers 503. */
  isClosing(): boolean;
  /** Redis unusable too long: /healthz answers 503. */
  liveness: RedisLiveness;
  livenessTimeoutMs: number;
  /** Job events, one shared reader per queue (waiting and watching jobs). */
  events: JobEvents;
  /** Calls `listener` once when shutdown begins (at once if it has); returns a function that removes it. */
  onClosing(listener: () => void): () => void;
  /** Open event streams (bounded by MAX_EVENT_STREAMS) and `?wait=` waiters. */
  held: { streams: HeldRequests; waiters: HeldRequests };
}
