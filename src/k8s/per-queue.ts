/**
 * One worker workload per queue. A worker takes jobs from one queue (`QUEUE`), so when the handlers
 * module's job types run on several queues, every approach is built once per queue: each build sees its
 * own `o.queue` (workers' `QUEUE`, the autoscaler's trigger or metric) and names its worker workload and
 * autoscaler `kq-worker-<queue>` (`workerName`). What an approach shares between queues (a
 * TriggerAuthentication, `kq keda-scaler`, the metrics adapter, a scrape Secret) comes out of every
 * build identical and is kept once, at its first place, so apply order holds.
 *
 * With one queue the approach is built once, unchanged: `kq-worker`, exactly as before.
 */

import { isDeepStrictEqual } from 'node:util';
import type { Model } from '@kubernetes-models/base';
import { type RenderContext, WORKER_NAME } from './common.js';

interface Named {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

const identity = (obj: Named) =>
  `${obj.apiVersion}/${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;

/** The worker workload's name for `queue` when the approach runs workers for several queues. */
export const queueWorkerName = (queue: string): string => `${WORKER_NAME}-${queue}`;

/**
 * The approach's objects for every queue of `ctx.o.queues` (or for `ctx.o.queue` alone).
 * @example perQueue(ctx, approaches.deployment.build) // Deployments kq-worker-billing, kq-worker-emails
 */
export function perQueue(
  ctx: RenderContext,
  build: (ctx: RenderContext) => Model<unknown>[],
): Model<unknown>[] {
  const queues = ctx.o.queues ?? [];
  if (queues.length < 2) return build(ctx);
  const kept = new Map<string, { obj: Model<unknown>; json: unknown; queue: string }>();
  for (const queue of queues) {
    const objects = build({ ...ctx, o: { ...ctx.o, queue }, workerName: queueWorkerName(queue) });
    for (const obj of objects) {
      const json = obj.toJSON();
      const key = identity(json as Named);
      const seen = kept.get(key);
      if (!seen) kept.set(key, { obj, json, queue });
      else if (!isDeepStrictEqual(seen.json, json)) {
        // A per-queue object that kept a fixed name: two queues would overwrite each other's.
        throw new Error(
          `${key} differs between queue ${JSON.stringify(seen.queue)} and queue ${JSON.stringify(queue)}: an object that depends on the queue must be named with workerName(ctx).`,
        );
      }
    }
  }
  return [...kept.values()].map((k) => k.obj);
}
