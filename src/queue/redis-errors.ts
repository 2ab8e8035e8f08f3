/**
 * The one answer to "did Redis fail, and was anything stored?". Every caller (API, adapter, CLI,
 * worker) classifies a failed Redis call with `classifyRedisError`:
 * - `not-sent`: the command never reached Redis, or Redis refused it before running it (LOADING,
 *   READONLY, OOM, BUSY, ...): nothing was stored, a retry is safe;
 * - `maybe-sent`: the command left this process and no answer came back (timeout, connection lost while
 *   it was in flight): it may have been applied, or may still be applied when Redis wakes up;
 * - `undefined`: not an availability error (a bug, a WRONGTYPE, a script error): the caller's own case.
 */
import { RedisUnavailableError } from '../errors.js';

export type SendOutcome = 'not-sent' | 'maybe-sent';

/**
 * ioredis' words for a command it refused to write (offline queue off, socket not writable; a Cluster
 * that cannot load its slot map).
 */
const NOT_WRITTEN =
  /Stream isn't writeable|enableOfflineQueue|Failed to refresh slots cache|None of startup nodes is available/;
/**
 * ioredis Cluster gave up after following MOVED / ASK / TRYAGAIN / CLUSTERDOWN replies (a shard failing
 * over): refused, unless the last error was a connection lost while the command was in flight.
 */
const CLUSTER_GAVE_UP = /^Too many Cluster redirections/;
/** Redis replies that refuse a command before it runs. */
const REFUSED = /^(LOADING|READONLY|MASTERDOWN|OOM|MISCONF|BUSY|CLUSTERDOWN|NOREPLICAS)\b/;
/**
 * Network and timeout failures after the command was written. "Connection is closed" is here too: ioredis
 * uses it for commands in flight when a connection is ended, not only for ones it refused to send.
 */
const IN_FLIGHT =
  /Connection is closed|Command timed out|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ECONNREFUSED|max retries per request/i;

/** @example classifyRedisError(new Error('Command timed out')) === 'maybe-sent' */
export function classifyRedisError(err: unknown): SendOutcome | undefined {
  if (err instanceof RedisUnavailableError) return err.details.stored === false ? 'not-sent' : 'maybe-sent';
  if (!(err instanceof Error)) return undefined;
  if (CLUSTER_GAVE_UP.test(err.message)) return IN_FLIGHT.test(err.message) ? 'maybe-sent' : 'not-sent';
  if (NOT_WRITTEN.test(err.message) || REFUSED.test(err.message)) return 'not-sent';
  // ioredis fails commands in flight when the connection drops with MaxRetriesPerRequestError.
  if (err.name === 'MaxRetriesPerRequestError' || IN_FLIGHT.test(err.message)) return 'maybe-sent';
  return undefined;
}

/** True for any Redis availability error (either outcome). */
export function isRedisDownError(err: unknown): boolean {
  return classifyRedisError(err) !== undefined;
}

/**
 * The error for work that did not reach Redis: nothing was stored. `reason` says why, in words a user
 * can act on.
 */
export function notSent(
  reason: string,
  details: Record<string, unknown> = {},
  options?: ErrorOptions,
): RedisUnavailableError {
  return new RedisUnavailableError(
    `${reason}; nothing was stored. Retry later.`,
    { ...details, stored: false },
    options,
  );
}

/** The error for work whose outcome is unknown; `jobIds` name the jobs that may exist. */
export function maybeSent(
  reason: string,
  jobIds: readonly string[] = [],
  options?: ErrorOptions,
): RedisUnavailableError {
  const which = jobIds.length === 1 ? `job ${JSON.stringify(jobIds[0])}` : `these ${jobIds.length} jobs`;
  const what = jobIds.length
    ? `; ${which} may or may not have been stored`
    : '; what it was writing may or may not have been stored';
  return new RedisUnavailableError(
    `${reason}${what}.`,
    {
      stored: 'unknown',
      ...(jobIds.length === 1 ? { jobId: jobIds[0] } : jobIds.length ? { jobIds: [...jobIds] } : {}),
    },
    options,
  );
}

/** Any Redis availability error as a `RedisUnavailableError` that says whether anything was stored. */
export function toUnavailable(err: unknown, jobIds: readonly string[] = []): unknown {
  if (err instanceof RedisUnavailableError) return err;
  const outcome = classifyRedisError(err);
  if (outcome === undefined) return err;
  const cause = (err as Error).message.split('\n')[0];
  return outcome === 'not-sent'
    ? notSent(`Redis is unavailable (${cause})`, {}, { cause: err })
    : maybeSent(`Redis did not answer (${cause})`, jobIds, { cause: err });
}
