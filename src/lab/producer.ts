/**
 * Submits the workload's jobs at their workload times, as an application would: through kq's own
 * `prepareJob` (the lab job type's schema and options), with id `lab-<n>`, the workload's attempts, a
 * fixed backoff and the delay, both compressed to wall time. A batch that fails (Redis restarting) is
 * tried again on the next tick; the job keeps its planned submission time, so the wait counts the delay.
 */
import type { Queue } from 'bullmq';
import { createRegistry } from '../jobs/registry.js';
import { prepareJob } from '../queue/enqueue.js';
import { LAB_JOB_TYPE, labWork } from './lab-jobs.js';
import type { LabJob } from './workload.js';

export const labJobId = (job: LabJob) => `lab-${job.index}`;

export interface Producer {
  /** Adds every job due at `now` that is not stored yet. */
  submitDue(now: number): Promise<void>;
  readonly submitted: number;
  readonly done: boolean;
  /** Per job submitted, workload ms from its arrival time to when Redis had it (the run's reliability). */
  readonly lateMs: readonly number[];
}

/** @example const producer = createProducer(queue, jobs, 60, clock.now); await producer.submitDue(clock.now()); */
export function createProducer(
  queue: Queue,
  jobs: readonly LabJob[],
  speed: number,
  workloadNow: () => number = () => 0,
): Producer {
  const registry = createRegistry([labWork]);
  const lateMs: number[] = [];
  let next = 0;
  let busy = false;
  return {
    get submitted() {
      return next;
    },
    get done() {
      return next >= jobs.length;
    },
    lateMs,
    async submitDue(now) {
      if (busy) return;
      const due: LabJob[] = [];
      for (let i = next; i < jobs.length && (jobs[i] as LabJob).at <= now; i++) due.push(jobs[i] as LabJob);
      if (!due.length) return;
      busy = true;
      try {
        await queue.addBulk(
          due.map((job) => {
            const p = prepareJob(registry, {
              type: LAB_JOB_TYPE,
              queue: queue.name,
              data: { ms: job.durationMs, speed, failAttempts: job.failAttempts },
              attempts: job.attempts,
              jobId: labJobId(job),
            });
            return {
              name: p.name,
              data: p.data,
              opts: {
                ...p.opts,
                backoff: { type: 'fixed', delay: Math.round(job.backoffMs / speed) },
                ...(job.delayMs > 0 ? { delay: Math.round(job.delayMs / speed) } : {}),
              },
            };
          }),
        );
        const storedAt = workloadNow();
        for (const job of due) lateMs.push(Math.max(0, storedAt - job.at));
        next += due.length;
      } catch {
        // Redis is restarting: the same jobs go again on the next tick (same ids, so never twice).
      } finally {
        busy = false;
      }
    },
  };
}
