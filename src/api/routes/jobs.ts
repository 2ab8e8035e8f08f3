/** POST /jobs, POST /jobs/batch, GET /jobs/:id, DELETE /jobs/:id. */
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../errors.js';
import { cancelJob } from '../../queue/cancel-job.js';
import { readJobStatus } from '../../queue/job-status.js';
import type { ApiContext } from '../context.js';
import { createJobLookup } from '../job-lookup.js';
import { waitForJob, waitQuery, waitSeconds } from '../job-wait.js';
import {
  acceptedSchema,
  batchRequestSchema,
  commonErrors,
  errorSchema,
  jobIdParams,
  jobRequestSchema,
  jobStatusSchema,
  queueQuery,
  submitErrors,
} from '../schemas.js';
import type { SubmitRequest } from '../submit.js';

const notFound = (id: string) =>
  new NotFoundError(
    'JOB_NOT_FOUND',
    `Job ${JSON.stringify(id)} was not found (never existed, or no longer retained).`,
    {
      id,
    },
  );

/** The request's size for the producer's in-flight bound (Content-Length; bodies are bounded by BODY_LIMIT). */
const bodyBytes = (headers: { 'content-length'?: string }): number => Number(headers['content-length']) || 0;

export function jobRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: SubmitRequest; Headers: { 'idempotency-key'?: string } }>(
    '/jobs',
    {
      schema: {
        summary: 'Add a job',
        description:
          'Stores the job, then answers 202 with its id (`<queue>.<16 base64url characters>`). The same Idempotency-Key (per queue) with the same type, queue and data returns the same id (`<queue>.idem-<sha256 hex of the key>`) and stores nothing new while that job is retained; with a different type, queue or data it answers 422 IDEMPOTENCY_KEY_REUSED.',
        tags: ['jobs'],
        headers: {
          type: 'object',
          properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 } },
        },
        body: jobRequestSchema,
        response: { 202: { description: 'Stored.', ...acceptedSchema }, ...submitErrors },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      // The submitter bounds its own Redis work (a guard, or the coalescer's per-batch deadline).
      const job = await ctx.submitter.submit(request.body, key, bodyBytes(request.headers));
      if (job.replayed) reply.header('idempotent-replayed', 'true');
      // The response schema serializes id, type, queue and status only (`replayed` is the header above).
      return reply
        .code(202)
        .header('location', `/jobs/${encodeURIComponent(job.id)}`)
        .send(job);
    },
  );

  app.post<{ Body: { jobs: SubmitRequest[] } }>(
    '/jobs/batch',
    {
      schema: {
        summary: 'Add up to 1000 jobs at once',
        description:
          'Validates every job first (nothing is stored if one is invalid, or if an item reuses an Idempotency-Key with a different type, queue or data: 422 naming `jobs[i]`), then stores all in one round trip per queue.',
        tags: ['jobs'],
        body: batchRequestSchema,
        response: {
          202: {
            description: 'All stored.',
            type: 'object',
            properties: {
              ids: { type: 'array', items: { type: 'string' } },
              jobs: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    ...acceptedSchema.properties,
                    replayed: {
                      type: 'boolean',
                      description:
                        'True when the item’s Idempotency-Key named a job that exists (or an earlier item of this batch): nothing new was stored, `status` is that job’s.',
                    },
                  },
                },
              },
            },
          },
          ...submitErrors,
        },
      },
    },
    async (request, reply) => {
      const jobs = await ctx.submitter.submitMany(request.body.jobs, bodyBytes(request.headers));
      return reply.code(202).send({ ids: jobs.map((j) => j.id), jobs });
    },
  );

  const lookup = createJobLookup(ctx);

  app.get<{ Params: { id: string }; Querystring: { queue?: string; wait?: string } }>(
    '/jobs/:id',
    {
      schema: {
        summary: 'A job’s status, progress, result or error',
        description:
          'With `?wait=<seconds>` (at most 60) the answer comes as soon as the job is completed, failed or cancelled, or with its current state when the time is up (or when the API begins shutting down).',
        tags: ['jobs'],
        params: jobIdParams,
        querystring: waitQuery,
        response: {
          200: jobStatusSchema,
          404: { description: 'JOB_NOT_FOUND', ...errorSchema },
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (request.query.wait !== undefined) {
        const waitMs = waitSeconds(request.query.wait);
        // Held from before the first await, so a client that leaves during the lookup is seen.
        const hold = ctx.held.waiters.hold(reply);
        try {
          const queue = await ctx.guard(() => lookup(id, request.query.queue));
          if (hold.signal.aborted) {
            // The client left during the lookup: nothing to wait for, nothing to send.
            reply.hijack();
            return;
          }
          const status = queue ? await waitForJob(ctx, queue, id, waitMs, hold.signal) : undefined;
          if (!status) throw notFound(id);
          return status;
        } finally {
          hold.release();
        }
      }
      const status = await ctx.guard(async () => {
        const queue = await lookup(id, request.query.queue);
        return queue ? readJobStatus(ctx.queues.get(queue), ctx.redis, ctx.prefix, id) : undefined;
      });
      if (!status) throw notFound(id);
      return status;
    },
  );

  app.delete<{ Params: { id: string }; Querystring: { queue?: string } }>(
    '/jobs/:id',
    {
      schema: {
        summary: 'Cancel a job',
        description:
          'A waiting or delayed job is removed (200, status cancelled). A running job is cancelled in whichever worker holds it (202; its status becomes cancelled within about a second). A finished job gives 409.',
        tags: ['jobs'],
        params: jobIdParams,
        querystring: queueQuery,
        response: {
          200: { description: 'Cancelled.', ...acceptedSchema },
          202: {
            description: 'Running: cancel requested.',
            type: 'object',
            properties: {
              ...acceptedSchema.properties,
              cancelRequested: { type: 'boolean' },
              workersNotified: { type: 'integer' },
            },
          },
          404: { description: 'JOB_NOT_FOUND', ...errorSchema },
          409: { description: 'JOB_FINISHED', ...errorSchema },
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const result = await ctx.guard(async () => {
        const queue = await lookup(id, request.query.queue);
        if (!queue) throw notFound(id);
        return { queue, ...(await cancelJob({ queues: ctx.queues, redis: ctx.redis, queue, id })) };
      });
      const type = await ctx.guard(() =>
        readJobStatus(ctx.queues.get(result.queue), ctx.redis, ctx.prefix, id),
      );
      const base = { id, type: type?.type ?? '', queue: result.queue };
      if (result.outcome === 'signalled') {
        return reply
          .code(202)
          .send({ ...base, status: 'active', cancelRequested: true, workersNotified: result.listeners });
      }
      return reply.code(200).send({ ...base, status: 'cancelled' });
    },
  );
}
