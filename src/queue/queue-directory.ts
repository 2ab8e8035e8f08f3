/**
 * The queue directory: which queues exist, without scanning the keyspace. BullMQ keeps no list of its
 * queues, and a SCAN for `*:meta` costs O(keys in Redis) (786 ms at 1M keys, 503s at 6M), so kq keeps a
 * SET of queue names of its own (`directoryKeys(prefix).queues`), maintained where queues come to life:
 * - the API and `enqueue()` `admit` a queue before storing its first job there (once per process);
 * - a kq worker registers its queue when it starts (`registerQueue`);
 * - the job types' queues (`declared`) are always known, registered or not;
 * - queues made by other producers or BullMQ workers in other languages: registered the first time a
 *   request names them (`has`, `admit`: one SISMEMBER + EXISTS of the queue's meta hash), or by the
 *   operator with `kq queues register <name>` / `kq queues discover` (a SCAN, run by hand, never on a
 *   request) so that lists (`/queues`, `/metrics`, unpinned adapter selectors) show them before that.
 *
 * Bounded creation: `admit` may add a queue only when its name matches `pattern` and the directory holds
 * fewer than `maxQueues` names, checked and added in one Lua script (no race between replicas). So a
 * token holder cannot fill the directory with junk queues and every queue in it stays reachable.
 */
import type { Redis } from 'ioredis';
import { ValidationError } from '../errors.js';
import { listQueueNames } from './counts.js';
import { directoryKeys, isCluster, queueKeys, RESERVED_QUEUE_NAME } from './keys.js';
import { createTtlCache } from './ttl-cache.js';

export interface QueueDirectoryOptions {
  /** A fail-fast connection; callers bound the work with a guard. */
  redis: Redis;
  prefix: string;
  /** The job types' queues: always known, created without the bound. */
  declared?: readonly string[];
  /** Most queues the directory may hold for `admit` to add one. @default 1000 */
  maxQueues?: number;
  /** Names `admit` may create besides the declared ones; `null` = none. @default null */
  pattern?: RegExp | null;
  /** How long `names()` reuses one read of the directory. @default 1000 */
  ttlMs?: number;
}

export interface QueueDirectory {
  /** Declared queues first (in their order), then the registered ones, sorted. */
  names(): Promise<string[]>;
  /**
   * True for a declared or registered queue, or a BullMQ queue that exists in Redis (its meta hash),
   * which is then registered: O(1), no cache, no scan.
   */
  has(name: string): Promise<boolean>;
  /** Before a job is stored in `name`: resolves if the queue is known or may be created (and registers it). */
  admit(name: string): Promise<void>;
  /** True when `admit(name)` would resolve without asking Redis (the hot path skips it). */
  admitted(name: string): boolean;
  /** Adds names with no bound (operator, worker). Resolves to how many were new. */
  register(names: readonly string[]): Promise<number>;
  /** Removes names from the directory (their BullMQ keys are untouched). */
  forget(names: readonly string[]): Promise<number>;
}

/** Adds ARGV[1] unless the set already holds ARGV[2] names: 1 = known, 2 = added, 0 = full. */
const ADMIT_SCRIPT = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 2`;

/** Registers one queue, no bound: for a worker at start-up. @example await registerQueue(redis, 'bull', 'jobs') */
export async function registerQueue(redis: Redis, prefix: string, queue: string): Promise<void> {
  await redis.sadd(directoryKeys(prefix).queues, queue);
}

/**
 * Queues found by scanning the keyspace for BullMQ meta keys: O(keys in Redis). For the operator's
 * `kq queues discover` only, never on a request path.
 */
export function discoverQueues(redis: Redis, prefix: string, limit = 100_000): Promise<string[]> {
  return listQueueNames(redis, prefix, limit).then((names) => names.filter((n) => n !== RESERVED_QUEUE_NAME));
}

/** @example const dir = createQueueDirectory({ redis, prefix: 'bull', declared: ['jobs'] }); await dir.admit('jobs') */
export function createQueueDirectory(o: QueueDirectoryOptions): QueueDirectory {
  const key = directoryKeys(o.prefix).queues;
  const declared = [...new Set(o.declared ?? [])];
  const maxQueues = o.maxQueues ?? 1000;
  const cache = createTtlCache({ ttlMs: o.ttlMs ?? 1000, maxKeys: 1 });
  /** Names this process saw in the directory (or added): `admit` costs Redis once per queue. */
  const known = new Set<string>();
  const registeredDeclared = new Set<string>();

  const names = () =>
    cache.get('names', async () => {
      const found = (await o.redis.smembers(key)).sort();
      for (const n of found) known.add(n);
      return [...declared, ...found.filter((n) => !declared.includes(n))];
    });

  /**
   * A queue this process has not seen: registered, or a BullMQ queue that exists (made by another
   * producer or a worker in another language), which is registered on this first touch.
   */
  const lookUp = async (name: string): Promise<boolean> => {
    if (name === RESERVED_QUEUE_NAME) return false;
    // Two commands, not one pipeline: on a Cluster the directory and the queue are in different slots.
    const [member, exists] = await Promise.all([
      o.redis.sismember(key, name),
      o.redis.exists(queueKeys(o.prefix, name, isCluster(o.redis)).meta),
    ]);
    if (member !== 1 && exists !== 1) return false;
    if (member !== 1) {
      await o.redis.sadd(key, name);
      cache.delete('names');
    }
    known.add(name);
    return true;
  };

  const refuse = (name: string, why: 'pattern' | 'full') =>
    why === 'pattern'
      ? new ValidationError(
          'QUEUE_NOT_ALLOWED',
          `Queue ${JSON.stringify(name)} does not exist and may not be created here: use a job type's queue, a queue registered with \`kq queues register\`, or a name matching QUEUE_PATTERN${o.pattern ? ` (${o.pattern.source})` : ' (unset: no new queues)'}.`,
          { queue: name },
        )
      : new ValidationError(
          'QUEUE_LIMIT_REACHED',
          `Queue ${JSON.stringify(name)} would exceed MAX_QUEUES (${maxQueues} queues registered); use an existing queue, or ask the operator to raise MAX_QUEUES or \`kq queues forget\` unused ones.`,
          { queue: name, maxQueues },
        );

  return {
    names,
    has: (name) => (declared.includes(name) || known.has(name) ? Promise.resolve(true) : lookUp(name)),
    async admit(name) {
      if (declared.includes(name)) {
        if (!registeredDeclared.has(name)) {
          await o.redis.sadd(key, name);
          registeredDeclared.add(name);
          known.add(name);
        }
        return;
      }
      if (known.has(name)) return;
      if (name === RESERVED_QUEUE_NAME || !o.pattern?.test(name)) {
        // Not creatable here, but it may exist already (registered, or made by another producer).
        if (name !== RESERVED_QUEUE_NAME && (await lookUp(name))) return;
        throw refuse(name, 'pattern');
      }
      const r = (await o.redis.eval(ADMIT_SCRIPT, 1, key, name, String(maxQueues))) as number;
      if (r === 0) throw refuse(name, 'full');
      known.add(name);
      if (r === 2) cache.delete('names');
    },
    admitted: (name) => known.has(name) || registeredDeclared.has(name),
    async register(list) {
      const valid = list.filter((n) => n !== RESERVED_QUEUE_NAME);
      if (!valid.length) return 0;
      const added = await o.redis.sadd(key, ...valid);
      for (const n of valid) known.add(n);
      cache.delete('names');
      return added;
    },
    async forget(list) {
      if (!list.length) return 0;
      const removed = await o.redis.srem(key, ...list);
      for (const n of list) known.delete(n);
      cache.delete('names');
      return removed;
    },
  };
}
