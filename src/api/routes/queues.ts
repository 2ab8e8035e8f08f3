/** GET /queues, GET /queues/:name, POST /queues/:name/pause, POST /queues/:name/resume. */
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../errors.js';
import { readCounts } from '../../queue/counts.js';
import { setPaused } from '../../queue/pause.js';
import { readQueueLimits } from '../../queue/queue-limits.js';
import type { ApiContext } from '../context.js';
import { commonErrors, countsSchema, errorSchema, queueParams } from '../schemas.js';

const rateLimitSchema = {
  type: ['object', 'null'],
  properties: { max: { type: 'integer' }, durationMs: { type: 'integer' } },
} as const;

/** `GET /queues/:name`: the counts plus the queue's limits. */
const queueDetailSchema = {
  ...countsSchema,
  properties: {
    ...countsSchema.properties,
    limits: {
      type: 'object',
      description:
        'What BullMQ enforces, read from the queue’s meta hash in Redis (stored by the workers at start); `declared`: what this API’s handlers module declares (defineQueue).',
      properties: {
        rateLimit: {
          ...rateLimitSchema,
          description: 'At most `max` jobs start per `durationMs`; null = none.',
        },
        globalConcurrency: {
          type: ['integer', 'null'],
          description: 'At most this many jobs run at once across all workers; null = none.',
        },
        declared: {
          type: 'object',
          properties: {
            rateLimit: rateLimitSchema,
            globalConcurrency: { type: ['integer', 'null'] },
          },
        },
      },
    },
  },
} as const;

export function queueRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const requireQueue = async (name: string) => {
    if (!(await ctx.directory.has(name))) {
      throw new NotFoundError(
        'QUEUE_NOT_FOUND',
        `Queue ${JSON.stringify(name)} was not found: no job type uses it, it is not in kq's queue directory and Redis holds no such BullMQ queue.`,
        { queue: name, knownQueues: (await ctx.directory.names()).slice(0, 50) },
      );
    }
  };
  const counts = async (name: string) => ({
    queue: name,
    ...(await readCounts(ctx.redis, ctx.prefix, name)),
  });
  const notFound = { description: 'QUEUE_NOT_FOUND', ...errorSchema };

  app.get(
    '/queues',
    {
      schema: {
        summary: 'Every queue with its counts',
        tags: ['queues'],
        response: {
          200: { type: 'object', properties: { queues: { type: 'array', items: countsSchema } } },
          ...commonErrors,
        },
      },
    },
    async () =>
      ctx.guard(async () => ({ queues: await Promise.all((await ctx.directory.names()).map(counts)) })),
  );

  app.get<{ Params: { name: string } }>(
    '/queues/:name',
    {
      schema: {
        summary: 'A queue’s counts per state, its backlog and its limits',
        description:
          '`backlog` = waiting + prioritized + active: the value a KEDA metrics-api trigger should read (valueLocation: backlog). `limits`: the rate limit and global concurrency (docs/worker.md, Queue limits).',
        tags: ['queues'],
        params: queueParams,
        response: { 200: queueDetailSchema, 404: notFound, ...commonErrors },
      },
    },
    async (request) =>
      ctx.guard(async () => {
        const name = request.params.name;
        await requireQueue(name);
        const declared = ctx.jobs.limits(name);
        const [c, stored] = await Promise.all([counts(name), readQueueLimits(ctx.queues, name)]);
        return {
          ...c,
          limits: {
            ...stored,
            declared: {
              rateLimit: declared.rateLimit ?? null,
              globalConcurrency: declared.globalConcurrency ?? null,
            },
          },
        };
      }),
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: { name: string } }>(
      `/queues/:name/${action}`,
      {
        schema: {
          summary:
            action === 'pause' ? 'Pause a queue (running jobs finish; nothing new starts)' : 'Resume a queue',
          tags: ['queues'],
          params: queueParams,
          response: { 200: countsSchema, 404: notFound, ...commonErrors },
        },
      },
      async (request) =>
        ctx.guard(async () => {
          await requireQueue(request.params.name);
          await setPaused(ctx.queues, request.params.name, action === 'pause');
          return counts(request.params.name);
        }),
    );
  }
}
