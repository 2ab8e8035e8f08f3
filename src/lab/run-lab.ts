/**
 * `kq lab compare`: one workload, one Redis, the approaches one after the other (so they do not compete
 * for CPU), each on its own queue, the same jobs and the same fault times for all.
 */
import { parseOptions } from '../config.js';
import { spawnRedisServer } from '../dev/redis-process.js';
import { ConfigError } from '../errors.js';
import type { ManifestOptions } from '../k8s/options.js';
import { manifestOptionSpecs } from '../k8s/options.js';
import type { ApproachName } from '../k8s/render.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { onInterrupt } from './interrupt.js';
import { type ModelSettings, runModelApproach } from './model/run-model.js';
import type { LabOptions } from './options.js';
import { type ApproachResult, approachTailMs, type RunSettings, runApproach } from './run-approach.js';
import { generateJobs, type LabJob, loadWorkload, type Workload } from './workload.js';

export interface LabRun {
  /** Which engine played it: `real` (worker processes) or `model` (the simulation). */
  engine: LabOptions['engine'];
  workload: Workload;
  speed: number;
  settings: Record<string, unknown>;
  results: ApproachResult[];
}

/**
 * `minTailMs`: play at least this long after the last job is due, whatever the approaches' own tails
 * (`kq lab tune` plays every setting of an approach over one span, so an always-on pod costs the same
 * time in each).
 * @example const run = await runLab(['deployment', 'cronjob'], options, (line) => console.log(line));
 */
export async function runLab(
  approaches: readonly ApproachName[],
  o: LabOptions,
  progress: (line: string) => void = () => undefined,
  minTailMs = 0,
): Promise<LabRun> {
  const workload = loadWorkload(o.workload);
  const speed = o.speed || workload.suggestedSpeed || 60;
  const jobs = generateJobs(workload);
  const manifest = labManifest(o);
  const lastDue = Math.max(workload.durationSeconds * 1000, ...jobs.map((j) => j.at + j.delayMs));
  if (o.engine === 'model')
    return runModelLab(approaches, o, workload, jobs, manifest, lastDue, minTailMs, progress);
  const redisProcess = o.redisUrl
    ? undefined
    : await spawnRedisServer({ persistent: true, dirPrefix: 'kq-lab-redis-' });
  const redisUrl = o.redisUrl || (redisProcess?.url as string);
  const redis = createRedis(redisUrl, { kind: 'fail-fast', commandTimeoutMs: 5000 });
  const release = onInterrupt(() => redisProcess?.remove());
  try {
    const settings: RunSettings = {
      ...playSettings(o, approaches, manifest, lastDue, minTailMs, o.redisRestartAt),
      speed,
      redis,
      redisUrl,
      redisProcess,
    };
    const results: ApproachResult[] = [];
    for (const name of approaches) {
      progress(
        `kq lab: ${name}: ${jobs.length} jobs of workload ${workload.name} at speed ${speed} (about ${Math.round(settings.horizonMs / speed / 1000)} s)`,
      );
      const r = await runApproach(name, jobs, settings);
      progress(summaryLine('kq lab', name, r));
      results.push(r);
    }
    return {
      engine: 'real',
      workload,
      speed,
      settings: {
        speed,
        redisRestartAtSeconds: o.redisRestartAt,
        ...reportedSettings(o, manifest, jobs.length, settings.horizonMs),
      },
      results,
    };
  } finally {
    release();
    await closeRedis(redis);
    await redisProcess?.remove();
  }
}

/** The `kq manifests` options a lab run renders with: the manifest flags it was given, defaults for the rest. */
export function labManifest(o: LabOptions): ManifestOptions {
  return {
    ...parseOptions(manifestOptionSpecs, [], {}).values,
    replicas: o.replicas,
    parallelism: o.parallelism,
    minReplicas: o.minReplicas,
    maxReplicas: o.maxReplicas,
    concurrency: o.concurrency,
    targetBacklog: o.targetBacklog,
    pollingIntervalSeconds: o.pollingIntervalSeconds,
    cooldownPeriodSeconds: o.cooldownPeriodSeconds,
    scaleUpWindowSeconds: o.scaleUpWindowSeconds,
    scaleDownWindowSeconds: o.scaleDownWindowSeconds,
    schedule: o.schedule,
    shutdownTimeoutMs: o.shutdownTimeoutMs,
    jobDeadlineSeconds: o.jobDeadlineSeconds,
    podDeletionCost: o.podDeletionCost,
  };
}

/** The same run on the model engine: no Redis, no processes; the report says so. */
async function runModelLab(
  approaches: readonly ApproachName[],
  o: LabOptions,
  workload: Workload,
  jobs: readonly LabJob[],
  manifest: ManifestOptions,
  lastDue: number,
  minTailMs: number,
  progress: (line: string) => void,
): Promise<LabRun> {
  for (const [flag, set] of [
    ['redis-url', o.redisUrl !== ''],
    ['redis-restart-at', o.redisRestartAt >= 0],
  ] as const) {
    if (set)
      throw new ConfigError(
        `--${flag} plays a real Redis: use it with --engine real (the model has no Redis).`,
        {
          option: flag,
        },
      );
  }
  // The model has no Redis to restart (refused above).
  const settings: ModelSettings = playSettings(o, approaches, manifest, lastDue, minTailMs, -1);
  const results: ApproachResult[] = [];
  for (const name of approaches) {
    const r = await runModelApproach(name, jobs, settings);
    progress(summaryLine('kq lab (model)', name, r));
    results.push(r);
  }
  return {
    engine: 'model',
    workload,
    speed: 0,
    settings: {
      engine: 'model',
      seed: o.seed,
      ...reportedSettings(o, manifest, jobs.length, settings.horizonMs),
    },
    results,
  };
}

/** What both engines play, from the options: the objects' timing, the faults and the run's horizon. */
function playSettings(
  o: LabOptions,
  approaches: readonly ApproachName[],
  manifest: ManifestOptions,
  lastDue: number,
  minTailMs: number,
  redisRestartAtSeconds: number,
) {
  const tail = Math.max(minTailMs, ...approaches.map((a) => approachTailMs(a, manifest)));
  return {
    manifest,
    faults: {
      killRatePerMinute: o.killRate,
      drainEverySeconds: o.drainEverySeconds,
      drainPods: o.drainPods,
      redisRestartAtSeconds,
      rolloutAtSeconds: o.rolloutAt,
      seed: o.seed,
    },
    startLatencyMs: o.podStartSeconds * 1000,
    nodeStartMs: o.nodeStartSeconds * 1000,
    scrapeIntervalMs: o.scrapeIntervalSeconds * 1000,
    adapterCacheMs: o.adapterCacheSeconds * 1000,
    horizonMs: lastDue + tail,
    maxDrainMs: o.maxDrainSeconds * 1000,
    faultWindowMs: lastDue,
  };
}

/** The settings a report records, the same for both engines. */
function reportedSettings(o: LabOptions, manifest: ManifestOptions, jobs: number, horizonMs: number) {
  return {
    jobs,
    horizonSeconds: horizonMs / 1000,
    killRatePerMinute: o.killRate,
    drainEverySeconds: o.drainEverySeconds,
    rolloutAtSeconds: o.rolloutAt,
    podStartSeconds: o.podStartSeconds,
    nodeStartSeconds: o.nodeStartSeconds,
    scrapeIntervalSeconds: o.scrapeIntervalSeconds,
    adapterCacheSeconds: o.adapterCacheSeconds,
    manifest: {
      replicas: manifest.replicas,
      parallelism: manifest.parallelism,
      minReplicas: manifest.minReplicas,
      maxReplicas: manifest.maxReplicas,
      concurrency: manifest.concurrency,
      targetBacklog: manifest.targetBacklog,
      pollingIntervalSeconds: manifest.pollingIntervalSeconds,
      cooldownPeriodSeconds: manifest.cooldownPeriodSeconds,
      scaleUpWindowSeconds: manifest.scaleUpWindowSeconds,
      scaleDownWindowSeconds: manifest.scaleDownWindowSeconds,
      schedule: manifest.schedule,
      shutdownTimeoutMs: manifest.shutdownTimeoutMs,
      podDeletionCost: manifest.podDeletionCost,
    },
  };
}

/** One approach's line on the terminal while the run goes on. */
function summaryLine(label: string, name: string, r: ApproachResult): string {
  const f = r.figures;
  return `${label}: ${name}: completed ${f.completed}/${f.submitted}, failed ${f.failed}, lost ${f.lost}, wait p95 ${(f.waitP95Ms / 1000).toFixed(1)} s, ${f.podsStarted} pods, ${f.podSeconds} pod-s`;
}
