/**
 * A flow parent's children, read through BullMQ's own dependency keys (`<job key>:dependencies`,
 * `:processed`, `:failed`, `:unsuccessful`): their results for the parent's handler, their counts by
 * state for `GET /jobs/:id`, and the children still pending for a cancel. BullMQ names a child by its
 * job key (`<prefix>:<queue>:<id>`); job ids never contain `:`, so the id is what follows the last one.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueKeys } from './keys.js';

/**
 * The job option under which a flow parent keeps the number of its direct children: only a job that
 * has it costs `GET /jobs/:id` the extra reads. BullMQ stores job options it does not know as they are.
 */
export const FLOW_CHILDREN_OPTION = 'kqChildren';

/** A flow parent's direct children by kq status; `ignored` = failed with `ignoreDependencyOnFailure`. */
export interface ChildCounts {
  total: number;
  waiting: number;
  delayed: number;
  active: number;
  completed: number;
  failed: number;
  ignored: number;
}

/** @example childIdOfKey('bull:images:images.Q2x1c3RlcmVkIGlk') === 'images.Q2x1c3RlcmVkIGlk' */
export function childIdOfKey(key: string): string {
  return key.slice(key.lastIndexOf(':') + 1);
}

/** The BullMQ queue name in a job key of `prefix` (`{images}` on Redis Cluster). */
export function bullQueueOfKey(prefix: string, key: string): string {
  return key.slice(prefix.length + 1, key.lastIndexOf(':'));
}

/** True for a job stored by `POST /flows` with children. */
export function isFlowParent(job: Job): boolean {
  return typeof (job.opts as Record<string, unknown>)[FLOW_CHILDREN_OPTION] === 'number';
}

const byChildId = <T>(values: Record<string, T> | undefined): Record<string, T> => {
  const out: Record<string, T> = {};
  for (const [key, value] of Object.entries(values ?? {})) out[childIdOfKey(key)] = value;
  return out;
};

/** The results of the job's completed children, keyed by child id. */
export async function childResults(job: Job): Promise<Record<string, unknown>> {
  return byChildId(await job.getChildrenValues());
}

/** The errors of the children that failed with `ignoreDependencyOnFailure`, keyed by child id. */
export async function childFailures(job: Job): Promise<Record<string, string>> {
  return byChildId(await job.getIgnoredChildrenFailures());
}

/** The job keys of the children not finished yet (BullMQ's `:dependencies` set), every page of it. */
export async function pendingChildKeys(job: Job): Promise<string[]> {
  const keys: string[] = [];
  let cursor = 0;
  do {
    const page = await job.getDependencies({ unprocessed: { cursor, count: 1000 } });
    keys.push(...(page.unprocessed ?? []));
    cursor = Number(page.nextUnprocessedCursor ?? 0);
  } while (cursor !== 0);
  return keys;
}

/**
 * The job's direct children by state: finished ones from BullMQ's counters, pending ones probed in one
 * pipeline (delayed, active, failed without a parent option; the rest waits), each in its own queue's
 * sets. `client`: a connection to the parent's Redis.
 */
export async function readChildCounts(job: Job, client: Redis, prefix: string): Promise<ChildCounts> {
  const [counts, pending] = await Promise.all([job.getDependenciesCount(), pendingChildKeys(job)]);
  const out: ChildCounts = {
    total: 0,
    waiting: 0,
    delayed: 0,
    active: 0,
    completed: counts.processed ?? 0,
    failed: counts.failed ?? 0,
    ignored: counts.ignored ?? 0,
  };
  if (pending.length) {
    const pipe = client.pipeline();
    for (const key of pending) {
      const id = childIdOfKey(key);
      const k = queueKeys(prefix, bullQueueOfKey(prefix, key));
      pipe.zscore(k.delayed, id).lpos(k.active, id).zscore(k.failed, id);
    }
    const results = (await pipe.exec()) ?? [];
    pending.forEach((_, i) => {
      const at = (k: number) => results[3 * i + k]?.[1];
      if (at(0) !== null && at(0) !== undefined) out.delayed++;
      else if (at(1) !== null && at(1) !== undefined) out.active++;
      else if (at(2) !== null && at(2) !== undefined) out.failed++;
      else out.waiting++;
    });
  }
  out.total = out.waiting + out.delayed + out.active + out.completed + out.failed + out.ignored;
  return out;
}
