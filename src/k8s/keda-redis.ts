/**
 * KEDA `redis` triggers on kq's queue keys. The key names come from `queueKeys` (the one module that names
 * Redis keys), so a trigger can never watch a list BullMQ does not write. KEDA reads a key by its type
 * (LIST -> LLEN, ZSET -> ZCARD), so the ZSET of prioritized jobs works with the same trigger type.
 */
import type { IScaleTriggers } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaleTriggers';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { queueKeys } from '../queue/keys.js';
import { meta, REDIS_PORT, REDIS_SECRET, REDIS_SERVICE, type RenderContext } from './common.js';

export const TRIGGER_AUTH_NAME = 'kq-redis';

export type TriggerKey = 'wait' | 'prioritized' | 'active';

/** Backlog per worker pod the autoscalers aim at. */
export function targetBacklog(ctx: RenderContext): number {
  return ctx.o.targetBacklog || ctx.o.concurrency;
}

/** `host:port` as seen from the KEDA operator, which runs in its own namespace (hence the FQDN). */
function redisAddress({ o, external }: RenderContext): string {
  return external ? `${external.host}:${external.port}` : `${REDIS_SERVICE}.${o.namespace}.svc:${REDIS_PORT}`;
}

export function redisTriggers(ctx: RenderContext, keys: TriggerKey[], listLength: number): IScaleTriggers[] {
  const names = queueKeys(ctx.o.prefix, ctx.o.queue);
  const withPassword = !ctx.external || ctx.o.redisPassword;
  return keys.map((key) => ({
    type: 'redis',
    name: key,
    metadata: {
      address: redisAddress(ctx),
      listName: names[key],
      listLength: String(listLength),
      activationListLength: '0',
      databaseIndex: String(ctx.external?.db ?? 0),
      ...(ctx.external?.tls ? { enableTLS: 'true' } : {}),
    },
    ...(withPassword ? { authenticationRef: { name: TRIGGER_AUTH_NAME } } : {}),
  }));
}

/** The Redis password for KEDA, read from the same Secret the pods use; none for a Redis without auth. */
export function triggerAuthentication(ctx: RenderContext): TriggerAuthentication[] {
  if (ctx.external && !ctx.o.redisPassword) return [];
  return [
    new TriggerAuthentication({
      metadata: {
        name: TRIGGER_AUTH_NAME,
        namespace: ctx.o.namespace,
        labels: meta(ctx, TRIGGER_AUTH_NAME, 'worker').labels,
      },
      spec: {
        secretTargetRef: [{ parameter: 'password', name: REDIS_SECRET.name, key: REDIS_SECRET.key }],
      },
    }),
  ];
}
