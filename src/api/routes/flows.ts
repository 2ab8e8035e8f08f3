/** POST /flows: a parent job that runs after its children, stored atomically (src/queue/flows.ts). */
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../errors.js';
import {
  createFlowStore,
  type FlowRequest,
  MAX_FLOW_DEPTH,
  MAX_FLOW_JOBS,
  type PreparedFlow,
  prepareFlow,
} from '../../queue/flows.js';
import { REQUEST_HASH_OPTION } from '../../queue/job-ids.js';
import { locateJob } from '../../queue/job-status.js';
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

/**
 * True when the flow this Idempotency-Key names exists (or its parent was cancelled): the same request
 * names the same ids (flows.ts), so the answer is the prepared tree. 422 when it was made by a
 * different request. Known race, as for POST /jobs: two requests at the same moment may both store;
 * BullMQ then keeps the first job of each id.
 */
async function alreadyStored(ctx: ApiContext, prepared: PreparedFlow, key: string): Promise<boolean> {
  const { id, queue } = prepared.tree;
  if (!(await locateJob(ctx.redis, ctx.prefix, [queue], id))) return false;
  const job = await ctx.queues.get(queue).getJob(id);
  // A parent cancelled before it ran left only a tombstone: it answers `cancelled`, nothing is stored.
  const hash = job ? (job.opts as Record<string, unknown>)[REQUEST_HASH_OPTION] : prepared.hash;
  if (hash !== prepared.hash) {
    throw new ValidationError(
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key ${JSON.stringify(key)} was already used for job ${id} with a different request. Resend the original flow to get its ids, or use a new Idempotency-Key for a different flow.`,
      { idempotencyKey: key, id },
    );
  }
  return true;
}

export function flowRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.addSchema(flowNodeSchema);
  app.addSchema(flowTreeSchema);
  const store = createFlowStore(ctx.redis, ctx.prefix);
  app.addHook('onClose', () => store.close());

  app.post<{ Body: FlowRequest; Headers: { 'idempotency-key'?: string } }>(
    '/flows',
    {
      schema: {
        headers: {
          type: 'object',
          properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 } },
        },
        summary: 'Add a flow: a job that runs after its children',
        description: `Validates every job of the tree (type, and data against the type’s schema) before anything is stored: an invalid node answers 422 naming its path (e.g. \`children[1].children[0].data.width\`) and nothing is stored. Then stores the whole tree atomically (BullMQ FlowProducer) and answers 202 with every job’s id, in the request’s shape. The parent waits (status \`waiting\`) until its children finished; its handler reads their results with \`ctx.childResults()\`. At most ${MAX_FLOW_DEPTH} levels below the parent and ${MAX_FLOW_JOBS} jobs in all (422 INVALID_FLOW past them). With an Idempotency-Key (per queue of the parent) every id is derived from the key: the same request again answers 202 with the same tree and header \`idempotent-replayed: true\`, storing nothing, while the parent is retained; a different request with that key answers 422 IDEMPOTENCY_KEY_REUSED.`,
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
      const key = request.headers['idempotency-key'];
      const prepared = prepareFlow(ctx.jobs, request.body, {
        cluster: isCluster(ctx.redis),
        ...(key === undefined ? {} : { idempotencyKey: key }),
      });
      const replayed = await ctx.guard(async () => {
        if (key !== undefined && (await alreadyStored(ctx, prepared, key))) return true;
        for (const queue of prepared.queues) await ctx.directory.admit(queue);
        await store.add(prepared);
        return false;
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply
        .code(202)
        .header('location', `/jobs/${encodeURIComponent(prepared.tree.id)}`)
        .send(prepared.tree);
    },
  );
}
