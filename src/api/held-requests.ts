/**
 * Requests the API holds open (event streams, `?wait=` waiters) and anything else counted per request
 * (the body budget's bytes), given back exactly once when the exchange is over, whichever way it ends.
 *
 * The race this avoids: a handler that counts a request, awaits Redis, and only then listens for the
 * response's 'close' never hears of a client that left during the await ('close' has fired already). Its
 * place is never given back (past the bound every later request is refused), and whatever it set up
 * for the client (a subscription, a heartbeat) stays until shutdown. So `untilOver` listens from the
 * start and looks at the response at once too: a response that is already closed counts as over.
 *
 * The response's 'close' is the one signal for both ends: Node emits it after a response is sent, and
 * when the socket closes before that (the client left, or the server destroyed the socket).
 */
import type { FastifyReply } from 'fastify';
import { KqError } from '../errors.js';

/**
 * Calls `over` once, when `reply`'s response is sent or its client leaves (at once if either already
 * happened); returns a function that stops listening.
 * @example const stop = untilOver(reply, () => budget.free(bytes));
 */
export function untilOver(reply: FastifyReply, over: () => void): () => void {
  const res = reply.raw;
  if (res.destroyed || res.writableFinished || res.socket?.destroyed) {
    over();
    return () => undefined;
  }
  res.once('close', over);
  return () => {
    res.off('close', over);
  };
}

export interface Hold {
  /** Aborted when the client leaves or the response is sent (at once if it already was). */
  readonly signal: AbortSignal;
  /** Gives the place back; idempotent (the client leaving gives it back too). */
  release(): void;
}

export interface HeldRequests {
  /** Requests held now. */
  size(): number;
  /** Takes a place for `reply`'s request; past the bound throws `refuse()`'s error. */
  hold(reply: FastifyReply): Hold;
}

/**
 * A count of held requests, at most `limit`.
 * @example
 * const streams = createHeldRequests({ limit: 1000, refuse: () => new KqError('OVERLOADED', 'Too many streams.') });
 * const hold = streams.hold(reply); // in the handler, before its first await
 * hold.signal.addEventListener('abort', end);
 */
export function createHeldRequests(o: { limit?: number; refuse?: () => KqError } = {}): HeldRequests {
  const limit = o.limit ?? Number.POSITIVE_INFINITY;
  let size = 0;
  return {
    size: () => size,
    hold(reply) {
      if (size >= limit) {
        throw o.refuse?.() ?? new KqError('OVERLOADED', `This API process already holds ${limit} requests.`);
      }
      size++;
      const gone = new AbortController();
      let held = true;
      let stop: () => void = () => undefined;
      const release = () => {
        if (!held) return;
        held = false;
        size--;
        stop();
      };
      stop = untilOver(reply, () => {
        release();
        gone.abort();
      });
      return { signal: gone.signal, release };
    },
  };
}
