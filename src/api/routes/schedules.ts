/** POST /schedules, GET /schedules, GET /schedules/:id, DELETE /schedules/:id (src/queue/schedules.ts). */
import type { FastifyInstance } from 'fastify';
import { QUEUE_NAME_RULE } from '../../config.js';
import { prepareSchedule, type ScheduleRequest } from '../../queue/schedule-spec.js';
import { listSchedules, locateSchedule, removeSchedule, upsertSchedule } from '../../queue/schedules.js';
import type { ApiContext } from '../context.js';
import { commonErrors, errorSchema } from '../schemas.js';

const err = (description: string) => ({ description, ...errorSchema });
const queueName = { type: 'string', pattern: QUEUE_NAME_RULE.re.source } as const;
// anyOf rather than a type list: Fastify's Ajv (strict mode) warns on union types in request schemas.
const instant = {
  anyOf: [{ type: 'string' }, { type: 'integer' }],
  description: 'ISO 8601 date-time (e.g. 2030-01-01T03:00:00Z) or epoch milliseconds.',
} as const;

const scheduleRequestSchema = {
  type: 'object',
  required: ['id', 'type'],
  additionalProperties: false,
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: 100,
      description: 'Unique per queue; the same id again replaces it.',
    },
    type: { type: 'string', minLength: 1, maxLength: 100, description: 'Job type every run creates.' },
    data: { description: 'Payload of every run; validated against the job type’s schema.' },
    queue: { ...queueName, description: 'Default: the job type’s queue.' },
    cron: {
      type: 'string',
      maxLength: 200,
      description: 'Cron expression (5 fields, or 6 with seconds first). Exactly one of cron and every.',
    },
    tz: { type: 'string', maxLength: 100, description: 'IANA time zone of cron; default UTC.' },
    every: { type: 'integer', description: 'Milliseconds between runs, at least 1000.' },
    startAt: { ...instant, description: 'No run before this instant.' },
    endAt: { ...instant, description: 'No run after this instant; after startAt, in the future.' },
    limit: { type: 'integer', description: 'Runs at most.' },
  },
} as const;

const scheduleSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    queue: { type: 'string' },
    type: { type: 'string' },
    data: {},
    cron: { type: ['string', 'null'] },
    tz: { type: ['string', 'null'] },
    every: { type: ['integer', 'null'] },
    startAt: { type: ['string', 'null'], format: 'date-time' },
    endAt: { type: ['string', 'null'], format: 'date-time' },
    limit: { type: ['integer', 'null'] },
    iterations: { type: 'integer', description: 'Runs created so far.' },
    nextRunAt: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'When the next run is due; null once ended.',
    },
    source: {
      type: 'string',
      enum: ['api', 'module', 'other'],
      description:
        'Made by the API or CLI, by the handlers module (kq api applies and removes those), or by something else.',
    },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;
const queueQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    queue: { ...queueName, description: 'Only this queue (schedule ids are unique per queue).' },
  },
} as const;
const lookupErrors = {
  404: err('SCHEDULE_NOT_FOUND'),
  409: err('SCHEDULE_AMBIGUOUS: the id exists on several queues; add ?queue=.'),
  ...commonErrors,
} as const;

export function scheduleRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: ScheduleRequest }>(
    '/schedules',
    {
      schema: {
        summary: 'Create or replace a schedule (a recurring job)',
        description:
          'Upsert by id per queue (BullMQ job schedulers): 201 when new, 200 when it replaced one. Every run stores a job of `type` with `data`; it fires once per run however many API and worker replicas run. 422 naming the field for a bad cron expression, an unknown time zone, both or neither of cron and every, every under 1000 ms, an unknown type, invalid data, or endAt not after startAt or not in the future; nothing is stored then.',
        tags: ['schedules'],
        body: scheduleRequestSchema,
        response: {
          200: { description: 'Replaced.', ...scheduleSchema },
          201: { description: 'Created.', ...scheduleSchema },
          400: err('Malformed JSON (MALFORMED_JSON) or invalid envelope (INVALID_REQUEST).'),
          422: err(
            'INVALID_SCHEDULE, UNKNOWN_JOB_TYPE or INVALID_PAYLOAD (`field` names the field), or QUEUE_NOT_ALLOWED.',
          ),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const p = prepareSchedule(ctx.jobs, request.body);
      const { created, schedule } = await ctx.guard(async () => {
        await ctx.directory.admit(p.queue);
        return upsertSchedule(ctx.queues, p, 'api');
      });
      return reply
        .code(created ? 201 : 200)
        .header('location', `/schedules/${encodeURIComponent(p.id)}?queue=${encodeURIComponent(p.queue)}`)
        .send(schedule);
    },
  );

  app.get<{ Querystring: { queue?: string } }>(
    '/schedules',
    {
      schema: {
        summary: 'Every schedule of every known queue, with its next run',
        tags: ['schedules'],
        querystring: queueQuery,
        response: {
          200: { type: 'object', properties: { schedules: { type: 'array', items: scheduleSchema } } },
          ...commonErrors,
        },
      },
    },
    async (request) =>
      ctx.guard(async () => {
        const names = request.query.queue ? [request.query.queue] : await ctx.directory.names();
        return { schedules: await listSchedules(ctx.queues, names) };
      }),
  );

  app.get<{ Params: { id: string }; Querystring: { queue?: string } }>(
    '/schedules/:id',
    {
      schema: {
        summary: 'A schedule, with its next run',
        tags: ['schedules'],
        params: idParams,
        querystring: queueQuery,
        response: { 200: scheduleSchema, ...lookupErrors },
      },
    },
    async (request) =>
      ctx.guard(async () =>
        locateSchedule(ctx.queues, await ctx.directory.names(), request.params.id, request.query.queue),
      ),
  );

  app.delete<{ Params: { id: string }; Querystring: { queue?: string } }>(
    '/schedules/:id',
    {
      schema: {
        summary: 'Delete a schedule and its pending run',
        description: 'Runs already started or finished are kept. Answers the schedule as it was.',
        tags: ['schedules'],
        params: idParams,
        querystring: queueQuery,
        response: { 200: scheduleSchema, ...lookupErrors },
      },
    },
    async (request) =>
      ctx.guard(async () => {
        const s = await locateSchedule(
          ctx.queues,
          await ctx.directory.names(),
          request.params.id,
          request.query.queue,
        );
        await removeSchedule(ctx.queues, s.queue, s.id);
        return s;
      }),
  );
}
