/**
 * Trigger metadata -> what to read. KEDA passes a trigger's `metadata` to the scaler unchanged in
 * `ScaledObjectRef.scalerMetadata`, its own keys (`scalerAddress`, `enableTLS`, ...) included. Mistakes
 * are answered with a `ValidationError` naming the key, the value and the rule (gRPC INVALID_ARGUMENT), so
 * they show on the ScaledObject instead of scaling on a wrong number; an unknown key is a mistake too (a
 * typo such as `targetPerWoker` would otherwise silently mean the default). KEDA's `<key>FromEnv` form
 * (`queueFromEnv: QUEUE`) reaches the scaler with the value read from the workload's env.
 */
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
  const queue = m.queue;
  if (!queue) fail('queue', queue, 'is required: the BullMQ queue name, e.g. queue: "jobs"');
  if (!QUEUE_NAME_RULE.re.test(queue)) fail('queue', queue, QUEUE_NAME_RULE.rule);
  const prefix = m.prefix || 'bull';
  if (!PREFIX_RE.test(prefix))
    fail('prefix', prefix, 'must be 1-50 letters, digits, "_", "-", ".", "{" or "}"');
  const metric = (m.metric || 'backlog') as ScalerMetric;
  if (!METRICS.includes(metric)) fail('metric', m.metric, `must be one of ${METRICS.join(', ')}`);
  let targetPerWorker = 1;
  if (m.targetPerWorker !== undefined && m.targetPerWorker !== '') {
    const raw = m.targetPerWorker.trim();
    targetPerWorker = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(targetPerWorker > 0 && targetPerWorker <= 1_000_000)) {
      fail('targetPerWorker', m.targetPerWorker, 'must be a number above 0 and at most 1000000, e.g. "5"');
    }
  }
  return { queue, prefix, metric, targetPerWorker };
}

/** The metric name served for a trigger (KEDA adds its `s<index>-` prefix towards the HPA). */
export function metricName(spec: TriggerSpec): string {
  const what = spec.metric === 'backlog' ? 'backlog' : 'oldest-waiting-seconds';
  return `kq-${what}-${spec.queue}`;
}
