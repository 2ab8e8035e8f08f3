/**
 * The HPA controller's arithmetic (Kubernetes `pkg/controller/podautoscaler`), as pure functions over
 * workload time in milliseconds: the replica count for an External AverageValue metric with its
 * tolerance, the stabilization windows, and the behavior policies that limit each step.
 */

import type { IHorizontalPodAutoscalerBehavior } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerBehavior';
import type { IHPAScalingRules } from 'kubernetes-models/autoscaling/v2/HPAScalingRules';

/** `--horizontal-pod-autoscaler-tolerance`. */
export const HPA_TOLERANCE = 0.1;
/** `--horizontal-pod-autoscaler-sync-period`. */
export const HPA_SYNC_MS = 15_000;

/** Kubernetes' defaults for a behavior field left unset. */
export const DEFAULT_SCALE_UP: Rules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
export const DEFAULT_SCALE_DOWN: Rules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

export interface Rules {
  stabilizationWindowSeconds: number;
  selectPolicy: string;
  policies: { type: string; value: number; periodSeconds: number }[];
}

/** The behavior with Kubernetes' defaults filled in, field by field. */
export function withDefaults(b: IHorizontalPodAutoscalerBehavior | undefined): { up: Rules; down: Rules } {
  const fill = (r: IHPAScalingRules | undefined, d: Rules): Rules => ({
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: r?.selectPolicy ?? d.selectPolicy,
    policies: (r?.policies ?? d.policies).map((p) => ({ ...p })),
  });
  return { up: fill(b?.scaleUp, DEFAULT_SCALE_UP), down: fill(b?.scaleDown, DEFAULT_SCALE_DOWN) };
}

/**
 * Replicas for an External metric with an AverageValue target: ceil(total / target), unless the usage
 * ratio is within the tolerance of 1, then the current count.
 * @example externalAverageValueReplicas({ current: 2, total: 21, target: 10 }) // 2 (ratio 1.05)
 */
export function externalAverageValueReplicas(o: {
  current: number;
  total: number;
  target: number;
  tolerance?: number;
}): number {
  const tolerance = o.tolerance ?? HPA_TOLERANCE;
  const replicas = Math.ceil(o.total / o.target);
  if (o.current > 0 && Math.abs(o.total / (o.target * o.current) - 1) <= tolerance) return o.current;
  return replicas;
}

export interface Recommendation {
  at: number;
  replicas: number;
}

/**
 * Stabilization: scaling up takes the lowest recommendation within the scale-up window, scaling down
 * the highest within the scale-down window (the current raw one included); otherwise the current count.
 */
export function stabilize(o: {
  now: number;
  current: number;
  desired: number;
  history: readonly Recommendation[];
  upWindowS: number;
  downWindowS: number;
}): number {
  let up = o.desired;
  let down = o.desired;
  for (const r of o.history) {
    if (r.at > o.now - o.upWindowS * 1000) up = Math.min(up, r.replicas);
    if (r.at > o.now - o.downWindowS * 1000) down = Math.max(down, r.replicas);
  }
  let result = o.current;
  if (result < up) result = up;
  if (result > down) result = down;
  return result;
}

export interface ScaleEvent {
  at: number;
  /** Pods added (scale-up events) or removed (scale-down events). */
  change: number;
}

const changeInPeriod = (events: readonly ScaleEvent[], now: number, periodS: number) =>
  events.filter((e) => e.at > now - periodS * 1000).reduce((sum, e) => sum + e.change, 0);

/** The most replicas the scale-up policies allow now. */
export function scaleUpLimit(
  current: number,
  upEvents: readonly ScaleEvent[],
  downEvents: readonly ScaleEvent[],
  rules: Rules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start =
      current -
      changeInPeriod(upEvents, now, p.periodSeconds) +
      changeInPeriod(downEvents, now, p.periodSeconds);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now. */
export function scaleDownLimit(
  current: number,
  upEvents: readonly ScaleEvent[],
  downEvents: readonly ScaleEvent[],
  rules: Rules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // For scaling down, the smallest change ('Min') is the highest replica count.
  const pickMax = rules.selectPolicy === 'Min';
  let result = pickMax ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start =
      current +
      changeInPeriod(downEvents, now, p.periodSeconds) -
      changeInPeriod(upEvents, now, p.periodSeconds);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pickMax ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** The desired count after the policies and min/max (Kubernetes' `convertDesiredReplicasWithBehaviorRate`). */
export function limitByPolicies(o: {
  now: number;
  current: number;
  desired: number;
  min: number;
  max: number;
  up: Rules;
  down: Rules;
  upEvents: readonly ScaleEvent[];
  downEvents: readonly ScaleEvent[];
}): number {
  if (o.desired > o.current) {
    const limit = Math.max(o.current, scaleUpLimit(o.current, o.upEvents, o.downEvents, o.up, o.now));
    return Math.min(o.desired, limit, o.max);
  }
  if (o.desired < o.current) {
    const limit = Math.min(o.current, scaleDownLimit(o.current, o.upEvents, o.downEvents, o.down, o.now));
    return Math.max(o.desired, limit, o.min);
  }
  return Math.min(Math.max(o.desired, o.min), o.max);
}
