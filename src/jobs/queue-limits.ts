/**
 * The limits a worker applies to its queue: the handlers module's declaration (`defineQueue`), each part
 * overridden by the worker's flags (`RATE_LIMIT_MAX`, `RATE_LIMIT_DURATION_MS`, `GLOBAL_CONCURRENCY`;
 * `kq manifests` resolves its flags of the same names the same way for each queue's worker env).
 * Both are written to the queue's meta hash at start (or removed when nothing states one), where BullMQ's
 * scripts read them on every fetch, so the last worker started states the queue's setting: a rollout of a
 * new declaration takes effect with its first pod. The rate limit is also the worker's own `limiter`.
 */
import { ConfigError } from '../errors.js';
import type { QueueLimits } from './define-queue.js';

/** The worker option values this reads; 0 = not given. */
export interface LimitFlags {
  rateLimitMax: number;
  rateLimitDurationMs: number;
  globalConcurrency: number;
}

const DEFAULT_DURATION_MS = 1000;

/**
 * @example resolveQueueLimits({ rateLimitMax: 2, rateLimitDurationMs: 0, globalConcurrency: 0 }, {})
 *   // { rateLimit: { max: 2, durationMs: 1000 } }
 */
export function resolveQueueLimits(flags: LimitFlags, declared: QueueLimits): QueueLimits {
  const out: QueueLimits = {};
  const max = flags.rateLimitMax || declared.rateLimit?.max;
  if (max) {
    out.rateLimit = {
      max,
      durationMs: flags.rateLimitDurationMs || declared.rateLimit?.durationMs || DEFAULT_DURATION_MS,
    };
  } else if (flags.rateLimitDurationMs) {
    throw new ConfigError(
      `Invalid RATE_LIMIT_DURATION_MS (flag --rate-limit-duration-ms): ${flags.rateLimitDurationMs} is set, but there is no rate limit to apply it to: set RATE_LIMIT_MAX (--rate-limit-max) too, or declare one with defineQueue({ rateLimit }).`,
      {
        option: 'rate-limit-duration-ms',
        value: String(flags.rateLimitDurationMs),
        rule: 'needs RATE_LIMIT_MAX or a declared rate limit',
      },
    );
  }
  const global = flags.globalConcurrency || declared.globalConcurrency;
  if (global) out.globalConcurrency = global;
  return out;
}
