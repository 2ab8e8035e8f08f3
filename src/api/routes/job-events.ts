/**
 * GET /jobs/:id/events: a job's life as Server-Sent Events, from the queue's shared event reader
 * (queue/job-events.ts). Events: `state` (first, the whole record; later `{id, status}` on each move
 * between waiting, delayed and active), `progress` (`{id, progress}`), then one of `completed`, `failed`,
 * `cancelled` (the whole record) after which the stream ends. A job removed without a tombstone ends the
 * stream without a terminal event.
 *
 * Event ids are ids of the queue's BullMQ events stream (`<ms>-<seq>`); a client that reconnects with
 * `Last-Event-ID` gets the job's events after that id that the stream still holds, or, when BullMQ has
 * trimmed past it (or the id is not a stream id), a fresh `state` record. Each stream is subscribed before
 * the job is read, so nothing between the read and the first live event is lost; events are handled one
 * at a time, and an event the stream already sent (by id) is skipped.
 *
 * Streams are bounded per process (MAX_EVENT_STREAMS: past it 503 OVERLOADED, with Retry-After as every 503; a
 * stream's place is given back when it ends or its client leaves, even during the set-up: held-requests.ts) and
 * end when the API begins shutting down, so they never hold the drain: clients resume on another replica.
 */
import type { FastifyInstance } from 'fastify';
import { KqError, NotFoundError } from '../../errors.js';
import { compareStreamIds, type JobEvent, STREAM_ID_RE } from '../../queue/job-events.js';
import { type JobStatus, readJobStatus, statusOf } from '../../queue/job-status.js';
import type { ApiContext } from '../context.js';
import { createJobLookup } from '../job-lookup.js';
import { FINISHED, subscribeBounded } from '../job-wait.js';
import { commonErrors, errorSchema, jobIdParams, queueQuery } from '../schemas.js';

/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

const notFound = (id: string) =>
  new NotFoundError(
    'JOB_NOT_FOUND',
    `Job ${JSON.stringify(id)} was not found (never existed, or no longer retained).`,
    { id },
  );

/** The 503 past MAX_EVENT_STREAMS (app.ts bounds the streams with it). */
export const tooManyStreams = (limit: number): KqError =>
  new KqError(
    'OVERLOADED',
    `This API process already serves ${limit} event streams (MAX_EVENT_STREAMS); retry later or on another replica.`,
    { limit },
  );

export function jobEventRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const lookup = createJobLookup(ctx);
  const streams = ctx.held.streams;

  app.get<{ Params: { id: string }; Querystring: { queue?: string }; Headers: { 'last-event-id'?: string } }>(
    '/jobs/:id/events',
    {
      schema: {
        summary: 'A job’s state, progress and end as Server-Sent Events',
        description:
          'A `text/event-stream` of `state`, `progress` and then one of `completed`, `failed` or `cancelled`, after which the stream ends. Event ids are ids of the queue’s BullMQ events stream: reconnect with `Last-Event-ID` to resume (a fresh `state` when the id is no longer in the stream). At most MAX_EVENT_STREAMS streams per API process: past it 503 OVERLOADED with Retry-After.',
        tags: ['jobs'],
        params: jobIdParams,
        querystring: queueQuery,
        headers: { type: 'object', properties: { 'last-event-id': { type: 'string', maxLength: 64 } } },
        response: {
          200: { description: 'The event stream (text/event-stream).', type: 'string' },
          404: { description: 'JOB_NOT_FOUND', ...errorSchema },
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      // Counted from here until the stream ends or the client leaves, at any point (held-requests.ts).
      const hold = streams.hold(reply);
      let sub: { at: string; off(): void } | undefined;
      let status: JobStatus | undefined;
      let queue: string | undefined;
      let started: () => void = () => undefined;
      let chain = new Promise<void>((resolve) => {
        started = resolve;
      });
      // Events that arrive before the first record is sent wait on `chain`, then go to the handler.
      let handle: (e: JobEvent) => Promise<void> = async () => undefined;
      try {
        queue = await ctx.guard(() => lookup(id, request.query.queue));
        if (!queue) throw notFound(id);
        const q = queue;
        sub = await subscribeBounded(
          ctx,
          ctx.events.subscribe(q, id, (e) => {
            chain = chain.then(() => handle(e));
          }),
        );
        status = await ctx.guard(() => readJobStatus(ctx.queues.get(q), ctx.redis, ctx.prefix, id));
        if (!status) throw notFound(id);
      } catch (err) {
        sub?.off();
        hold.release();
        throw err;
      }
      if (hold.signal.aborted) {
        // The client left during the set-up (its place is already given back): nothing to send.
        sub.off();
        reply.hijack();
        return;
      }
      const at = sub.at;
      const q = queue;
      const current = status;
      const res = reply.raw;
      reply.hijack();
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        // The socket closes with the stream: an idle keep-alive socket left behind would hold app.close()
        // (Fastify closes idle sockets when closing begins, when this one was still busy).
        connection: 'close',
      });
      let ended = false;
      let lastSent = '0-0';
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        stopClosing();
        sub?.off();
        hold.release();
        res.end();
      };
      const stopClosing = ctx.onClosing(end);
      hold.signal.addEventListener('abort', end, { once: true });
      const send = (event: string, eventId: string, data: unknown) => {
        if (ended) return;
        if (compareStreamIds(eventId, lastSent) > 0) lastSent = eventId;
        res.write(`id: ${eventId}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const read = () => ctx.guard(() => readJobStatus(ctx.queues.get(q), ctx.redis, ctx.prefix, id));
      const onEvent = async (e: JobEvent) => {
        if (ended || compareStreamIds(e.id, lastSent) <= 0) return;
        if (e.event === 'progress') {
          send('progress', e.id, { id, progress: e.fields.data ?? null });
          return;
        }
        if (e.event === 'waiting' || e.event === 'delayed' || e.event === 'active') {
          send('state', e.id, { id, status: statusOf(e.event) });
          return;
        }
        // completed, failed or removed: what the job is now says whether it ended (a failed attempt may
        // be retried; a removed job with a tombstone was cancelled).
        const now = await read();
        if (!now) return end();
        if (FINISHED.has(now.status)) {
          send(now.status, e.id, now);
          return end();
        }
        send('state', e.id, { id, status: now.status });
      };
      const first = async () => {
        const resume = request.headers['last-event-id'];
        if (resume && STREAM_ID_RE.test(resume)) {
          const past = await ctx.guard(() => ctx.events.history(q, id, resume));
          if (past.complete) {
            lastSent = resume;
            for (const e of past.events) await onEvent(e);
            // Finished with its end at or before `resume` (the client missed only the stream's close).
            if (!ended && FINISHED.has(current.status)) {
              send(current.status, lastSent, current);
              end();
            }
            return;
          }
        }
        if (FINISHED.has(current.status)) {
          send(current.status, at, current);
          return end();
        }
        send('state', at, current);
      };
      res.write('retry: 1000\n\n');
      try {
        await first();
      } catch (err) {
        request.log.warn({ reqId: request.id, err: String((err as Error)?.message) }, 'event stream failed');
        return end();
      }
      handle = (e) => onEvent(e).catch(() => end());
      started();
    },
  );
}
