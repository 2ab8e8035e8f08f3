/**
 * The seed's endpoint, kept for compatibility: `POST /` with any or no body enqueues the demo job
 * (`sleep`, 5 s) and, unlike the seed, answers only after Redis stored it, with the job's id.
 * `GET /` lists where things are.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { commonErrors } from '../schemas.js';

export async function seedRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  await app.register(async (seed) => {
    // The seed accepted anything: ignore the body whatever its type (this parser is scoped to POST /).
    seed.removeAllContentTypeParsers();
    seed.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    seed.post(
      '/',
      {
        schema: {
          summary: 'The seed’s endpoint: add the demo job (sleep, 5 s)',
          tags: ['jobs'],
          response: {
            202: { type: 'object', properties: { id: { type: 'string' } } },
            422: {
              description: 'No `sleep` type in HANDLERS (UNKNOWN_JOB_TYPE).',
              type: 'object',
              additionalProperties: true,
            },
            ...commonErrors,
          },
        },
      },
      async (_request, reply) => {
        const job = await ctx.submitter.submit({ type: 'sleep' });
        return reply.code(202).header('location', `/jobs/${job.id}`).send({ id: job.id });
      },
    );
  });
  app.get('/', { schema: { summary: 'Where things are', tags: ['health'] } }, async () => ({
    name: 'kq',
    docs: '/docs',
    openapi: '/openapi.json',
    dashboard: '/ui',
    metrics: '/metrics',
    jobTypes: ctx.jobs.all.map((d) => ({ type: d.name, queue: d.queue, description: d.description ?? null })),
  }));
}
