/**
 * Job ids that carry their queue, so a lookup by id needs no index and no probe: `<queue>.<random>`
 * for a new job (12 random bytes, base64url: 16 characters of `A-Za-z0-9_-`) and
 * `<queue>.idem-<sha256 hex of the Idempotency-Key>` for an idempotent one.
 *
 * Queue names may contain `.` but the part after the queue never does, so the LAST `.` separates them
 * unambiguously. Ids stored by other producers (BullMQ's numbers, UUIDs, anything else) simply do not
 * parse as kq-made ids: the API then looks in `?queue=` or the declared queues.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { QUEUE_NAME_RULE } from '../config.js';
import { RESERVED_QUEUE_NAME } from './keys.js';

/**
 * 96 bits: a new id must never equal a job still retained (BullMQ would store nothing for it), and
 * every character of an id is stored several times per job (its hash key, options, sets, events).
 */
const RANDOM_BYTES = 12;
/** Random bytes drawn in blocks: one syscall per 256 ids instead of one per id. */
const pool = Buffer.alloc(RANDOM_BYTES * 256);
let poolOffset = pool.length;

const RANDOM_PART_RE = /^[A-Za-z0-9_-]{16}$/;
const IDEM_PART_RE = /^idem-[0-9a-f]{64}$/;

/**
 * A fresh id for a job on `queue`.
 * @example newJobId('emails') // 'emails.Q2x1c3RlcmVkIGlk'
 */
export function newJobId(queue: string): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const part = pool.toString('base64url', poolOffset, poolOffset + RANDOM_BYTES);
  poolOffset += RANDOM_BYTES;
  return `${queue}.${part}`;
}

/**
 * The id of the job an Idempotency-Key names on `queue`: the same key on two queues names two jobs.
 * @example idempotentJobId('emails', 'order-42') // 'emails.idem-5d1c…' (64 hex digits)
 */
export function idempotentJobId(queue: string, key: string): string {
  return `${queue}.idem-${createHash('sha256').update(key).digest('hex')}`;
}

export interface ParsedJobId {
  /** The queue named by the id. */
  queue: string;
  /** True when the rest has the exact shape kq gives its ids (random or idempotent): only that queue can hold it. */
  kqMade: boolean;
}

/**
 * The queue an id names, without any Redis call; `undefined` for an id without a queue part.
 * @example parseJobId('my.queue.idem-…') // { queue: 'my.queue', kqMade: true }
 */
export function parseJobId(id: string): ParsedJobId | undefined {
  const dot = id.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const queue = id.slice(0, dot);
  if (queue === RESERVED_QUEUE_NAME || !QUEUE_NAME_RULE.re.test(queue)) return undefined;
  const rest = id.slice(dot + 1);
  return { queue, kqMade: RANDOM_PART_RE.test(rest) || IDEM_PART_RE.test(rest) };
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` hash alike. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The job option under which an idempotent job keeps the hash of the request that created it. BullMQ
 * stores job options it does not know as they are (a contract test holds it to that).
 */
export const REQUEST_HASH_OPTION = 'kqRequestHash';

/**
 * What identifies an idempotent request: its type, queue and (validated) payload, as 22 base64url
 * characters of a SHA-256.
 * @example requestHash('sleep', 'jobs', { seconds: 1 }) === requestHash('sleep', 'jobs', { seconds: 1 })
 */
export function requestHash(type: string, queue: string, data: unknown): string {
  return createHash('sha256')
    .update(`${type}\n${queue}\n${canonical(data)}`)
    .digest('base64url')
    .slice(0, 22);
}
