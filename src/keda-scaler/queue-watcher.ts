/**
 * Push activation: tells each listener a queue's runnable backlog as soon as it may have changed, so
 * `StreamIsActive` can wake KEDA without waiting for its polling interval.
 *
 * Three wake-ups, one read path:
 * 1. BullMQ's event stream (`<prefix>:<queue>:events`): every job added, moved, finished, and every
 *    pause/resume, is an entry there. One blocking XREAD on a dedicated connection follows every
 *    watched queue's stream; an entry schedules a read of that queue.
 * 2. A timer per queue at the moment its earliest delayed job (or retry in backoff) becomes due: nothing
 *    writes an event then when no worker runs, which is exactly when it matters.
 * 3. A slow safety poll (`pollMs`) of every watched queue, for changes no event announces (a lock that
 *    expires, a trimmed or disabled event stream).
 * Reads of one queue are coalesced: while one is in flight, any number of wake-ups cause one more read,
 * never a queue of them. A failed read tells listeners nothing (never a made-up number).
 *
 * A new queue joins the XREAD from the stream id read when it was added, so events between the first
 * read and its joining the blocking read (at most `blockMs` later) are not missed.
 *
 * On a Redis Cluster each queue's stream is in its own slot, and one XREAD over keys of several slots
 * fails with CROSSSLOT; a blocking XREAD per queue would hold the shared per-shard connection of ioredis'
 * Cluster for `blockMs` each, one after the other. So there the watcher reads every stream without
 * blocking (one XREAD per queue, pipelined per shard by ioredis) every `clusterPollMs`: activation is
 * pushed within that interval instead of at once.
 */
import type { Redis } from 'ioredis';
import { withDeadline } from '../queue/deadline.js';
import { isCluster, queueKeys } from '../queue/keys.js';
import { type RunnableBacklog, readRunnableBacklog } from '../queue/runnable-backlog.js';

export type BacklogListener = (backlog: RunnableBacklog) => void;

export interface QueueWatcherOptions {
  /** Reads (fail-fast connection). */
  redis: Redis;
  /** Blocking XREAD only; the watcher disconnects it on close. */
  streamRedis: Redis;
  /** @default 1000 */
  blockMs?: number;
  /** @default 5000 */
  pollMs?: number;
  /** Redis Cluster only: interval of the non-blocking stream reads. @default 250 */
  clusterPollMs?: number;
  onReadError?: (err: Error, queue: string) => void;
  onStreamError?: (err: Error) => void;
}

export interface QueueWatcher {
  /** Calls `listener` with a fresh reading now and on every change signal; returns the unwatch function. */
  watch(prefix: string, queue: string, listener: BacklogListener): () => void;
  watchedQueues(): number;
  close(): Promise<void>;
}

interface Watched {
  prefix: string;
  queue: string;
  lastId: string | undefined;
  listeners: Set<BacklogListener>;
  reading: boolean;
  again: boolean;
  dueTimer: NodeJS.Timeout | undefined;
  /** `runnableAndRunning` of the last reading; -1 before the first. */
  lastRunnableAndRunning: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
/** Entries that cannot change whether a queue has work. */
const IGNORED_EVENTS = new Set(['progress', 'duplicated', 'deduplicated', 'debounced']);
/**
 * Entries that never lower the backlog (a job arrives, or moves between counted states): while the last
 * reading had work, they cannot change the activity listeners care about, so a busy queue does not cost
 * one read per added job.
 */
const NEVER_LOWER = new Set([...IGNORED_EVENTS, 'added', 'waiting', 'active']);

/** @example const w = createQueueWatcher({ redis, streamRedis }); const stop = w.watch('bull', 'jobs', (b) => ...); */
export function createQueueWatcher(o: QueueWatcherOptions): QueueWatcher {
  const blockMs = o.blockMs ?? 1000;
  const cluster = isCluster(o.redis);
  const clusterPollMs = o.clusterPollMs ?? 250;
  const watched = new Map<string, Watched>();
  let closed = false;
  let wake: (() => void) | undefined;

  async function refresh(w: Watched): Promise<void> {
    if (w.reading) {
      w.again = true;
      return;
    }
    w.reading = true;
    try {
      do {
        w.again = false;
        let backlog: RunnableBacklog;
        try {
          backlog = await readRunnableBacklog(o.redis, w.prefix, w.queue);
        } catch (err) {
          o.onReadError?.(err as Error, w.queue);
          return;
        }
        if (closed || w.listeners.size === 0) return;
        clearTimeout(w.dueTimer);
        w.dueTimer = undefined;
        if (backlog.nextDueMs !== undefined) {
          const ms = Math.min(Math.max(0, backlog.nextDueMs - Date.now() + 1), MAX_TIMER_MS);
          w.dueTimer = setTimeout(() => void refresh(w), ms);
        }
        w.lastRunnableAndRunning = backlog.runnableAndRunning;
        for (const listener of w.listeners) listener(backlog);
      } while (w.again && !closed);
    } finally {
      w.reading = false;
    }
  }

  async function startId(w: Watched, eventsKey: string): Promise<void> {
    try {
      const last = await o.redis.xrevrange(eventsKey, '+', '-', 'COUNT', 1);
      w.lastId = last[0]?.[0] ?? '0-0';
    } catch {
      // Replaying the stream from its start costs one extra read, never a missed job.
      w.lastId = '0-0';
    }
    wake?.();
  }

  async function followStreams(): Promise<void> {
    while (!closed) {
      const ready = [...watched.entries()].filter(([, w]) => w.lastId !== undefined);
      if (ready.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, blockMs).unref();
        });
        wake = undefined;
        continue;
      }
      let result: StreamEntries | null;
      try {
        result = cluster ? await readEachSlot(ready) : await readAll(ready);
      } catch (err) {
        if (closed) return;
        o.onStreamError?.(err as Error);
        await new Promise((r) => setTimeout(r, 500).unref());
        continue;
      }
      for (const [key, entries] of result ?? []) {
        const w = watched.get(key);
        const last = entries[entries.length - 1];
        if (!w || !last) continue;
        w.lastId = last[0];
        const skip = w.lastRunnableAndRunning > 0 ? NEVER_LOWER : IGNORED_EVENTS;
        if (entries.some(([, fields]) => !skip.has(fields[1] ?? ''))) void refresh(w);
      }
    }
  }

  type StreamEntries = [string, [string, string[]][]][];
  /** One blocking XREAD over every watched stream (one Redis). */
  const readAll = async (ready: [string, Watched][]) =>
    (await o.streamRedis.xread(
      'COUNT',
      1000,
      'BLOCK',
      blockMs,
      'STREAMS',
      ...ready.map(([key]) => key),
      ...ready.map(([, w]) => w.lastId as string),
    )) as StreamEntries | null;
  /** One XREAD per stream, each in its own slot (Cluster), then a pause when nothing came. */
  const readEachSlot = async (ready: [string, Watched][]) => {
    const each = await Promise.all(
      ready.map(
        ([key, w]) =>
          o.streamRedis.xread(
            'COUNT',
            1000,
            'STREAMS',
            key,
            w.lastId as string,
          ) as Promise<StreamEntries | null>,
      ),
    );
    const result = each.flatMap((r) => r ?? []);
    if (result.length === 0) await new Promise((r) => setTimeout(r, clusterPollMs).unref());
    return result;
  };

  const loop = followStreams();
  const poll = setInterval(() => {
    for (const w of watched.values()) void refresh(w);
  }, o.pollMs ?? 5000);

  return {
    watch(prefix, queue, listener) {
      const key = queueKeys(prefix, queue, cluster).events;
      let w = watched.get(key);
      if (!w) {
        w = {
          prefix,
          queue,
          lastId: undefined,
          listeners: new Set(),
          reading: false,
          again: false,
          dueTimer: undefined,
          lastRunnableAndRunning: -1,
        };
        watched.set(key, w);
        void startId(w, key);
      }
      const entry = w;
      entry.listeners.add(listener);
      // A second listener gets its own first reading (the coalesced read may be one it missed).
      if (entry.reading) entry.again = true;
      else void refresh(entry);
      return () => {
        entry.listeners.delete(listener);
        if (entry.listeners.size === 0 && watched.get(key) === entry) {
          clearTimeout(entry.dueTimer);
          watched.delete(key);
        }
      };
    },
    watchedQueues: () => watched.size,
    async close() {
      closed = true;
      clearInterval(poll);
      for (const w of watched.values()) clearTimeout(w.dueTimer);
      watched.clear();
      wake?.();
      o.streamRedis.disconnect();
      // A read queued while Redis is down may never settle after disconnect(): do not wait on it.
      await withDeadline(
        () => loop,
        1000,
        () => new Error('stream reader did not stop'),
      ).catch(() => undefined);
    },
  };
}
