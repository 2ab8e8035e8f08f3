/** kq's public library surface. */
export { defineJob, DEFAULT_JOB_OPTIONS } from './jobs/define-job.js';
export type { JobContext, JobDefinition, JobTypeOptions, Retention, DefineJobInput } from './jobs/define-job.js';
export { createRegistry, loadRegistry } from './jobs/registry.js';
export type { JobRegistry } from './jobs/registry.js';
export { sleepJob, noopJob, demoJobs } from './jobs/demo.js';
export { createRedis, closeRedis } from './queue/connection.js';
export { createQueueRegistry } from './queue/queues.js';
export type { QueueRegistry } from './queue/queues.js';
export { enqueue, enqueueMany } from './queue/enqueue.js';
export type { EnqueueRequest, EnqueuedJob } from './queue/enqueue.js';
export { readCounts, listQueueNames } from './queue/counts.js';
export type { QueueCounts } from './queue/counts.js';
export { queueKeys } from './queue/keys.js';
export { CANCELLED_REASON, publishCancel } from './queue/cancel.js';
export { startWorker } from './worker/run-worker.js';
export type { WorkerHandle } from './worker/run-worker.js';
export type { WorkerOptions } from './worker/options.js';
export { KqError, ConfigError, ValidationError, NotFoundError, ConflictError, RedisUnavailableError } from './errors.js';
