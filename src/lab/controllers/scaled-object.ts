/**
 * Approach `keda-scaledobject`: KEDA's operator polls the triggers every `pollingInterval`, scales the
 * Deployment 0 -> 1 when the metric exceeds its activation value and back to `minReplicaCount` (0)
 * once it has been inactive for `cooldownPeriod`; between 1 and `maxReplicaCount` the HPA KEDA creates
 * (minReplicas max(1, minReplicaCount), the ScaledObject's `advanced.horizontalPodAutoscalerConfig.
 * behavior`) scales on the same metric, read live from KEDA's metrics server every 15 s.
 */
import { WORKER_NAME } from '../../k8s/common.js';
import { type Controller, type ControllerDeps, every } from './controller.js';
import { createHpa, HPA_SYNC_MS } from './hpa.js';
import { sumFormula } from './keda-formulas.js';
import { findObject, podSpecOf, quantity, type RenderedObject } from './objects.js';
import { createReplicaSet, rolloutStrategy } from './replica-set.js';

export interface TriggerRead {
  name: string;
  key: string;
  target: number;
  activation: number;
}

/** The redis triggers of a ScaledObject or ScaledJob, with KEDA's defaults (listLength 5, activation 0). */
export function redisTriggerReads(
  triggers: readonly { type: string; name?: string; metadata?: Record<string, string> }[],
): TriggerRead[] {
  return triggers.map((t, i) => {
    if (t.type !== 'redis' || !t.metadata?.listName) {
      throw new Error(`kq lab plays redis list triggers only; trigger ${i} is ${JSON.stringify(t.type)}`);
    }
    return {
      name: t.name ?? `s${i}`,
      key: t.metadata.listName,
      target: Number(t.metadata.listLength ?? 5),
      activation: Number(t.metadata.activationListLength ?? 0),
    };
  });
}

/** What a ScaledObject scales on, as KEDA computes it from its triggers. */
export interface ScaledObjectMetric {
  /** The HPA's AverageValue target per replica. */
  target: number;
  /** The metric total the HPA sees and whether KEDA counts the ScaledObject active. */
  read(): Promise<{ total: number; active: boolean }>;
  /**
   * Workload ms from a job's arrival to KEDA activating a ScaledObject at zero, for pushed triggers
   * (`external-push`); undefined: activation waits for the next `pollingInterval` poll.
   */
  pushMs?: number;
  /** For the report's note. */
  describe: string;
}

export function scaledObjectController(objects: readonly RenderedObject[], deps: ControllerDeps): Controller {
  const spec = findObject(objects, 'ScaledObject').spec;
  const modifiers = spec.advanced?.scalingModifiers;
  const triggers = redisTriggerReads(spec.triggers);
  const target = modifiers?.formula
    ? quantity(modifiers.target, 'scalingModifiers.target')
    : (triggers[0]?.target ?? 5);

  /** The metric and whether it is active, as KEDA computes them. */
  async function read(): Promise<{ total: number; active: boolean }> {
    const values: Record<string, number> = {};
    for (const t of triggers) values[t.name] = await deps.source.keyLength(t.key);
    if (modifiers?.formula) {
      const total = sumFormula(modifiers.formula, values);
      return { total, active: total > quantity(modifiers.activationTarget ?? '0', 'activationTarget') };
    }
    // Several plain triggers: the HPA takes the largest replica count, i.e. the largest value/target.
    const best = triggers.reduce((a, t) => Math.max(a, ((values[t.name] ?? 0) / t.target) * target), 0);
    return { total: best, active: triggers.some((t) => (values[t.name] ?? 0) > t.activation) };
  }
  return playScaledObject(objects, deps, {
    target,
    read,
    describe: modifiers?.formula
      ? `formula ${JSON.stringify(modifiers.formula)} target ${modifiers.target}`
      : `${triggers.length} trigger(s), max of them`,
  });
}

/** Cooldown, one more poll and the pods' grace: the scale-in to zero shows. */
export function scaledObjectTailMs(objects: readonly RenderedObject[]): number {
  const spec = findObject(objects, 'ScaledObject').spec;
  const podSpec = podSpecOf(findObject(objects, 'Deployment').spec?.template, 'Deployment');
  return (
    ((spec.cooldownPeriod ?? 300) +
      (spec.pollingInterval ?? 30) +
      (podSpec.terminationGracePeriodSeconds ?? 30)) *
    1000
  );
}

/** The ScaledObject's operator loop and its HPA on `metric`, every number from the rendered objects. */
export function playScaledObject(
  objects: readonly RenderedObject[],
  deps: ControllerDeps,
  metric: ScaledObjectMetric,
): Controller {
  const d = findObject(objects, 'Deployment');
  const spec = findObject(objects, 'ScaledObject').spec;
  const min = spec.minReplicaCount ?? 0;
  const max = spec.maxReplicaCount ?? 100;
  const pollingMs = (spec.pollingInterval ?? 30) * 1000;
  const cooldownMs = (spec.cooldownPeriod ?? 300) * 1000;
  const podSpec = podSpecOf(d.spec?.template, 'Deployment');
  const rs = createReplicaSet(deps.runner, podSpec, WORKER_NAME, d.spec?.replicas ?? 1);
  const hpa = createHpa(rs, {
    minReplicas: Math.max(1, min),
    maxReplicas: max,
    target: metric.target,
    behavior: spec.advanced?.horizontalPodAutoscalerConfig?.behavior,
  });
  const read = metric.read;
  const pushed = metric.pushMs === undefined ? undefined : every(metric.pushMs);

  const poll = every(pollingMs);
  const sync = every(HPA_SYNC_MS);
  let lastActive = Number.NEGATIVE_INFINITY;
  let scaledToZero = 0;
  let lastZeroAt: number | undefined;
  return {
    tailMs: scaledObjectTailMs(objects),
    notes: [
      `KEDA ScaledObject: pollingInterval ${pollingMs / 1000} s${metric.pushMs === undefined ? '' : ` (activation pushed, ${metric.pushMs / 1000} s)`}, cooldownPeriod ${cooldownMs / 1000} s, replicas ${min}-${max}, ${metric.describe}; its HPA syncs every ${HPA_SYNC_MS / 1000} s with the ScaledObject's behavior (stabilization windows ${hpa.windows})`,
    ],
    atRest() {
      // At rest with an empty queue KEDA has long scaled the Deployment to minReplicaCount.
      rs.replicas = min;
      rs.reconcile();
    },
    rollout: () => rs.rollout(rolloutStrategy(d, rs.replicas)),
    busy: () => rs.rollingOut,
    async tick(now) {
      // A pushed trigger wakes KEDA at zero as soon as the scaler sees a runnable job.
      const pushAt = rs.replicas === 0 ? pushed?.(now) : undefined;
      if (pushAt !== undefined && (await read()).active) {
        lastActive = pushAt;
        rs.replicas = Math.max(1, min);
        hpa.decisions.push([pushAt, rs.replicas]);
      }
      const pollAt = poll(now);
      if (pollAt !== undefined) {
        const { active } = await read();
        if (active) lastActive = pollAt;
        if (active && rs.replicas === 0) {
          rs.replicas = Math.max(1, min);
          hpa.decisions.push([pollAt, rs.replicas]);
        } else if (!active && rs.replicas > 0 && min === 0 && pollAt - lastActive >= cooldownMs) {
          rs.replicas = 0;
          scaledToZero++;
          lastZeroAt = pollAt;
          hpa.decisions.push([pollAt, 0]);
        }
      }
      const syncAt = sync(now);
      if (syncAt !== undefined && rs.replicas > 0) hpa.sync(syncAt, (await read()).total);
      rs.reconcile();
    },
    stats: () => ({
      rolledOut: rs.rolledOut,
      replicas: rs.replicas,
      scaledToZero,
      lastScaledToZeroAtS: lastZeroAt === undefined ? -1 : lastZeroAt / 1000,
      maxReplicasSeen: Math.max(0, ...hpa.decisions.map(([, r]) => r)),
    }),
  };
}
