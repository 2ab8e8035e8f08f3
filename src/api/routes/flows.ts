/** POST /flows: a parent job that runs after its children, stored atomically (src/queue/flows.ts). */
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../errors.js';
import {
  createFlowStore,
  type FlowRequest,
  MAX_FLOW_DEPTH,
  MAX_FLOW_JOBS,
  prepareFlow,
} from '../../queue/flows.js';
import { isCluster } from '../../queue/keys.js';
import type { ApiContext } from '../context.js';
import { errorSchema, jobFields, submitErrors } from '../schemas.js';

const { delay, priority, attempts, ...nodeFields } = jobFields;

/** One node of a flow; `children` refers back to this schema, so children nest. */
export const flowNodeSchema = {
  $id: 'FlowNode',
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    ...nodeFields,
    opts: {
      type: 'object',
      additionalProperties: false,
      properties: {
        delay,
        priority,
        attempts,
        failParentOnFailure: {
          type: 'boolean',
          description:
            'A child only: its failure (after all attempts) fails the parent. Default: true unless ignoreDependencyOnFailure.',
        },
        ignoreDependencyOnFailure: {
          type: 'boolean',
          description:
            'A child only: its failure is recorded (the parent reads it with ctx.childFailures()) and the parent runs anyway. Default: false.',
        },
      },
    },
    children: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_FLOW_JOBS,
      description: `Jobs that must finish before this one runs; they may have children of their own (at most ${MAX_FLOW_DEPTH} levels below the parent, ${MAX_FLOW_JOBS} jobs in all).`,
      items: { $ref: 'FlowNode#' },
    },
  },
} as const;

const flowTreeSchema = {
  $id: 'FlowTree',
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    queue: { type: 'string' },
    children: { type: 'array', items: { $ref: 'FlowTree#' } },
  },
} as const;

export function flowRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.addSchema(flowNodeSchema);
  app.addSchema(flowTreeSchema);
  const store = createFlowStore(ctx.redis, ctx.prefix);
  app.addHook('onClose', () => store.close());

  app.post<{ Body: FlowRequest; Headers: { 'idempotency-key'?: string } }>(
    '/flows',
    {
      schema: {
        summary: 'Add a flow: a job that runs after its children',
        description: `Validates every job of the tree (type, and data against the type’s schema) before anything is stored: an invalid node answers 422 naming its path (e.g. \`children[1].children[0].data.width\`) and nothing is stored. Then stores the whole tree atomically (BullMQ FlowProducer) and answers 202 with every job’s id, in the request’s shape. The parent waits (status \`waiting\`) until its children finished; its handler reads their results with \`ctx.childResults()\`. At most ${MAX_FLOW_DEPTH} levels below the parent and ${MAX_FLOW_JOBS} jobs in all (422 INVALID_FLOW past them). Idempotency-Key is not supported here (400).`,
        tags: ['flows'],
        body: { $ref: 'FlowNode#' },
        response: {
          202: {
            description: 'Stored: the parent (id, type, queue) and its children, each with its id.',
            $ref: 'FlowTree#',
          },
          ...submitErrors,
          422: {
            description:
              'Unknown job type (UNKNOWN_JOB_TYPE) or invalid data (INVALID_PAYLOAD) in a node, named by its path; a flow too deep or too large, or misplaced options (INVALID_FLOW).',
            ...errorSchema,
          },
        },
      },
    },
    async (request, reply) => {
      if (request.headers['idempotency-key'] !== undefined) {
        throw new ValidationError(
          'INVALID_REQUEST',
          'Header Idempotency-Key is not supported on POST /flows: a retried flow would be stored twice. Send it without the header, or use POST /jobs for idempotent single jobs.',
          { header: 'idempotency-key' },
        );
      }
      const prepared = prepareFlow(ctx.jobs, request.body, isCluster(ctx.redis));
      await ctx.guard(async () => {
        for (const queue of prepared.queues) await ctx.directory.admit(queue);
        await store.add(prepared);
      });
      return reply
        .code(202)
        .header('location', `/jobs/${encodeURIComponent(prepared.tree.id)}`)
        .send(prepared.tree);
    },
  );
}
