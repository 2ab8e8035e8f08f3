/**
 * Bounds the request bytes the API holds at once, so memory has a ceiling whatever the clients do.
 * A body costs several times its size while it is read, parsed, validated and serialized for Redis
 * (64 clients x 1 MiB bodies peaked at 569 MB RSS before this). Each request with a body reserves its
 * Content-Length (a chunked body: BODY_LIMIT, its worst case) when its headers arrive, before any body
 * byte is read, and releases it when answered. Past `maxBytes` a request is answered 503 OVERLOADED at
 * once (nothing stored, Retry-After) and its body is never read. A single request larger than the budget
 * still passes when nothing else is in flight, so BODY_LIMIT stays the only per-request rule.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KqError } from '../errors.js';
import { sendError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Bytes this request holds in the body budget (body-budget.ts); 0 = none. */
    kqBodyBytes: number;
  }
}

export interface BodyBudget {
  /**
   * A step of app.ts's onRequest hook: reserves the request's bytes and returns true, or answers 503
   * OVERLOADED and returns false (the request goes no further).
   */
  admit(request: FastifyRequest, reply: FastifyReply): boolean;
  /** Frees what `request` holds (app.ts calls it when the request is answered or aborted); idempotent. */
  release(request: FastifyRequest): void;
}

/**
 * Steps for app.ts's own hooks rather than hooks of their own: each Fastify hook is one more step for
 * every request. The reservation is a request decoration (a plain field), not a WeakMap entry per request.
 * @example const budget = createBodyBudget(app, { maxBytes: 16 * 1024 * 1024, bodyLimit: 1024 * 1024 })
 */
export function createBodyBudget(
  app: FastifyInstance,
  o: { maxBytes: number; bodyLimit: number },
): BodyBudget {
  app.decorateRequest('kqBodyBytes', 0);
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
      request.kqBodyBytes = bytes;
      return true;
    },
    release(request) {
      const bytes = request.kqBodyBytes;
      if (bytes !== 0) {
        request.kqBodyBytes = 0;
        inFlight -= bytes;
      }
    },
  };
}
