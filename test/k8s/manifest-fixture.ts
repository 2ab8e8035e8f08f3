/** Helpers for the manifest tests: render through the real option parser, and walk pod specs. */
import { resolve } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { parseOptions } from '../../src/config.js';
import { applyHandlers } from '../../src/k8s/handlers.js';
import { type ManifestOptions, manifestOptionSpecs } from '../../src/k8s/options.js';
import { type ApproachName, renderObjects } from '../../src/k8s/render.js';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

export function manifestOptions(flags: string[] = []) {
  return parseOptions(manifestOptionSpecs, flags, {}).values;
}

/** A handlers module whose job types run on two queues: billing (invoice, refund) and emails (welcome). */
export const TWO_QUEUE_HANDLERS = resolve(import.meta.dirname, '../fixtures/two-queue-handlers.mjs');
export const TWO_QUEUES = ['billing', 'emails'];

/** Options as `kq manifests` has them after reading `--handlers` (its queues). */
export async function handlersOptions(flags: string[] = []): Promise<ManifestOptions> {
  const o: ManifestOptions = manifestOptions(flags);
  await applyHandlers(o);
  return o;
}

/** Plain JSON objects of an approach, as `kq manifests <name> <flags>` would print them. */
export function render(name: ApproachName, flags: string[] = []): K8sObject[] {
  return renderObjects(name, manifestOptions(flags)).map((m) => m.toJSON() as K8sObject);
}

/** The pod spec of a workload object, whatever controller wraps it. */
export function podSpecOf(obj: K8sObject): IPodSpec | undefined {
  // biome-ignore lint/suspicious/noExplicitAny: walking untyped JSON of several kinds
  const spec = obj.spec as Record<string, any> | undefined;
  switch (obj.kind) {
    case 'Deployment':
    case 'StatefulSet':
      return spec?.template?.spec;
    case 'CronJob':
      return spec?.jobTemplate?.spec?.template?.spec;
    case 'ScaledJob':
      return spec?.jobTargetRef?.template?.spec;
    default:
      return undefined;
  }
}

export interface FoundContainer {
  obj: K8sObject;
  pod: IPodSpec;
  container: IContainer;
}

export function containersOf(objects: K8sObject[]): FoundContainer[] {
  return objects.flatMap((obj) => {
    const pod = podSpecOf(obj);
    return pod ? pod.containers.map((container) => ({ obj, pod, container })) : [];
  });
}

/** The first container of a workload object. */
export function firstContainer(obj: K8sObject | undefined): IContainer {
  const container = obj ? podSpecOf(obj)?.containers[0] : undefined;
  if (!container) throw new Error(`no container in ${obj?.kind}/${obj?.metadata.name}`);
  return container;
}

/** Containers running the kq image (everything but Redis and its Sentinels). */
export const kqContainers = (objects: K8sObject[]) =>
  containersOf(objects).filter((c) => c.container.name !== 'redis' && c.container.name !== 'sentinel');

/** `redis` trigger metadata of a ScaledObject / ScaledJob, by trigger name. */
export function redisTriggers(objects: K8sObject[], kind: 'ScaledObject' | 'ScaledJob') {
  const obj = objects.find((o) => o.kind === kind);
  if (!obj) throw new Error(`no ${kind} rendered`);
  const triggers = (
    obj.spec as { triggers: { type: string; name: string; metadata: Record<string, string> }[] }
  ).triggers;
  return new Map(triggers.filter((t) => t.type === 'redis').map((t) => [t.name, t.metadata]));
}
