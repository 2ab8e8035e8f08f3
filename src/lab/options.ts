/**
 * `kq lab` options. Flags only, like `kq manifests` (a lab run must not depend on the shell's env);
 * the manifest flags it takes (`--replicas`, `--max-replicas`, ...) are the very specs of `kq manifests`,
 * so the lab renders the objects a user would deploy with the same flags.
 */
import {
  boolOption,
  enumOption,
  intOption,
  type OptionSpec,
  type OptionValues,
  stringOption,
} from '../config.js';
import { manifestOptionSpecs } from '../k8s/options.js';

function numberOption(flag: string, def: number, min: number, max: number, doc: string): OptionSpec<number> {
  return {
    flag,
    env: [],
    default: def,
    doc,
    rule: `must be a number from ${min} to ${max}`,
    parse(raw) {
      if (!/^\d+(\.\d+)?$/.test(raw.trim())) return undefined;
      const n = Number(raw);
      return n >= min && n <= max ? n : undefined;
    },
  };
}

export const LAB_ENGINES = ['real', 'model'] as const;

export const labOptionSpecs = {
  engine: enumOption(
    'engine',
    [],
    'model',
    LAB_ENGINES,
    'model: a deterministic simulation of the controllers the manifests render (no processes, seconds for hours of workload); real: kq worker processes on a Redis, compressed in time (--speed), to check the model on this machine',
  ),
  workload: stringOption(
    'workload',
    [],
    'smoke',
    'a preset (smoke, steady, burst, daily-spikes, long-jobs, retries) or a workload JSON file',
  ),
  speed: numberOption(
    'speed',
    0,
    0,
    10_000,
    'workload seconds per wall second; 0 = the preset’s suggested speed',
  ),
  killRate: numberOption('kill-rate', 0, 0, 1000, 'SIGKILLs of running worker pods per workload minute'),
  drainEverySeconds: intOption(
    'drain-every',
    [],
    0,
    0,
    86_400,
    'a node-drain SIGTERM wave every N workload seconds; 0 = none',
  ),
  drainPods: intOption('drain-pods', [], 1, 1, 1000, 'pods terminated per SIGTERM wave'),
  redisRestartAt: intOption(
    'redis-restart-at',
    [],
    -1,
    -1,
    86_400,
    'restart the lab’s Redis at this workload second; -1 = never',
  ),
  rolloutAt: intOption(
    'rollout-at',
    [],
    -1,
    -1,
    86_400,
    'rolling restart of the worker Deployment at this workload second (its maxSurge/maxUnavailable); -1 = never',
  ),
  podStartSeconds: numberOption(
    'pod-start-seconds',
    2,
    0,
    600,
    'pod scheduling + image pull before the worker process starts (workload s)',
  ),
  nodeStartSeconds: numberOption(
    'node-start-seconds',
    0.23,
    0,
    600,
    'the Node part of a pod start, process spawn to first job (measured: 230 ms, docs/performance.md)',
  ),
  scrapeIntervalSeconds: numberOption(
    'scrape-interval-seconds',
    30,
    0,
    3600,
    'hpa-prometheus: Prometheus scrape interval',
  ),
  adapterCacheSeconds: numberOption(
    'adapter-cache-seconds',
    1,
    0,
    3600,
    'hpa-adapter: how long kq metrics-adapter serves a cached backlog',
  ),
  maxDrainSeconds: intOption(
    'max-drain-seconds',
    [],
    900,
    0,
    86_400,
    'workload seconds to wait for unfinished jobs after the run’s horizon',
  ),
  seed: intOption('seed', [], 1, 0, 2 ** 31 - 1, 'seed of fault times'),
  report: stringOption('report', [], '', 'write report.json and report.html into this folder'),
  redisUrl: stringOption(
    'redis-url',
    [],
    '',
    'Redis to use; empty = a private redis-server (needed for --redis-restart-at)',
  ),
  slo: stringOption(
    'slo',
    [],
    'wait-p95=60s',
    'tune: the objective, <figure>=<duration> with figure wait-p50, wait-p95, wait-p99 or e2e-p95',
  ),
  budget: numberOption(
    'budget',
    0,
    0,
    1000,
    'tune: most pod-seconds per job-second a setting may cost; 0 = none',
  ),
  verify: boolOption(
    'verify',
    [],
    false,
    'tune: replay the recommended setting on the real engine, model beside real',
  ),
  queue: stringOption('queue', [], '', 'record: the queue whose finished jobs become the workload'),
  prefix: stringOption('prefix', [], 'bull', 'record: the BullMQ key prefix of --queue'),
  since: stringOption('since', [], '24h', 'record: how far back to read finished jobs (90m, 24h, 7d)'),
  out: stringOption('out', [], '', 'record: write the workload file here; empty = stdout'),
  replicas: manifestOptionSpecs.replicas,
  parallelism: manifestOptionSpecs.parallelism,
  minReplicas: manifestOptionSpecs.minReplicas,
  maxReplicas: manifestOptionSpecs.maxReplicas,
  concurrency: manifestOptionSpecs.concurrency,
  targetBacklog: manifestOptionSpecs.targetBacklog,
  pollingIntervalSeconds: manifestOptionSpecs.pollingIntervalSeconds,
  cooldownPeriodSeconds: manifestOptionSpecs.cooldownPeriodSeconds,
  scaleUpWindowSeconds: manifestOptionSpecs.scaleUpWindowSeconds,
  scaleDownWindowSeconds: manifestOptionSpecs.scaleDownWindowSeconds,
  schedule: manifestOptionSpecs.schedule,
  shutdownTimeoutMs: manifestOptionSpecs.shutdownTimeoutMs,
  jobDeadlineSeconds: manifestOptionSpecs.jobDeadlineSeconds,
  podDeletionCost: manifestOptionSpecs.podDeletionCost,
};

export type LabOptions = OptionValues<typeof labOptionSpecs>;
