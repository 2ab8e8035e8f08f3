/**
 * A body over BODY_LIMIT gets its 413 on a socket that stays open until the client has finished sending.
 * Fastify answers such a request (`connection: close`) before it has read the body, and Node then closes
 * the socket with the client's bytes still arriving: the kernel answers them with a reset, and a client
 * still writing (fetch, curl) reports a network error instead of the clear 413. Here the rest of the
 * body is read into nothing and the socket closed after it, within `maxBytes` and `maxMs` per request; a
 * client that declares or sends more, or sends slower, is cut off (the server does not read an unbounded
 * body to be polite).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A step of app.ts's one onSend hook (each hook is a step for every request), for a 413 answer only.
 * @example const drain = createOversizeDrain({ maxBytes: 8 * 1024 * 1024, maxMs: 30_000 }); drain(request, reply)
 */
export function createOversizeDrain(o: {
  maxBytes: number;
  maxMs: number;
}): (request: FastifyRequest, reply: FastifyReply) => void {
  return (request, reply) => {
    const raw = request.raw;
    const socket = raw.socket;
    const declared = Number(request.headers['content-length']);
    // `app.inject` has no real socket (and no body still arriving): nothing to drain.
    const real = typeof socket?.destroySoon === 'function';
    if (reply.statusCode !== 413 || raw.complete || declared > o.maxBytes || !real) return;
    // Node ends a `connection: close` answer with socket.destroySoon(): deferred here until the body is read.
    const destroySoon = socket.destroySoon.bind(socket);
    const timer = setTimeout(() => socket.destroy(), o.maxMs).unref();
    socket.destroySoon = () => {
      if (raw.complete) destroySoon();
      else raw.once('end', destroySoon);
    };
    socket.once('close', () => clearTimeout(timer));
    let read = 0;
    raw.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > o.maxBytes) socket.destroy();
    });
    raw.resume();
    reply.header('connection', 'close');
  };
}
