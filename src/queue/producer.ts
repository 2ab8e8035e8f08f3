/**
 * The batching producer: the one path by which kq stores single jobs for a server (`POST /jobs`, the
 * batch route; a flow is stored whole by BullMQ's `FlowProducer`, flows.ts `createFlowStore`). Jobs
 * added in the same turn of the event loop (under load, every request parsed in one I/O phase) go out
 * together, one pipeline per queue (BullMQ `addBulk`). Nothing per job is written beside
 * BullMQ's own keys: a job's id names its queue (job-ids.ts). Each caller is answered once its own job
 * is stored.
 *
 * Bounded in flight: a job counts from the moment it is handed to Redis until Redis answers (or the
 * connection drops), NOT until its caller gave up. A frozen Redis (TCP up, no answers) therefore fills
 * the bound and every job past it is refused at once with `not-sent` (true: nothing left this process),
 * instead of being buffered in memory and stored minutes later. Jobs whose deadline passed while they
 * were in flight are answered `maybe-sent` with their ids: they may still be stored when Redis wakes up,
 * and the id (or the Idempotency-Key) tells the caller which.
 *
 * With `writeReplicas` > 0, a batch is acknowledged only once Redis `WAIT` says that many replicas have
 * everything this connection wrote (the batch included): a failover then promotes a replica that holds
 * the job. A shortfall is answered `maybe-sent` with the job ids: the primary has the job, a failover
 * right now could lose it.
 *
 * Every job must carry its id (`opts.jobId`): a new id or an idempotency id (job-ids.ts). That makes a one-by-one
 * retry of a failed pipeline safe (BullMQ stores nothing for an id that exists) and lets errors name jobs.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { startDeadline } from './deadline.js';
import type { PreparedJob } from './enqueue.js';
import type { QueueDirectory } from './queue-directory.js';
import type { QueueCache } from './queues.js';
import { classifyRedisError, maybeSent, notSent, toUnavailable } from './redis-errors.js';
import type { RedisGuard } from './redis-guard.js';

export interface ProducerOptions {
  /** BullMQ queues on the producer's own connection (no per-command timer: batches have deadlines). */
  queues: QueueCache;
  /** Admits each job's queue (bounded queue creation) before anything is sent. */
  directory: QueueDirectory;
  /** Guards the connections the producer needs (readiness, first connect). */
  guard: RedisGuard;
  /** Deadline of one batch, from send to answer. */
  timeoutMs: number;
  /** Jobs in flight at most (five 1,000-job batches). @default 5000 */
  maxInFlightJobs?: number;
  /** Bytes (as the caller measured them, e.g. request bodies) in flight at most. @default 16 MiB */
  maxInFlightBytes?: number;
  /** Replicas that must hold a job before it is acknowledged (Redis `WAIT`); 0 = the primary's word. @default 0 */
  writeReplicas?: number;
  /**
   * Jobs added in one turn of the event loop go out together (one pipeline per queue); false: each job is
   * sent at once, on its own. Which costs less CPU per job depends on the machine (docs/performance.md).
   * @default true
   */
  coalesce?: boolean;
}

export interface Producer {
  /** Stores one job; resolves with its id once Redis acknowledged it. `bytes`: its size for the bound. */
  add(job: PreparedJob, bytes?: number): Promise<string>;
  /** Stores all of one caller's jobs (one bound check for the lot); resolves with their ids in order. */
  addMany(jobs: readonly PreparedJob[], bytes?: number): Promise<string[]>;
  /** What is in flight now. */
  inFlight(): { jobs: number; bytes: number };
}

/** Jobs per pipeline at most; a larger backlog of concurrent adds goes out in several. */
const MAX_BATCH = 500;

/**
 * One caller's jobs (one for `add`, all of a batch for `addMany`): its jobs are answered into it and it
 * settles once, when the last one is, so a batch of n costs one promise, not n.
 */
interface Caller {
  ids: string[];
  /** Sparse: the error of each job that failed, by index. */
  errors: unknown[] | undefined;
  left: number;
  done(c: Caller): void;
}

interface Pending {
  job: PreparedJob;
  id: string;
  /** Charged to the in-flight bound until Redis answers. */
  bytes: number;
  settled: boolean;
  caller: Caller;
  index: number;
}

const idOf = (job: PreparedJob): string => {
  const id = job.opts.jobId;
  if (typeof id !== 'string' || !id) throw new Error('producer: every job needs opts.jobId');
  return id;
};

/**
 * One answer for a batch with failed jobs: all refused before sending -> that `not-sent`; a job's own
 * error (not Redis') -> that error; otherwise `maybe-sent` naming every job of the batch.
 */
function batchError(jobs: readonly PreparedJob[], errors: unknown[]): unknown {
  const failed = errors.filter(() => true);
  if (failed.length === jobs.length && failed.every((e) => classifyRedisError(e) === 'not-sent'))
    return failed[0];
  const own = failed.find((e) => !classifyRedisError(e));
  if (own !== undefined) return own;
  return maybeSent('Redis failed while storing the batch', jobs.map(idOf));
}

/** @example const producer = createProducer({ queues, directory, guard, timeoutMs: 5000 }); await producer.add(job) */
export function createProducer(o: ProducerOptions): Producer {
  const maxJobs = o.maxInFlightJobs ?? 5000;
  const maxBytes = o.maxInFlightBytes ?? 16 * 1024 * 1024;
  const connection: Redis = o.queues.connection;
  const writeReplicas = o.writeReplicas ?? 0;
  const maxBatch = o.coalesce === false ? 1 : MAX_BATCH;
  let jobsInFlight = 0;
  let bytesInFlight = 0;
  const waiting = new Map<string, Pending[]>();
  let scheduled = false;

  const settle = (p: Pending, err: unknown, id?: string) => {
    if (p.settled) return;
    p.settled = true;
    const c = p.caller;
    if (err === undefined) c.ids[p.index] = id as string;
    else {
      c.errors ??= [];
      c.errors[p.index] = err;
    }
    if (--c.left === 0) c.done(c);
  };

  /** Retries a failed pipeline's jobs one by one, so each caller gets its own truthful answer. */
  const oneByOne = (queue: string, list: Pending[]) =>
    Promise.all(
      list.map((p) =>
        o.queues
          .get(queue)
          .add(p.job.name, p.job.data, p.job.opts)
          .then(
            (job) => settle(p, undefined, job.id as string),
            (err) => settle(p, toUnavailable(err, [p.id])),
          ),
      ),
    );

  /**
   * WAIT on the connection that wrote: it counts this connection's writes, so one call covers the batch.
   * Its timeout is 80 % of what is left of the batch's deadline, so its answer (and an honest message)
   * comes before the deadline's; never 0, which would block for good.
   */
  async function replicated(startedAt: number): Promise<number | undefined> {
    if (writeReplicas === 0) return undefined;
    const left = Math.max(1, Math.floor((o.timeoutMs - (Date.now() - startedAt)) * 0.8));
    return (await connection.wait(writeReplicas, left)) as number;
  }

  function send(queue: string, list: Pending[], releaseOnce: () => void): void {
    const startedAt = Date.now();
    // Freed before the callers are answered: a caller that got its answer no longer holds a slot.
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      deadline.clear();
      releaseOnce();
    };
    const deadline = startDeadline(o.timeoutMs, () => {
      for (const p of list)
        settle(p, maybeSent(`Redis did not answer within ${o.timeoutMs} ms (REQUEST_TIMEOUT_MS)`, [p.id]));
    });
    const q = o.queues.get(queue);
    const only = list.length === 1 ? (list[0] as Pending) : undefined;
    const stored: Promise<Job | Job[]> = only
      ? q.add(only.job.name, only.job.data, only.job.opts)
      : q.addBulk(list.map((p) => p.job));
    stored
      .then(
        (added) => {
          const jobs = Array.isArray(added) ? added : [added];
          // Without replicas to wait for, no promise more per batch (with coalescing off, per job).
          if (writeReplicas === 0) {
            release();
            for (let i = 0; i < list.length; i++)
              settle(list[i] as Pending, undefined, jobs[i]?.id as string);
            return;
          }
          return acknowledged(list, jobs, startedAt, release);
        },
        (err) => {
          // Redis did not take the pipeline: every job gets the same classified answer. Any other error
          // (one job's script failed) is retried job by job.
          if (classifyRedisError(err)) for (const p of list) settle(p, toUnavailable(err, [p.id]));
          else return oneByOne(queue, list);
        },
      )
      .finally(release);
  }

  /** Answers a stored batch once `writeReplicas` replicas hold it (or says they did not, in time). */
  async function acknowledged(list: Pending[], jobs: readonly Job[], startedAt: number, release: () => void) {
    const acks = await replicated(startedAt).catch((err: unknown) => err);
    release();
    if (typeof acks === 'number' && acks < writeReplicas) {
      const reason = `the primary stored the job but only ${acks} of ${writeReplicas} replicas (WRITE_REPLICAS) confirmed it within ${o.timeoutMs} ms; a failover now could lose it`;
      for (const p of list) settle(p, maybeSent(reason, [p.id]));
      return;
    }
    if (acks !== undefined && typeof acks !== 'number') {
      for (const p of list) settle(p, toUnavailable(acks, [p.id]));
      return;
    }
    for (let i = 0; i < list.length; i++) settle(list[i] as Pending, undefined, jobs[i]?.id as string);
  }

  function flushQueue(queue: string): void {
    const list = waiting.get(queue);
    if (!list) return;
    waiting.delete(queue);
    const bytes = list.reduce((n, p) => n + p.bytes, 0);
    send(queue, list, () => {
      jobsInFlight -= list.length;
      bytesInFlight -= bytes;
    });
  }

  function flush(): void {
    scheduled = false;
    for (const queue of [...waiting.keys()]) flushQueue(queue);
  }

  /** Reserves room for `count` jobs of `bytes`, or throws `not-sent` at once. */
  function reserve(count: number, bytes: number): void {
    if (jobsInFlight + count > maxJobs) {
      throw notSent(
        `${jobsInFlight} jobs are already waiting on Redis (MAX_INFLIGHT_JOBS=${maxJobs}); Redis is slow or not answering`,
        { inFlightJobs: jobsInFlight },
      );
    }
    if (bytesInFlight + bytes > maxBytes && jobsInFlight > 0) {
      throw notSent(
        `${bytesInFlight} bytes of jobs are already waiting on Redis (MAX_INFLIGHT_BYTES=${maxBytes}); Redis is slow or not answering`,
        { inFlightBytes: bytesInFlight },
      );
    }
    jobsInFlight += count;
    bytesInFlight += bytes;
  }

  function enqueue(job: PreparedJob, bytes: number, caller: Caller, index: number): void {
    const p: Pending = { job, id: idOf(job), bytes, settled: false, caller, index };
    let list = waiting.get(job.queue);
    if (!list) {
      list = [];
      waiting.set(job.queue, list);
    }
    list.push(p);
    if (list.length >= maxBatch) flushQueue(job.queue);
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }

  /** Admits queues and waits for a first connection, within the guard's deadline, when needed. */
  async function prepare(jobs: readonly PreparedJob[]): Promise<void> {
    const unknown = [...new Set(jobs.map((j) => j.queue))].filter((q) => !o.directory.admitted(q));
    if (unknown.length || !o.guard.ready()) {
      await o.guard(() => Promise.all(unknown.map((q) => o.directory.admit(q))));
    }
  }

  return {
    async add(job, bytes = 0) {
      idOf(job);
      if (!o.directory.admitted(job.queue) || !o.guard.ready()) await prepare([job]);
      reserve(1, bytes);
      return new Promise<string>((resolve, reject) => {
        const done = (c: Caller) => (c.errors ? reject(c.errors[0]) : resolve(c.ids[0] as string));
        enqueue(job, bytes, { ids: [], errors: undefined, left: 1, done }, 0);
      });
    },
    async addMany(jobs, bytes = 0) {
      for (const j of jobs) idOf(j);
      await prepare(jobs);
      reserve(jobs.length, bytes);
      if (!jobs.length) return [];
      return new Promise<string[]>((resolve, reject) => {
        const done = (c: Caller) => (c.errors ? reject(batchError(jobs, c.errors)) : resolve(c.ids));
        const caller: Caller = { ids: new Array(jobs.length), errors: undefined, left: jobs.length, done };
        // Bytes are charged to the first job: the bound needs the total, not a split.
        for (let i = 0; i < jobs.length; i++) enqueue(jobs[i] as PreparedJob, i === 0 ? bytes : 0, caller, i);
      });
    },
    inFlight: () => ({ jobs: jobsInFlight, bytes: bytesInFlight }),
  };
}
