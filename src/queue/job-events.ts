/**
 * One subscription per queue and process to BullMQ's events stream (`<prefix>:<queue>:events`), shared by
 * every caller that waits on or watches a job of that queue: 2,000 waiters cost one blocking connection
 * per queue, not 2,000. Each queue's reader is a BullMQ `QueueEvents`, created on the first subscription
 * and closed a while after the last one leaves.
 *
 * No event is lost between a caller's first read of a job and its subscription: the reader starts from
 * the stream's last id read BEFORE `subscribe` resolves (not from `$`, which is whatever is last when the
 * blocking read reaches Redis), so a caller that subscribes, then reads the job, sees every later event.
 * The stream's ids (`<ms>-<seq>`) are the events' ids; BullMQ trims the stream (about 10,000 entries), so
 * `history` tells when an id is older than what is left.
 */
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullQueueName, isCluster, queueKeys } from './keys.js';

/** The stream events kq passes on; BullMQ's others (added, stalled, drained...) say nothing new to a watcher. */
export const JOB_EVENT_NAMES = [
  'waiting',
  'delayed',
  'active',
  'progress',
  'completed',
  'failed',
  'removed',
] as const;
export type JobEventName = (typeof JOB_EVENT_NAMES)[number];

export interface JobEvent {
  /** The stream entry's id, `<ms>-<seq>`: increasing within a queue. */
  id: string;
  event: JobEventName;
  jobId: string;
  /** The entry's other fields (`data` of progress, `returnvalue`, `failedReason`, `prev`...). */
  fields: Record<string, unknown>;
}

export type JobEventListener = (e: JobEvent) => void;

export interface JobEvents {
  /**
   * Calls `listener` with every later event of job `jobId` in `queue`; resolves, once the reader's start
   * is fixed, to the stream's last id at that point and a function that ends the subscription.
   */
  subscribe(queue: string, jobId: string, listener: JobEventListener): Promise<{ at: string; off(): void }>;
  /**
   * The job's events after `afterId` still in the stream, oldest first; `complete` is false when entries
   * after `afterId` may have been trimmed (the stream's first id is later than `afterId`).
   */
  history(queue: string, jobId: string, afterId: string): Promise<{ events: JobEvent[]; complete: boolean }>;
  /** Open readers (one blocking connection each). */
  readers(): number;
  /** Subscriptions, for metrics and tests. */
  subscriptions(): number;
  close(): Promise<void>;
}

export interface JobEventsOptions {
  /** A fail-fast connection for the stream reads that are not blocking. */
  redis: Redis;
  prefix: string;
  /**
   * A connection without a per-command timeout, shared (not closed here): each queue's reader is a
   * BullMQ `QueueEvents` on it, and BullMQ opens ONE duplicate of it per queue for the blocking read.
   */
  connection: Redis;
  /** How long a reader without subscribers stays open. @default 30000 */
  lingerMs?: number;
}

/** Compares two stream ids (`<ms>-<seq>`); negative when `a` is earlier. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/** A stream id is `<ms>` or `<ms>-<seq>`, both decimal. */
export const STREAM_ID_RE = /^\d{1,20}(-\d{1,20})?$/;

function parseEntry(id: string, flat: string[]): JobEvent | undefined {
  const fields: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1];
  const event = fields.event as JobEventName;
  const jobId = fields.jobId;
  if (!JOB_EVENT_NAMES.includes(event) || typeof jobId !== 'string') return undefined;
  delete fields.event;
  delete fields.jobId;
  try {
    if (event === 'progress' && typeof fields.data === 'string') fields.data = JSON.parse(fields.data);
    if (event === 'completed' && typeof fields.returnvalue === 'string') {
      fields.returnvalue = JSON.parse(fields.returnvalue);
    }
  } catch {
    /* left as the string BullMQ stored */
  }
  return { id, event, jobId, fields };
}

interface Reader {
  events?: QueueEvents;
  ready: Promise<string>;
  byJob: Map<string, Set<JobEventListener>>;
  linger?: NodeJS.Timeout;
}

/** @example const events = createJobEvents({ redis, prefix: 'bull', connection: redis }); */
export function createJobEvents(o: JobEventsOptions): JobEvents {
  const readers = new Map<string, Reader>();
  const lingerMs = o.lingerMs ?? 30_000;
  const cluster = isCluster(o.redis);
  const streamKey = (queue: string) => queueKeys(o.prefix, queue, cluster).events;
  let count = 0;
  let closed = false;

  const lastId = async (queue: string): Promise<string> => {
    const last = (await o.redis.xrevrange(streamKey(queue), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last[0]?.[0] ?? '0-0';
  };

  const open = (queue: string): Reader => {
    const byJob = new Map<string, Set<JobEventListener>>();
    const reader = { byJob } as Reader;
    reader.ready = lastId(queue).then((start) => {
      if (closed) return start;
      const events = new QueueEvents(bullQueueName(queue, cluster), {
        connection: o.connection,
        prefix: o.prefix,
        lastEventId: start,
        skipVersionCheck: true,
      });
      // Connection errors are retried by ioredis; QueueEvents resumes from the last id it read.
      events.on('error', () => undefined);
      for (const name of JOB_EVENT_NAMES) {
        events.on(name as 'progress', (args: Record<string, unknown>, id: string) => {
          const { jobId, ...fields } = args as { jobId?: string };
          if (typeof jobId !== 'string') return;
          const listeners = byJob.get(jobId);
          if (!listeners) return;
          const e: JobEvent = { id, event: name, jobId, fields };
          for (const l of [...listeners]) l(e);
        });
      }
      reader.events = events;
      return start;
    });
    // A failed start (Redis down) is not cached: the next subscription tries again.
    reader.ready.catch(() => {
      if (readers.get(queue) === reader) readers.delete(queue);
    });
    readers.set(queue, reader);
    return reader;
  };

  // Closes the reader's duplicate connection; the shared one stays open.
  const stop = async (r: Reader) => {
    await r.events?.close().catch(() => undefined);
  };

  const retire = (queue: string, reader: Reader) => {
    clearTimeout(reader.linger);
    reader.linger = setTimeout(() => {
      if (reader.byJob.size > 0 || readers.get(queue) !== reader) return;
      readers.delete(queue);
      void stop(reader);
    }, lingerMs);
    reader.linger.unref();
  };

  return {
    async subscribe(queue, jobId, listener) {
      if (closed) throw new Error('job events are closed');
      const reader = readers.get(queue) ?? open(queue);
      clearTimeout(reader.linger);
      const set = reader.byJob.get(jobId) ?? new Set<JobEventListener>();
      reader.byJob.set(jobId, set);
      set.add(listener);
      count++;
      let done = false;
      const off = () => {
        if (done) return;
        done = true;
        count--;
        const s = reader.byJob.get(jobId);
        s?.delete(listener);
        if (s && s.size === 0) reader.byJob.delete(jobId);
        if (reader.byJob.size === 0) retire(queue, reader);
      };
      try {
        // The stream's last id NOW: events after it reach the listener (the reader started earlier or at it).
        const [, at] = await Promise.all([reader.ready, lastId(queue)]);
        return { at, off };
      } catch (err) {
        off();
        throw err;
      }
    },
    async history(queue, jobId, afterId) {
      const key = streamKey(queue);
      const first = (await o.redis.xrange(key, '-', '+', 'COUNT', 1)) as [string, string[]][];
      const firstId = first[0]?.[0];
      const complete = firstId === undefined || compareStreamIds(firstId, afterId) <= 0;
      const events: JobEvent[] = [];
      let from = `(${afterId}`;
      // Pages of 1,000 entries: the stream holds about 10,000, so a resume costs at most a few reads.
      for (;;) {
        const page = (await o.redis.xrange(key, from, '+', 'COUNT', 1000)) as [string, string[]][];
        for (const [id, flat] of page) {
          const e = parseEntry(id, flat);
          if (e && e.jobId === jobId) events.push(e);
        }
        const last = page[page.length - 1];
        if (!last || page.length < 1000) break;
        from = `(${last[0]}`;
      }
      return { events, complete };
    },
    readers: () => readers.size,
    subscriptions: () => count,
    async close() {
      closed = true;
      const all = [...readers.values()];
      readers.clear();
      for (const r of all) clearTimeout(r.linger);
      await Promise.all(
        all.map(async (r) => {
          await r.ready.catch(() => undefined);
          await stop(r);
        }),
      );
    },
  };
}
