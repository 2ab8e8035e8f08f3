/**
 * The one way a short-lived CLI command (`kq enqueue`, `kq status`, `kq queues`) talks to Redis: connect
 * within a deadline, run the work under the same deadline, close. When Redis is not there, the user gets
 * one line naming the URL (password redacted), what happened, whether anything was stored (only for a
 * command that writes), and the fix, instead of ioredis' "Stream isn't writeable ..." (exit code 1).
 */
import type { Redis } from 'ioredis';
import { redactUrl } from '../log.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { withDeadline } from '../queue/deadline.js';
import { isRedisDownError, maybeSent, toUnavailable } from '../queue/redis-errors.js';
import type { RedisAuth } from '../queue/redis-url.js';

export interface RedisSessionOptions {
  /** The command's name as the user typed it (`enqueue`, `status`, `queues discover`). */
  command: string;
  url: string;
  auth: RedisAuth;
  /** Bound on connecting plus the work. */
  timeoutMs: number;
  /** True for a command that stores something: its errors say whether anything was stored. */
  writes: boolean;
  /**
   * A refused or unresolvable connection (nothing listening, a wrong host) is given up on after this
   * long, instead of waiting the whole `timeoutMs` for a Redis that is not there. @default 1000
   */
  refusedGiveUpMs?: number;
}

/** Redis could not be reached or did not answer; `message` is the line to print. */
export class RedisSessionError extends Error {}

const NOT_THERE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/;

function fix(url: string): string {
  const port = /:(\d+)(?:[/?#]|$)/.exec(url.replace(/^[a-z+]+:\/\/([^@/]*@)?/i, '//'))?.[1];
  const start = port ? `redis-server --port ${port}` : 'redis-server';
  return `start Redis there (e.g. \`${start}\`, or \`npm start\`, which starts one), or set REDIS_URL (--redis-url) to where your Redis runs`;
}

/** Waits for the first `ready`; rejects with the last connection error when Redis is not there. */
function connected(redis: Redis, timeoutMs: number, refusedGiveUpMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    let firstRefusedAt: number | undefined;
    const done = (err?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const onError = (err: Error) => {
      lastError = err;
      if (!NOT_THERE.test(err.message)) return;
      firstRefusedAt ??= Date.now();
      if (Date.now() - firstRefusedAt >= refusedGiveUpMs) done(err);
    };
    const timer = setTimeout(
      () =>
        done(new Error(`not connected within ${timeoutMs} ms${lastError ? `: ${lastError.message}` : ''}`)),
      timeoutMs,
    );
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

/**
 * Runs `work` on a fresh fail-fast connection; throws `RedisSessionError` (a printable line) when Redis is
 * not reachable or does not answer, and rethrows anything else.
 * @example const counts = await withRedis({ command: 'status', url, auth: {}, timeoutMs: 5000, writes: false }, (r) => readCounts(r, 'bull', 'jobs'));
 */
export async function withRedis<T>(o: RedisSessionOptions, work: (redis: Redis) => Promise<T>): Promise<T> {
  const at = redactUrl(o.url);
  const started = Date.now();
  // The session owns its error reporting: connection errors are read by `connected` above.
  const redis = createRedis(o.url, { kind: 'fail-fast', commandTimeoutMs: null, auth: o.auth });
  try {
    try {
      await connected(redis, o.timeoutMs, o.refusedGiveUpMs ?? 1000);
    } catch (err) {
      const stored = o.writes ? ' Nothing was stored.' : '';
      throw new RedisSessionError(
        `kq ${o.command}: cannot reach Redis at ${at} (${(err as Error).message}).${stored} Fix: ${fix(o.url)}.`,
      );
    }
    const left = Math.max(1, o.timeoutMs - (Date.now() - started));
    const late = new Error(`Redis at ${at} did not answer within ${o.timeoutMs} ms`);
    try {
      return await withDeadline(
        () => work(redis),
        left,
        () => late,
      );
    } catch (err) {
      if (err !== late && !isRedisDownError(err)) throw err;
      // A read has nothing to store: say what failed, not "nothing was stored".
      let what: string;
      if (err === late) what = o.writes ? maybeSent(late.message).message : `${late.message}.`;
      else {
        const cause = (err as Error).message.split('\n')[0];
        what = o.writes
          ? `${(toUnavailable(err) as Error).message} (Redis at ${at}.)`
          : `Redis at ${at} failed (${cause}).`;
      }
      throw new RedisSessionError(
        `kq ${o.command}: ${what} Check that it is up and not overloaded; REDIS_URL (--redis-url) names it.`,
      );
    }
  } finally {
    await closeRedis(redis);
  }
}
