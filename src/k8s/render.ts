/**
 * Renders one approach: its own objects plus the shared parts (Namespace, the in-cluster Redis or
 * Sentinel set unless `--redis-url`, the API). Output is multi-document YAML; `kustomize.ts` writes it as a kustomize folder.
 */
import type { Model } from '@kubernetes-models/base';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { stringify } from 'yaml';
import { apiObjects } from './api.js';
import { cronjobApproach } from './approaches/cronjob.js';
import { deploymentApproach } from './approaches/deployment.js';
import { hpaAdapterApproach } from './approaches/hpa-adapter.js';
import {
  ADAPTER_VALUES_FILE,
  hpaPrometheusApproach,
  prometheusAdapterValuesYaml,
} from './approaches/hpa-prometheus.js';
import { kedaExternalApproach } from './approaches/keda-external.js';
import { kedaExternalJobApproach } from './approaches/keda-external-job.js';
import { kedaScaledJobApproach } from './approaches/keda-scaledjob.js';
import { kedaScaledObjectApproach } from './approaches/keda-scaledobject.js';
import type { RenderContext } from './common.js';
import { checkManifestOptions, type ManifestOptions } from './options.js';
import { perQueue } from './per-queue.js';
import { redisObjects } from './redis.js';
import { redisSentinelObjects } from './redis-sentinel.js';

interface Approach {
  summary: string;
  build: (ctx: RenderContext) => Model<unknown>[];
  /** The KEDA operator reads Redis itself, so the NetworkPolicy must let it in. */
  keda?: boolean;
  /** Files besides kq.yaml that `--out-dir` writes into the approach's folder (name -> text). */
  files?: () => Record<string, string>;
}

export const approaches = {
  deployment: { summary: 'fixed worker Deployment', build: deploymentApproach },
  cronjob: { summary: 'CronJob every minute (--schedule), workers exit when empty', build: cronjobApproach },
  'keda-scaledobject': {
    summary: 'KEDA scales the worker Deployment on the backlog, to zero',
    build: kedaScaledObjectApproach,
    keda: true,
  },
  'keda-scaledjob': {
    summary: 'KEDA starts one Job per waiting job',
    build: kedaScaledJobApproach,
    keda: true,
  },
  'hpa-prometheus': {
    summary: 'HPA on kq_queue_backlog via Prometheus + prometheus-adapter',
    build: hpaPrometheusApproach,
    files: () => ({ [ADAPTER_VALUES_FILE]: prometheusAdapterValuesYaml() }),
  },
  'hpa-adapter': { summary: 'HPA on kq_queue_backlog via `kq metrics-adapter`', build: hpaAdapterApproach },
  'keda-external': {
    summary: 'KEDA scales the Deployment via `kq keda-scaler` (runnable backlog, pushed activation)',
    build: kedaExternalApproach,
  },
  'keda-external-job': {
    summary: 'KEDA starts one Job per job via `kq keda-scaler` (counts retries and orphans)',
    build: kedaExternalJobApproach,
  },
} satisfies Record<string, Approach>;

export type ApproachName = keyof typeof approaches;
export const APPROACH_NAMES = Object.keys(approaches) as ApproachName[];

/** The approach's extra files (see `Approach.files`). */
export function approachFiles(name: ApproachName): Record<string, string> {
  const approach: Approach = approaches[name];
  return approach.files?.() ?? {};
}

export function isApproachName(name: string): name is ApproachName {
  return Object.hasOwn(approaches, name);
}

/**
 * Every object of an approach, in apply order.
 * @example renderObjects('keda-scaledobject', values).map((o) => o.toJSON())
 */
export function renderObjects(name: ApproachName, o: ManifestOptions): Model<unknown>[] {
  const approach: Approach = approaches[name];
  const plan = checkManifestOptions(o);
  const ctx: RenderContext = { o, external: plan.external, sentinel: plan.sentinel };
  const allowKeda = approach.keda === true;
  return [
    new Namespace({ metadata: { name: o.namespace, labels: { 'app.kubernetes.io/part-of': 'kq' } } }),
    ...(ctx.external
      ? []
      : ctx.sentinel
        ? redisSentinelObjects(ctx, { allowKeda })
        : redisObjects(ctx, { allowKeda })),
    ...apiObjects(ctx),
    ...perQueue(ctx, approach.build),
  ];
}

/** Multi-document YAML; every object is validated against its schema first. */
export function renderYaml(name: ApproachName, o: ManifestOptions, flags: string[] = []): string {
  const objects = renderObjects(name, o);
  for (const obj of objects) obj.validate();
  const command = [name, ...flags].join(' ');
  // The file may live in the user's own repository: only `kq manifests` renders it again there
  // (`npm run manifests` exists in kq's repository only). Without `flags` the options given are unknown.
  const again = flags.length
    ? `\`kq manifests ${command}\``
    : `\`kq manifests ${name}\` and the options you gave`;
  const header = `# Rendered by: kq manifests ${command}. Do not edit; render again with ${again}.\n`;
  return header + objects.map((obj) => stringify(obj.toJSON(), { lineWidth: 0 })).join('---\n');
}
