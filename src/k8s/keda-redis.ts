/**
 * KEDA `redis`, `redis-sentinel` or `redis-cluster` triggers on kq's queue keys. The key names come from `queueKeys` (the one module that names
 * Redis keys), so a trigger can never watch a list BullMQ does not write. KEDA reads a key by its type
 * (LIST -> LLEN, ZSET -> ZCARD), so the ZSET of prioritized jobs works with the same trigger type.
 * On a Cluster the names carry the queue's hash tag (`bull:{jobs}:wait`), as kq's own keys do there.
 *
 * Field and parameter names as KEDA's scaler reads them (pkg/scalers/redis_scaler.go, kedacore/keda at
 * 8b4f083): metadata `address` / `addresses` (comma-separated), `sentinelMaster`, `listName`,
 * `listLength`, `activationListLength`, `databaseIndex` (ignored by the Cluster client), `enableTLS`;
 * TriggerAuthentication parameters `password` and `sentinelPassword`.
 */
import type { IScaleTriggers } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaleTriggers';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { queueKeys } from '../queue/keys.js';
import {
  meta,
  REDIS_PORT,
  REDIS_SECRET,
  REDIS_SERVICE,
  type RenderContext,
  SENTINEL,
  SENTINEL_SECRET_KEY,
  sentinelAddresses,
} from './common.js';

export const TRIGGER_AUTH_NAME = 'kq-redis';

export type TriggerKey = 'wait' | 'prioritized' | 'active';

/** Backlog per worker pod the autoscalers aim at. */
export function targetBacklog(ctx: RenderContext): number {
  return ctx.o.targetBacklog || ctx.o.concurrency;
}

type TriggerType = 'redis' | 'redis-sentinel' | 'redis-cluster';

/** Connection metadata as seen from the KEDA operator, which runs in its own namespace (hence FQDNs). */
function connection({ o, external, sentinel }: RenderContext): {
  type: TriggerType;
  /** Where: placed first in the trigger's metadata. */
  metadata: Record<string, string>;
  /** Database and TLS: placed after the list fields. */
  tail: Record<string, string>;
} {
  if (!external && sentinel) {
    return {
      type: 'redis-sentinel',
      metadata: {
        addresses: sentinelAddresses(o.namespace).join(','),
        sentinelMaster: SENTINEL.master,
      },
      tail: { databaseIndex: '0' },
    };
  }
  if (!external) {
    return {
      type: 'redis',
      metadata: { address: `${REDIS_SERVICE}.${o.namespace}.svc:${REDIS_PORT}` },
      tail: { databaseIndex: '0' },
    };
  }
  const addresses = external.nodes
    .map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`)
    .join(',');
  const tls: Record<string, string> = external.tls ? { enableTLS: 'true' } : {};
  if (external.topology === 'cluster') {
    return { type: 'redis-cluster', metadata: { addresses }, tail: tls };
  }
  if (external.topology === 'sentinel') {
    return {
      type: 'redis-sentinel',
      metadata: {
        addresses,
        sentinelMaster: external.masterName ?? '',
      },
      tail: { databaseIndex: String(external.db), ...tls },
    };
  }
  return {
    type: 'redis',
    metadata: { address: addresses },
    tail: { databaseIndex: String(external.db), ...tls },
  };
}

export function redisTriggers(ctx: RenderContext, keys: TriggerKey[], listLength: number): IScaleTriggers[] {
  const cluster = ctx.external?.topology === 'cluster';
  const names = queueKeys(ctx.o.prefix, ctx.o.queue, cluster);
  const { type, metadata, tail } = connection(ctx);
  const withAuth = authParameters(ctx).length > 0;
  return keys.map((key) => ({
    type,
    name: key,
    metadata: {
      ...metadata,
      listName: names[key],
      listLength: String(listLength),
      activationListLength: '0',
      ...tail,
    },
    ...(withAuth ? { authenticationRef: { name: TRIGGER_AUTH_NAME } } : {}),
  }));
}

/** `secretTargetRef` entries: the data nodes' password and, where the Sentinels have one, theirs. */
function authParameters(ctx: RenderContext) {
  const { o, external, sentinel } = ctx;
  const ref = (parameter: string, key: string) => ({ parameter, name: REDIS_SECRET.name, key });
  if (!external) {
    return [
      ref('password', REDIS_SECRET.key),
      ...(sentinel ? [ref('sentinelPassword', REDIS_SECRET.key)] : []),
    ];
  }
  return [
    ...(o.redisPassword ? [ref('password', REDIS_SECRET.key)] : []),
    ...(o.redisSentinelPassword ? [ref('sentinelPassword', SENTINEL_SECRET_KEY)] : []),
  ];
}

/** The Redis passwords for KEDA, read from the same Secret the pods use; none for a Redis without auth. */
export function triggerAuthentication(ctx: RenderContext): TriggerAuthentication[] {
  const secretTargetRef = authParameters(ctx);
  if (secretTargetRef.length === 0) return [];
  return [
    new TriggerAuthentication({
      metadata: {
        name: TRIGGER_AUTH_NAME,
        namespace: ctx.o.namespace,
        labels: meta(ctx, TRIGGER_AUTH_NAME, 'worker').labels,
      },
      spec: { secretTargetRef },
    }),
  ];
}
