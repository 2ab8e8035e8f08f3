/**
 * Bounds the request bytes the API holds at once, so memory has a ceiling whatever the clients do.
 * A body costs several times its size while it is read, parsed, validated and serialized for Redis
 * (64 clients x 1 MiB bodies peaked at 569 MB RSS before this). Each request with a body reserves its
 * Content-Length (a chunked body: BODY_LIMIT, its worst case) when its headers arrive, before any body
 * byte is read, and releases it when answered or when its client leaves, whenever that is: a client that
 * leaves after sending its body is never answered, so Fastify's onResponse never runs for it and cannot be
 * where the release happens (held-requests.ts). Past `maxBytes` a request is answered 503 OVERLOADED at
 * once (nothing stored, Retry-After) and its body is never read. A single request larger than the budget
 * still passes when nothing else is in flight, so BODY_LIMIT stays the only per-request rule.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KqError } from '../errors.js';
import { sendError } from './errors.js';
import { untilOver } from './held-requests.js';

export interface BodyBudget {
  /**
   * A step of app.ts's onRequest hook: reserves the request's bytes until the exchange is over and returns
   * true, or answers 503 OVERLOADED and returns false (the request goes no further).
   */
  admit(request: FastifyRequest, reply: FastifyReply): boolean;
}

/**
 * A step for app.ts's own onRequest hook rather than hooks of its own: each Fastify hook is one more step
 * for every request. A reservation costs a 'close' listener on requests with a body, nothing on others.
 * @example const budget = createBodyBudget({ maxBytes: 16 * 1024 * 1024, bodyLimit: 1024 * 1024 })
 */
export function createBodyBudget(o: { maxBytes: number; bodyLimit: number }): BodyBudget {
  let inFlight = 0;
  return {
    admit(request, reply) {
      const length = request.headers['content-length'];
      const chunked = request.headers['transfer-encoding'] !== undefined;
      if (length === undefined && !chunked) return true;
      const bytes = chunked ? o.bodyLimit : Math.min(Number(length) || 0, o.bodyLimit);
      if (bytes === 0) return true;
      if (inFlight > 0 && inFlight + bytes > o.maxBytes) {
        reply.header('connection', 'close');
        sendError(
          request,
          reply,
          new KqError(
            'OVERLOADED',
            `The API is already processing ${inFlight} bytes of requests (MAX_INFLIGHT_BYTES=${o.maxBytes}); nothing was stored. Retry shortly.`,
            { stored: false },
          ),
        );
        return false;
      }
      inFlight += bytes;
      untilOver(reply, () => {
        inFlight -= bytes;
      });
      return true;
    },
  };
}
