/**
 * Flows: a parent job that runs after its children (which may have children of their own), stored in
 * one atomic write by BullMQ's `FlowProducer` with BullMQ's key layout. kq adds what `POST /jobs` has:
 * every node's type is resolved and its `data` validated with the type's schema before anything is
 * stored (a failing node is named by its path, `children[1].children[0].data.width`), every job gets a
 * kq id (`<queue>.<random>`), and the tree's depth and size are bounded.
 *
 * A child's failure: by default it fails its parent (`failParentOnFailure`, BullMQ fails the parent
 * when a worker takes it); with `ignoreDependencyOnFailure` the parent runs anyway and reads the error
 * with `ctx.childFailures()`. Setting both false leaves the parent waiting for ever (BullMQ's own
 * default), so kq does not default to it.
 */
import { type FlowJob, FlowProducer, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { KqError, ValidationError } from '../errors.js';
import type { JobRegistry } from '../jobs/registry.js';
import { type EnqueueRequest, prepareJob } from './enqueue.js';
import { FLOW_CHILDREN_OPTION } from './flow-children.js';
import { idempotentJobId, newJobId, REQUEST_HASH_OPTION, requestHash } from './job-ids.js';
import { bullQueueName, directoryKeys, isCluster } from './keys.js';
import type { QueueCache } from './queues.js';

/** Levels below the parent at most (a child is level 1). */
export const MAX_FLOW_DEPTH = 5;
/** Jobs in one flow at most, the parent included. */
export const MAX_FLOW_JOBS = 1000;

export interface FlowNodeOptions {
  delay?: number;
  priority?: number;
  attempts?: number;
  /** A child only: its failure fails the parent. @default true unless ignoreDependencyOnFailure */
  failParentOnFailure?: boolean;
  /** A child only: its failure is recorded and the parent runs as if it had completed. @default false */
  ignoreDependencyOnFailure?: boolean;
}

export interface FlowRequest {
  type: string;
  data?: unknown;
  /** Defaults to the type's queue. */
  queue?: string;
  opts?: FlowNodeOptions;
  children?: FlowRequest[];
}

/** What `POST /flows` answers: every job's id, in the request's shape. */
export interface FlowNode {
  id: string;
  type: string;
  queue: string;
  children?: FlowNode[];
}

export interface PreparedFlow {
  flow: FlowJob;
  tree: FlowNode;
  /** Every queue the flow stores a job in. */
  queues: string[];
  /** With an Idempotency-Key: what identifies the request (every node's type, queue, data and options). */
  hash?: string;
}

export interface PrepareFlowOptions {
  /** Redis Cluster: every job of a flow must be on one queue. @default false */
  cluster?: boolean;
  /**
   * Every id is derived from it and the node's path (the parent's is `POST /jobs`'s id for that key),
   * so the same request names the same jobs, and the parent keeps the request's hash.
   */
  idempotencyKey?: string;
}

/** The path prefix of a node: '' for the parent, `children[1].children[0].` below it. */
const prefixed = (at: string, field: string) => `${at}${field}`;

/** Rethrows a node's validation error with the node's path in its message and issue paths. */
function atNode(err: unknown, at: string): never {
  if (!(err instanceof ValidationError) || !at) throw err;
  const issues = (err.details.issues as { path: string; message: string }[] | undefined)?.map((i) => ({
    ...i,
    path: prefixed(at, i.path),
  }));
  throw new ValidationError(err.code, `${at.slice(0, -1)}: ${err.message}`, {
    ...err.details,
    path: at.slice(0, -1),
    ...(issues ? { issues } : {}),
  });
}

function invalid(path: string, message: string): never {
  throw new ValidationError('INVALID_FLOW', `${path}: ${message}`, { path });
}

/**
 * Validates the whole tree (nothing is stored when a node is invalid) and turns it into BullMQ's
 * `FlowJob`, each job with a new kq id. On Redis Cluster every job of a flow must be on one queue (one
 * hash slot: BullMQ writes a flow in one MULTI).
 * @example const { flow, tree } = prepareFlow(jobs, { type: 'report', children: [{ type: 'resize' }] });
 */
export function prepareFlow(jobs: JobRegistry, req: FlowRequest, o: PrepareFlowOptions = {}): PreparedFlow {
  const { cluster = false, idempotencyKey: key } = o;
  const hashed: unknown[] = [];
  let count = 0;
  const queues = new Set<string>();
  const walk = (node: FlowRequest, at: string, depth: number): { flow: FlowJob; tree: FlowNode } => {
    count++;
    if (count > MAX_FLOW_JOBS) {
      invalid(at.slice(0, -1) || '(root)', `a flow holds at most ${MAX_FLOW_JOBS} jobs, the parent included`);
    }
    if (depth > MAX_FLOW_DEPTH) {
      invalid(at.slice(0, -1), `children nest at most ${MAX_FLOW_DEPTH} levels below the parent`);
    }
    const o = node.opts ?? {};
    if (depth === 0 && (o.failParentOnFailure !== undefined || o.ignoreDependencyOnFailure !== undefined)) {
      invalid(
        o.failParentOnFailure !== undefined ? 'opts.failParentOnFailure' : 'opts.ignoreDependencyOnFailure',
        'applies to a child only (the parent has no parent to fail)',
      );
    }
    if (o.failParentOnFailure && o.ignoreDependencyOnFailure) {
      invalid(
        prefixed(at, 'opts.ignoreDependencyOnFailure'),
        'cannot be true together with opts.failParentOnFailure: choose whether the failure fails the parent or is ignored',
      );
    }
    const req: EnqueueRequest = { type: node.type, data: node.data };
    if (node.queue !== undefined) req.queue = node.queue;
    if (o.delay !== undefined) req.delay = o.delay;
    if (o.priority !== undefined) req.priority = o.priority;
    if (o.attempts !== undefined) req.attempts = o.attempts;
    let p: ReturnType<typeof prepareJob>;
    try {
      p = prepareJob(jobs, req);
    } catch (err) {
      atNode(err, at);
    }
    queues.add(p.queue);
    const id = key === undefined ? newJobId(p.queue) : idempotentJobId(p.queue, at ? `${key}\n${at}` : key);
    const opts: JobsOptions & Record<string, unknown> = { ...p.opts, jobId: id };
    if (depth > 0) {
      if (o.ignoreDependencyOnFailure) opts.ignoreDependencyOnFailure = true;
      else opts.failParentOnFailure = o.failParentOnFailure ?? true;
    }
    const kids = (node.children ?? []).map((c, i) => walk(c, `${at}children[${i}].`, depth + 1));
    if (kids.length) opts[FLOW_CHILDREN_OPTION] = kids.length;
    const flow = {
      name: p.name,
      queueName: bullQueueName(p.queue, cluster),
      data: p.data,
      opts,
      ...(kids.length ? { children: kids.map((k) => k.flow) } : {}),
    } as FlowJob;
    // What the hash covers, per node: the request as validated, not the type's defaults (which may change).
    if (key !== undefined) hashed.push({ at, type: p.name, queue: p.queue, data: p.data, opts: o });
    const tree: FlowNode = {
      id,
      type: p.name,
      queue: p.queue,
      ...(kids.length ? { children: kids.map((k) => k.tree) } : {}),
    };
    return { flow, tree };
  };
  const { flow, tree } = walk(req, '', 0);
  if (cluster && queues.size > 1) {
    invalid(
      'queue',
      `on Redis Cluster every job of a flow must be on one queue; this flow uses ${[...queues].map((q) => JSON.stringify(q)).join(', ')}`,
    );
  }
  if (key === undefined) return { flow, tree, queues: [...queues] };
  const hash = requestHash('flow', tree.queue, hashed);
  (flow.opts as Record<string, unknown>)[REQUEST_HASH_OPTION] = hash;
  return { flow, tree, queues: [...queues], hash };
}

export interface FlowStore {
  /** Stores a prepared flow in one atomic write. */
  add(prepared: PreparedFlow): Promise<void>;
  close(): Promise<void>;
}

/**
 * One `FlowProducer` on a shared connection (closing the store leaves the connection open).
 * @example const store = createFlowStore(redis, 'bull'); await store.add(prepareFlow(jobs, req));
 */
export function createFlowStore(connection: Redis, prefix: string): FlowStore {
  let producer: FlowProducer | undefined;
  return {
    async add(prepared) {
      if (!producer) {
        producer = new FlowProducer({ connection, prefix, skipVersionCheck: true } as ConstructorParameters<
          typeof FlowProducer
        >[0]);
        // Errors surface on the awaited call; this listener keeps EventEmitter from throwing.
        producer.on('error', () => undefined);
      }
      const added = await producer.add(prepared.flow);
      if (!added) throw new KqError('SHUTTING_DOWN', 'The flow producer is closing; retry.');
    },
    async close() {
      await producer?.close().catch(() => undefined);
      producer = undefined;
    },
  };
}

/**
 * Validates and stores a flow from a library or CLI caller (trusted like the operator: no queue bound),
 * registering its queues first. Resolves to every job's id, in the request's shape.
 * @example const { id, children } = await enqueueFlow(queues, jobs, { type: 'report', children: [{ type: 'resize' }] });
 */
export async function enqueueFlow(
  queues: QueueCache,
  jobs: JobRegistry,
  req: FlowRequest,
): Promise<FlowNode> {
  const prepared = prepareFlow(jobs, req, { cluster: isCluster(queues.connection) });
  await queues.connection.sadd(directoryKeys(queues.prefix).queues, ...prepared.queues);
  const store = createFlowStore(queues.connection, queues.prefix);
  try {
    await store.add(prepared);
  } finally {
    await store.close();
  }
  return prepared.tree;
}
