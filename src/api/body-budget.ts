/**
 * Bounds the request bytes the API holds at once, so memory has a ceiling whatever the clients do.
 * A body costs several times its size while it is read, parsed, validated and serialized for Redis
 * (64 clients x 1 MiB bodies peaked at 569 MB RSS before this). Each request with a body reserves its
 * Content-Length (a chunked body: BODY_LIMIT, its worst case) when its headers arrive, before any body
 * byte is read, and releases it when answered. Past `maxBytes` a request is answered 503 OVERLOADED at
 * once (nothing stored, Retry-After) and its body is never read. A single request larger than the budget
 * still passes when nothing else is in flight, so BODY_LIMIT stays the only per-request rule.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KqError } from '../errors.js';
import { sendError } from './errors.js';

const reserved = new WeakMap<FastifyRequest, number>();

/** @example installBodyBudget(app, { maxBytes: 16 * 1024 * 1024, bodyLimit: 1024 * 1024 }) */
export function installBodyBudget(app: FastifyInstance, o: { maxBytes: number; bodyLimit: number }): void {
  let inFlight = 0;
  app.addHook('onRequest', (request, reply, done) => {
    const length = request.headers['content-length'];
    const chunked = request.headers['transfer-encoding'] !== undefined;
    if (length === undefined && !chunked) {
      done();
      return;
    }
    const bytes = chunked ? o.bodyLimit : Math.min(Number(length) || 0, o.bodyLimit);
    if (bytes === 0) {
      done();
      return;
    }
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
      return;
    }
    inFlight += bytes;
    reserved.set(request, bytes);
    done();
  });
  const release = (request: FastifyRequest) => {
    const bytes = reserved.get(request);
    if (bytes !== undefined) {
      reserved.delete(request);
      inFlight -= bytes;
    }
  };
  app.addHook('onResponse', (request, _reply, done) => {
    release(request);
    done();
  });
  // A client that goes away before its answer must not keep its reservation.
  app.addHook('onRequestAbort', (request, done) => {
    release(request);
    done();
  });
}
