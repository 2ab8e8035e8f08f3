/**
 * Trigger metadata -> what to read. KEDA passes a trigger's `metadata` to the scaler unchanged in
 * `ScaledObjectRef.scalerMetadata`, its own keys (`scalerAddress`, `enableTLS`, ...) included. Mistakes
 * are answered with a `ValidationError` naming the key, the value and the rule (gRPC INVALID_ARGUMENT), so
 * they show on the ScaledObject instead of scaling on a wrong number; an unknown key is a mistake too (a
 * typo such as `targetPerWoker` would otherwise silently mean the default). KEDA's `<key>FromEnv` form
 * (`queueFromEnv: QUEUE`) reaches the scaler with the value read from the workload's env.
 */

import { z } from 'zod';
import { QUEUE_NAME_RULE } from '../config.js';
import { ValidationError } from '../errors.js';

export type ScalerMetric = 'backlog' | 'oldestWaitingSeconds';
export const METRICS: readonly ScalerMetric[] = ['backlog', 'oldestWaitingSeconds'];

export interface TriggerSpec {
  queue: string;
  /** @default 'bull' */
  prefix: string;
  /** @default 'backlog' */
  metric: ScalerMetric;
  /** Metric value one worker (or one Job) handles. @default 1 */
  targetPerWorker: number;
}

/** Keys KEDA itself reads from an `external` / `external-push` trigger; passed through, ignored here. */
const KEDA_KEYS = new Set([
  'scalerAddress',
  'enableTLS',
  'unsafeSsl',
  'tlsCertFile',
  'caCert',
  'tlsClientCert',
  'tlsClientKey',
]);
const KQ_KEYS = ['queue', 'prefix', 'metric', 'targetPerWorker'];
const PREFIX_RE = /^[A-Za-z0-9_{}.-]{1,50}$/;
const QUEUE_REQUIRED = 'is required: the BullMQ queue name, e.g. queue: "jobs"';
const TARGET_RULE = 'must be a number above 0 and at most 1000000, e.g. "5"';

/** An empty optional key means its default, as KEDA users write `prefix: ""`. */
const orDefault = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);

/** Each key's rule, in the order they are checked; an issue's message is the rule in words. */
const TRIGGER = z.object({
  queue: z
    .string({ error: QUEUE_REQUIRED })
    .min(1, { error: QUEUE_REQUIRED })
    .regex(QUEUE_NAME_RULE.re, { error: QUEUE_NAME_RULE.rule }),
  prefix: orDefault(
    z
      .string()
      .regex(PREFIX_RE, { error: 'must be 1-50 letters, digits, "_", "-", ".", "{" or "}"' })
      .default('bull'),
  ),
  metric: orDefault(z.enum(METRICS, { error: `must be one of ${METRICS.join(', ')}` }).default('backlog')),
  targetPerWorker: orDefault(
    z
      .string()
      .trim()
      .regex(/^\d+(\.\d+)?$/, { error: TARGET_RULE })
      .transform(Number)
      .pipe(z.number().gt(0, { error: TARGET_RULE }).max(1_000_000, { error: TARGET_RULE }))
      .default(1),
  ),
});

function fail(key: string, value: string | undefined, rule: string): never {
  const shown = value === undefined ? 'missing' : JSON.stringify(value);
  throw new ValidationError('INVALID_METADATA', `trigger metadata ${key} (${shown}) ${rule}`, { key });
}

/**
 * @example parseTriggerMetadata({ queue: 'jobs', targetPerWorker: '5' }) // { queue: 'jobs', prefix: 'bull', ... }
 */
export function parseTriggerMetadata(md: Record<string, string> | null | undefined): TriggerSpec {
  const given = md ?? {};
  const m: Record<string, string> = {};
  for (const [key, value] of Object.entries(given)) {
    // `<key>FromEnv: QUEUE` arrives with the value KEDA read from the scale target's env.
    const base = key.endsWith('FromEnv') ? key.slice(0, -'FromEnv'.length) : key;
    if (KQ_KEYS.includes(base)) {
      if (base !== key && given[base]) fail(key, value, `conflicts with ${base}: give one of them`);
      m[base] = value;
    } else if (!KEDA_KEYS.has(key)) {
      fail(key, value, `is not a kq scaler key: use ${KQ_KEYS.join(', ')} (or <key>FromEnv)`);
    }
  }
  const parsed = TRIGGER.safeParse(m);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = String(issue?.path[0] ?? 'queue');
  fail(key, m[key], issue?.message ?? 'is invalid');
}

/** The metric name served for a trigger (KEDA adds its `s<index>-` prefix towards the HPA). */
export function metricName(spec: TriggerSpec): string {
  const what = spec.metric === 'backlog' ? 'backlog' : 'oldest-waiting-seconds';
  return `kq-${what}-${spec.queue}`;
}
