/**
 * The HPA controller on one External AverageValue metric, every 15 s (sync period): raw replicas with
 * the 0.1 tolerance, stabilization windows, behavior policies, min/max. It does nothing while the target
 * has 0 replicas (Kubernetes disables an HPA there; KEDA does 0 <-> 1 itself).
 */
import type { IHorizontalPodAutoscalerBehavior } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerBehavior';
import {
  externalAverageValueReplicas,
  HPA_SYNC_MS,
  limitByPolicies,
  type Recommendation,
  type ScaleEvent,
  stabilize,
  withDefaults,
} from './hpa-formulas.js';
import type { ReplicaSet } from './replica-set.js';

export interface HpaSpec {
  minReplicas: number;
  maxReplicas: number;
  target: number;
  behavior?: IHorizontalPodAutoscalerBehavior;
}

export interface Hpa {
  sync(now: number, metricTotal: number): void;
  /** Its stabilization windows, for the report's note: `scale-up 0 s, scale-down 600 s`. */
  windows: string;
  /** Replica changes it made: `[at, replicas]`. */
  decisions: [number, number][];
}

/** @example const hpa = createHpa(rs, { minReplicas: 1, maxReplicas: 10, target: 1 }); hpa.sync(now, backlog); */
export function createHpa(rs: ReplicaSet, spec: HpaSpec): Hpa {
  const { up, down } = withDefaults(spec.behavior);
  const history: Recommendation[] = [];
  const upEvents: ScaleEvent[] = [];
  const downEvents: ScaleEvent[] = [];
  const keepMs = Math.max(up.stabilizationWindowSeconds, down.stabilizationWindowSeconds, 600) * 1000;
  const hpa: Hpa = {
    decisions: [],
    windows: `scale-up ${up.stabilizationWindowSeconds} s, scale-down ${down.stabilizationWindowSeconds} s`,
    sync(now, total) {
      const current = rs.replicas;
      if (current === 0) return;
      const raw = externalAverageValueReplicas({ current, total, target: spec.target });
      const stabilized = stabilize({
        now,
        current,
        desired: raw,
        history,
        upWindowS: up.stabilizationWindowSeconds,
        downWindowS: down.stabilizationWindowSeconds,
      });
      history.push({ at: now, replicas: raw });
      while (history.length && (history[0] as Recommendation).at < now - keepMs) history.shift();
      const desired = limitByPolicies({
        now,
        current,
        desired: stabilized,
        min: spec.minReplicas,
        max: spec.maxReplicas,
        up,
        down,
        upEvents,
        downEvents,
      });
      if (desired > current) upEvents.push({ at: now, change: desired - current });
      if (desired < current) downEvents.push({ at: now, change: current - desired });
      if (desired !== current) {
        rs.replicas = desired;
        hpa.decisions.push([now, desired]);
      }
    },
  };
  return hpa;
}

export { HPA_SYNC_MS };
