/**
 * The rendered objects the controllers read, found by kind in what `renderObjects` returns for an
 * approach: the lab reads every field it plays from these, so the lab and `kq manifests` cannot drift.
 */
import type { IScaledJob } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { WORKER_NAME } from '../../k8s/common.js';

interface Kinds {
  Deployment: IDeployment;
  CronJob: ICronJob;
  ScaledObject: IScaledObject;
  ScaledJob: IScaledJob;
  HorizontalPodAutoscaler: IHorizontalPodAutoscaler;
  ConfigMap: IConfigMap;
}

export type RenderedObject = { kind?: string; metadata?: { name?: string } };

/** The object of `kind` named `name` (the worker's by default); a clear error when the approach has none. */
export function findObject<K extends keyof Kinds>(
  objects: readonly RenderedObject[],
  kind: K,
  name: string = WORKER_NAME,
): Kinds[K] {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`kq lab: the rendered approach has no ${kind} named ${name}`);
  return found as unknown as Kinds[K];
}

export function podSpecOf(template: { spec?: IPodSpec } | undefined, where: string): IPodSpec {
  if (!template?.spec) throw new Error(`kq lab: ${where} has no pod template spec`);
  return template.spec;
}

/** A Kubernetes quantity as a number ("500m" -> 0.5, "2" -> 2, "1k" -> 1000). */
export function quantity(q: string | number | undefined, where: string): number {
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G)?$/.exec(q ?? '');
  if (!m) throw new Error(`kq lab: ${where} ${JSON.stringify(q)} is not a quantity the lab reads`);
  const scale = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9 }[m[2] as 'm' | 'k' | 'M' | 'G'] ?? 1;
  return Number(m[1]) * scale;
}
