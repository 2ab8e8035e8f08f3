/**
 * Queue settings declared in the handlers module next to the job definitions: a rate limit (at most
 * `max` jobs started per `durationMs`, across every worker) and a global concurrency (at most N jobs
 * running at once across every worker). BullMQ enforces both in Redis (the worker `limiter` option and
 * the queue meta's `concurrency` field), so they hold however many pods run. `kq worker` flags override
 * them (src/worker/queue-limits.ts).
 */
import { QUEUE_NAME_RULE } from '../config.js';

export const QUEUE_DEFINITION = Symbol.for('kq.queueDefinition');

/** The bounds shared by `defineQueue` and the worker's flags, so both refuse the same values. */
export const LIMIT_BOUNDS = {
  rateLimitMax: { min: 1, max: 1_000_000 },
  rateLimitDurationMs: { min: 1, max: 86_400_000 },
  globalConcurrency: { min: 1, max: 1_000_000 },
} as const;

export interface QueueLimits {
  /** At most `max` jobs start per `durationMs` on this queue, across all workers. @default none */
  rateLimit?: { max: number; durationMs: number };
  /** At most this many jobs of this queue run at once, across all workers. @default none */
  globalConcurrency?: number;
}

export interface QueueDefinition extends QueueLimits {
  readonly [QUEUE_DEFINITION]: true;
  readonly name: string;
}

function check(queue: string, option: string, value: unknown, bounds: { min: number; max: number }): void {
  if (typeof value === 'number' && Number.isInteger(value) && value >= bounds.min && value <= bounds.max)
    return;
  throw new TypeError(
    `defineQueue(${queue}): ${option} (${JSON.stringify(value)}) must be a whole number from ${bounds.min} to ${bounds.max}`,
  );
}

/**
 * Declares the limits of one queue (the queue its job types name with `defineJob({ queue })`).
 * @example
 * export const images = defineQueue({ name: 'images', rateLimit: { max: 10, durationMs: 1000 }, globalConcurrency: 4 });
 */
export function defineQueue(input: { name: string } & QueueLimits): QueueDefinition {
  if (typeof input.name !== 'string' || !QUEUE_NAME_RULE.re.test(input.name)) {
    throw new TypeError(`defineQueue: name ${JSON.stringify(input.name)} ${QUEUE_NAME_RULE.rule}`);
  }
  const known = new Set(['name', 'rateLimit', 'globalConcurrency']);
  for (const key of Object.keys(input)) {
    if (!known.has(key))
      throw new TypeError(
        `defineQueue(${input.name}): unknown option ${JSON.stringify(key)}; known: rateLimit, globalConcurrency`,
      );
  }
  const out: { -readonly [K in keyof QueueDefinition]: QueueDefinition[K] } = {
    [QUEUE_DEFINITION]: true,
    name: input.name,
  };
  if (input.rateLimit !== undefined) {
    const { max, durationMs } = input.rateLimit ?? ({} as { max?: unknown; durationMs?: unknown });
    check(input.name, 'rateLimit.max', max, LIMIT_BOUNDS.rateLimitMax);
    check(input.name, 'rateLimit.durationMs', durationMs, LIMIT_BOUNDS.rateLimitDurationMs);
    out.rateLimit = { max: max as number, durationMs: durationMs as number };
  }
  if (input.globalConcurrency !== undefined) {
    check(input.name, 'globalConcurrency', input.globalConcurrency, LIMIT_BOUNDS.globalConcurrency);
    out.globalConcurrency = input.globalConcurrency;
  }
  return out;
}

export function isQueueDefinition(value: unknown): value is QueueDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[QUEUE_DEFINITION] === true
  );
}
