/**
 * JSON schemas of the routes: Fastify validates request envelopes with them (zod validates each job
 * type's `data` afterwards) and @fastify/swagger turns them into the OpenAPI document.
 */
import { QUEUE_NAME_RULE } from '../config.js';
import { MAX_PRIORITY } from '../queue/enqueue.js';
import { JOB_STATUSES } from '../queue/job-status.js';

const queueName = {
  type: 'string',
  pattern: QUEUE_NAME_RULE.re.source,
  description: `Queue name: ${QUEUE_NAME_RULE.rule}.`,
} as const;

export const jobFields = {
  type: { type: 'string', minLength: 1, maxLength: 100, description: 'Job type (see GET /openapi.json).' },
  data: { description: 'Payload; validated against the job type’s schema.' },
  queue: { ...queueName, description: 'Queue to store the job in; default: the job type’s queue.' },
  delay: {
    type: 'integer',
    minimum: 0,
    maximum: 31_536_000_000,
    description: 'Milliseconds before it may run.',
  },
  priority: {
    type: 'integer',
    minimum: 1,
    maximum: MAX_PRIORITY,
    description: `1 = highest, ${MAX_PRIORITY} = lowest (BullMQ's range); unset = FIFO.`,
  },
  attempts: { type: 'integer', minimum: 1, maximum: 1000, description: 'Runs before failing for good.' },
} as const;

export const jobRequestSchema = {
  $id: 'JobRequest',
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: jobFields,
} as const;

export const batchRequestSchema = {
  type: 'object',
  required: ['jobs'],
  additionalProperties: false,
  properties: {
    jobs: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['type'],
        additionalProperties: false,
        properties: {
          ...jobFields,
          idempotencyKey: { type: 'string', minLength: 1, maxLength: 255 },
        },
      },
    },
  },
} as const;

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: true,
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

const err = (description: string) => ({ description, ...errorSchema });

export const commonErrors = {
  401: err('Missing or wrong bearer token (UNAUTHORIZED).'),
  503: err('Redis unavailable (REDIS_UNAVAILABLE); see Retry-After.'),
} as const;

export const submitErrors = {
  400: err('Malformed JSON (MALFORMED_JSON) or invalid envelope (INVALID_REQUEST).'),
  413: err('Body over BODY_LIMIT (BODY_TOO_LARGE).'),
  415: err('Content-Type is not application/json (UNSUPPORTED_MEDIA_TYPE).'),
  422: err(
    'Unknown job type (UNKNOWN_JOB_TYPE), payload fails its schema (INVALID_PAYLOAD), or an Idempotency-Key already used with a different type, queue or data (IDEMPOTENCY_KEY_REUSED).',
  ),
  ...commonErrors,
} as const;

export const acceptedSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    queue: { type: 'string' },
    status: { type: 'string', enum: [...JOB_STATUSES] },
  },
} as const;

export const jobStatusSchema = {
  type: 'object',
  properties: {
    ...acceptedSchema.properties,
    progress: { description: 'A number 0-100 or an object set by the handler.' },
    attempts: { type: 'integer', description: 'Attempts started so far.' },
    maxAttempts: { type: 'integer' },
    data: {},
    result: { description: 'The handler’s return value once completed, else null.' },
    error: { type: ['string', 'null'], description: 'Why the last attempt failed.' },
    createdAt: { type: ['string', 'null'], format: 'date-time' },
    startedAt: { type: ['string', 'null'], format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    parent: { type: 'string', description: 'A flow child only (POST /flows): its parent’s id.' },
    children: {
      type: 'object',
      description:
        'A flow parent only (POST /flows): its direct children by status; `ignored` failed with ignoreDependencyOnFailure.',
      properties: Object.fromEntries(
        ['total', 'waiting', 'delayed', 'active', 'completed', 'failed', 'ignored'].map((k) => [
          k,
          { type: 'integer' },
        ]),
      ),
    },
  },
} as const;

export const countsSchema = {
  type: 'object',
  properties: {
    queue: { type: 'string' },
    waiting: { type: 'integer' },
    prioritized: { type: 'integer' },
    delayed: { type: 'integer' },
    active: { type: 'integer' },
    completed: { type: 'integer' },
    failed: { type: 'integer', description: 'Failed for good; cancelled jobs are counted apart.' },
    cancelled: { type: 'integer', description: 'Cancelled by request, before or while they ran.' },
    backlog: { type: 'integer', description: 'waiting + prioritized + active: what autoscalers scale on.' },
    paused: { type: 'boolean' },
  },
} as const;

export const jobIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 300 } },
} as const;

export const queueParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 300 } },
} as const;

export const queueQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { queue: { ...queueName, description: 'Look only in this queue (ids are unique per queue).' } },
} as const;
