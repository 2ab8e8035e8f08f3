/**
 * Which queues exist: those of the registered job types, plus every queue found in Redis under the prefix
 * (other producers, older deployments). The Redis scan is cached for `ttlMs` so that job look-ups, the
 * dashboard and metrics scrapes do not SCAN on every request.
 */
import type { Redis } from 'ioredis';
import type { JobRegistry } from '../jobs/registry.js';
import { listQueueNames } from '../queue/counts.js';

export interface QueueDirectory {
  /** Registered queues first (in registry order), then the others found in Redis, sorted. */
  names(): Promise<string[]>;
  has(name: string): Promise<boolean>;
}

/** @example const dir = createQueueDirectory({ redis, prefix: 'bull', jobs }); await dir.names() */
export function createQueueDirectory(o: {
  redis: Redis;
  prefix: string;
  jobs: JobRegistry;
  ttlMs?: number;
}): QueueDirectory {
  const ttl = o.ttlMs ?? 1000;
  let cached: { at: number; names: Promise<string[]> } | undefined;
  const registered = o.jobs.queues();
  async function names(): Promise<string[]> {
    const now = Date.now();
    if (!cached || now - cached.at > ttl) {
      const p = listQueueNames(o.redis, o.prefix).then((found) => [
        ...registered,
        ...found.filter((n) => !registered.includes(n)),
      ]);
      cached = { at: now, names: p };
      p.catch(() => {
        if (cached?.names === p) cached = undefined;
      });
    }
    return cached.names;
  }
  return {
    names,
    async has(name) {
      return registered.includes(name) || (await names()).includes(name);
    },
  };
}
