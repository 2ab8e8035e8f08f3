/**
 * OpenAPI 3 from the route schemas (@fastify/swagger), served at /openapi.json, and a rendered reference
 * at /docs (@fastify/swagger-ui, with security headers). Routes validate only the job envelope, so the
 * document gets more than validation uses: POST /jobs is shown as one variant per job type, each with
 * the type's payload schema converted from zod, and the payload schemas are listed under components.
 */
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { JobDefinition } from '../jobs/define-job.js';
import type { JobRegistry } from '../jobs/registry.js';
import { batchRequestSchema, jobRequestSchema } from './schemas.js';

/** A job type's payload as JSON Schema (OpenAPI 3.0 flavour); `{}` when zod cannot express it. */
export function payloadJsonSchema(def: JobDefinition): Record<string, unknown> {
  try {
    const s = z.toJSONSchema(def.schema, {
      target: 'openapi-3.0',
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    delete s.$schema;
    return s;
  } catch {
    return {};
  }
}

const componentName = (type: string) => `Payload_${type.replace(/[^A-Za-z0-9_.-]/g, '_')}`;

/**
 * What "Try it out" sends for a type: the type and, when the schema accepts an empty payload, the
 * payload it turns into (its defaults). No queue, delay, priority or attempts: swagger-ui would otherwise
 * fill them from the schema's bounds (a one-year delay, 1,000 attempts, a random queue name).
 */
export function exampleRequest(def: JobDefinition): Record<string, unknown> {
  const empty = (def.schema as z.ZodType).safeParse({});
  return empty.success ? { type: def.name, data: empty.data ?? {} } : { type: def.name };
}

function perTypeVariants(jobs: JobRegistry, envelope: { properties: Record<string, unknown> }) {
  return jobs.all.map((d) => ({
    title: d.name,
    example: exampleRequest(d),
    description: d.description,
    type: 'object',
    required: ['type'],
    additionalProperties: false,
    properties: {
      ...envelope.properties,
      type: { type: 'string', enum: [d.name] },
      data: { $ref: `#/components/schemas/${componentName(d.name)}` },
    },
  }));
}

/** Registers @fastify/swagger; call before the routes are added. */
export async function registerOpenApi(app: FastifyInstance, jobs: JobRegistry, auth: boolean): Promise<void> {
  const variants = perTypeVariants(jobs, jobRequestSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'kq API',
        version: '0.1.0',
        description: `Add jobs, read their status, cancel them, and read queue counts. Job types: ${jobs.all.map((d) => d.name).join(', ')}.`,
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: Object.fromEntries(jobs.all.map((d) => [componentName(d.name), payloadJsonSchema(d)])),
      },
      security: auth ? [{ bearer: [] }] : [],
      tags: [
        { name: 'jobs' },
        { name: 'flows' },
        { name: 'queues' },
        { name: 'schedules' },
        { name: 'health' },
      ],
    },
    // Shared schemas (app.addSchema) keep their $id as their component name (`FlowNode`), not `def-<n>`.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transform({ schema, url, route }) {
      const s = { ...(schema as Record<string, unknown>) };
      const example = variants[0]?.example;
      if (url === '/jobs' && route.method === 'POST') s.body = { oneOf: variants, example };
      if (url === '/jobs/batch' && route.method === 'POST') {
        s.body = {
          ...batchRequestSchema,
          properties: { jobs: { ...batchRequestSchema.properties.jobs, items: { oneOf: variants } } },
          example: { jobs: example ? [example] : [] },
        };
      }
      if (url === '/healthz' || url === '/readyz') s.security = [];
      return { schema: s as never, url };
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** /docs with security headers; swagger-ui's assets are all served from /docs itself. */
export async function registerDocsUi(app: FastifyInstance): Promise<void> {
  await app.register(async (docs) => {
    await docs.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'", "'unsafe-inline'"],
          scriptSrc: ["'self'"],
        },
      },
    });
    await docs.register(swaggerUi, { routePrefix: '/docs', staticCSP: false });
  });
}
