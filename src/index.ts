/** kq's public library surface. */

/**
 * zod, bundled with kq: `import { defineJob, z } from 'kq'` gives handler modules the same zod instance
 * kq uses (schemas, `.describe()` in the OpenAPI document) and spares each worker start loading zod's
 * files again (docs/performance.md, cold start). `import { z } from 'zod'` (v4) works too.
 */
export { z } from 'zod';

export {
  ConfigError,
  ConflictError,
  KqError,
  NotFoundError,
  RedisUnavailableError,
  ValidationError,
} from './errors.js';
export type {
  DefineJobInput,
  JobContext,
  JobDefinition,
  JobTypeOptions,
  Retention,
} from './jobs/define-job.js';
export { DEFAULT_JOB_OPTIONS, defineJob, RateLimited } from './jobs/define-job.js';
export { defineQueue, type QueueDefinition, type QueueLimits } from './jobs/define-queue.js';
export type { DefineScheduleInput, ScheduleDefinition } from './jobs/define-schedule.js';
export { defineSchedule } from './jobs/define-schedule.js';
export { demoJobs, noopJob, sleepJob } from './jobs/demo.js';
export type { JobRegistry } from './jobs/registry.js';
export { createRegistry, loadRegistry } from './jobs/registry.js';
export { CANCELLED_REASON, publishCancel, requestCancel } from './queue/cancel-request.js';
export { closeRedis, createRedis, throttleErrors } from './queue/connection.js';
export type { QueueCounts } from './queue/counts.js';
export { listQueueNames, readCounts } from './queue/counts.js';
export type { EnqueuedJob, EnqueueRequest } from './queue/enqueue.js';
export { enqueue, enqueueMany } from './queue/enqueue.js';
export type { FlowNode, FlowNodeOptions, FlowRequest } from './queue/flows.js';
export { enqueueFlow } from './queue/flows.js';
export { directoryKeys, queueKeys, registryKeys } from './queue/keys.js';
export type { QueueDirectory } from './queue/queue-directory.js';
export { createQueueDirectory, discoverQueues, registerQueue } from './queue/queue-directory.js';
export type { QueueReads } from './queue/queue-reads.js';
export { createQueueReads } from './queue/queue-reads.js';
export type { QueueCache, QueueRegistry } from './queue/queues.js';
export { createQueueCache, createQueueRegistry } from './queue/queues.js';
export { classifyRedisError } from './queue/redis-errors.js';
export type { RedisGuard } from './queue/redis-guard.js';
export { createRedisGuard } from './queue/redis-guard.js';
export type { JobRun, LoggedLine, RunJobOptions } from './testing/run-job.js';
export { runJob } from './testing/run-job.js';
export type { TestRunOptions, TestWorker, TestWorkerOptions } from './testing/test-worker.js';
export { createTestWorker } from './testing/test-worker.js';
export type { WorkerOptions } from './worker/options.js';
export type { WorkerHandle } from './worker/run-worker.js';
export { startWorker } from './worker/run-worker.js';
