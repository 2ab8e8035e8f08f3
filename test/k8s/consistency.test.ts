/**
 * The manifests agree with the code they deploy: KEDA watches the keys BullMQ really writes, secrets
 * stay in Secrets, pods outlive the worker's shutdown timeout, job-style approaches run workers in exit
 * mode, and every env name is one the CLI declares.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { IScaledJob } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob';
import { Worker } from 'bullmq';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { ICronJobSpec } from 'kubernetes-models/batch/v1/CronJobSpec';
import type { IJobSpec } from 'kubernetes-models/batch/v1/JobSpec';
import { describe, expect, it } from 'vitest';
import { apiOptionSpecs } from '../../src/api/options.js';
import { parseOptions } from '../../src/config.js';
import { loadRegistry } from '../../src/jobs/registry.js';
import { DEFAULT_IMAGE } from '../../src/k8s/options.js';
import { APPROACH_NAMES } from '../../src/k8s/render.js';
import { scalerOptionSpecs } from '../../src/keda-scaler/options.js';
import { adapterOptionSpecs } from '../../src/metrics/adapter/options.js';
import { readCounts } from '../../src/queue/counts.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { createQueueCache } from '../../src/queue/queues.js';
import { workerOptionSpecs } from '../../src/worker/options.js';
import { sweepOptionSpecs } from '../../src/worker/sweep.js';
import { useTestQueue } from '../helpers/context.js';
import { CLI } from '../helpers/kq-process.js';
import {
  type K8sObject,
  kqContainers,
  manifestOptions,
  podSpecOf,
  redisTriggers,
  render,
} from './manifest-fixture.js';

const envNames = (specs: Record<string, { env: readonly string[] }>) =>
  new Set(Object.values(specs).flatMap((s) => s.env));
/** Not an option: only referenced as $(REDIS_PASSWORD) inside REDIS_URL (Kubernetes dependent env). */
const EXPANSION_ONLY = new Set(['REDIS_PASSWORD']);
/** Read by Node itself, not by kq (heap limits sized to the container). */
const NODE_RUNTIME = new Set(['NODE_OPTIONS']);

const variants = [[], ['--redis-url', 'rediss://r.example:6380/1'], ['--shutdown-timeout-ms', '600000']];

describe('KEDA watches the keys the queue module writes', () => {
  it('listName of the wait trigger holds exactly the N plain jobs enqueued; the formula equals the backlog', async () => {
    const t = useTestQueue(undefined, 'kqk8s');
    const objects = render('keda-scaledobject', ['--queue', t.queue, '--prefix', t.prefix]);
    const triggers = redisTriggers(objects, 'ScaledObject');
    const jobs = await loadRegistry('');
    const queues = createQueueCache(t.redis, t.prefix);
    const size = async (key: string | undefined) => {
      if (!key) throw new Error('trigger missing');
      // KEDA's redis scaler reads a key by its type; mirror that so a wrong type fails here.
      const type = await t.redis.type(key);
      if (type === 'list') return t.redis.llen(key);
      if (type === 'zset') return t.redis.zcard(key);
      if (type === 'none') return 0;
      throw new Error(`${key} is a ${type}: KEDA cannot count it`);
    };
    const workerConnection = t.redis.duplicate();
    const worker = new Worker(t.queue, null, {
      connection: workerConnection,
      prefix: t.prefix,
      autorun: false,
    });
    try {
      for (let i = 0; i < 7; i++) await enqueue(queues, jobs, { type: 'noop', queue: t.queue, data: { i } });
      for (let i = 0; i < 3; i++) await enqueue(queues, jobs, { type: 'noop', queue: t.queue, priority: 2 });
      expect(await size(triggers.get('wait')?.listName)).toBe(7);
      expect(await t.redis.llen(triggers.get('wait')?.listName as string)).toBe(7);
      expect(await size(triggers.get('prioritized')?.listName)).toBe(3);
      expect(await size(triggers.get('active')?.listName)).toBe(0);
      // Two jobs start running: the formula wait + prioritized + active still counts all ten.
      await worker.getNextJob('token-1');
      await worker.getNextJob('token-2');
      expect(await size(triggers.get('active')?.listName)).toBe(2);
      const formula = (
        await Promise.all(['wait', 'prioritized', 'active'].map((k) => size(triggers.get(k)?.listName)))
      ).reduce((a, b) => a + b, 0);
      expect(formula).toBe(10);
      expect((await readCounts(t.redis, t.prefix, t.queue)).backlog).toBe(formula);
      // ScaledJob counts only jobs nobody has taken (its `accurate` strategy subtracts pending Jobs).
      const jobTriggers = redisTriggers(
        render('keda-scaledjob', ['--queue', t.queue, '--prefix', t.prefix]),
        'ScaledJob',
      );
      expect([...jobTriggers.keys()].sort()).toEqual(['prioritized', 'wait']);
      const untaken =
        (await size(jobTriggers.get('wait')?.listName)) +
        (await size(jobTriggers.get('prioritized')?.listName));
      expect(untaken).toBe(8);
    } finally {
      await worker.close();
      await queues.close();
      workerConnection.disconnect();
    }
  });

  it('the ScaledObject formula names exactly its triggers', () => {
    const so = render('keda-scaledobject').find((o) => o.kind === 'ScaledObject');
    const spec = so?.spec as {
      advanced: { scalingModifiers: { formula: string } };
      triggers: { name: string }[];
    };
    const names = spec.triggers.map((t) => t.name).sort();
    expect(
      spec.advanced.scalingModifiers.formula
        .split('+')
        .map((s) => s.trim())
        .sort(),
    ).toEqual(names);
  });
});

describe('secrets are never inline', () => {
  for (const name of APPROACH_NAMES) {
    it(name, () => {
      for (const flags of variants) {
        // The one Secret rendered holds Prometheus' scrape job, which names the token file, not a token.
        for (const secret of render(name, flags).filter((o) => o.kind === 'Secret')) {
          expect(secret.metadata.name).toBe('kq-prometheus-scrape');
          const text = Object.values(secret.stringData as Record<string, string>).join('\n');
          expect(text).toMatch(/credentials_file: /);
          expect(text).not.toMatch(/^\s*(credentials|password|bearer_token):/m);
        }
        for (const { container } of kqContainers(render(name, flags))) {
          for (const env of container.env ?? []) {
            if (/PASSWORD|TOKEN|SECRET|REDISCLI_AUTH/.test(env.name)) {
              expect(env.value, `${container.name} ${env.name} must come from a Secret`).toBeUndefined();
              expect(env.valueFrom?.secretKeyRef?.name).toMatch(/^kq-(redis|api)$/);
            }
            // A URL with credentials may only carry the Secret-backed expansion.
            if (env.value?.includes('@')) expect(env.value).toMatch(/^rediss?:\/\/:\$\(REDIS_PASSWORD\)@/);
          }
        }
      }
    });
  }
});

describe('pods outlive the worker shutdown timeout', () => {
  for (const name of APPROACH_NAMES) {
    it(name, () => {
      for (const flags of variants) {
        const objects = render(name, flags);
        const workers = kqContainers(objects).filter((c) => c.container.name === 'worker');
        expect(workers.length, `${name} has a worker`).toBeGreaterThan(0);
        for (const { pod, container } of workers) {
          const ms = Number(container.env?.find((e) => e.name === 'SHUTDOWN_TIMEOUT_MS')?.value);
          expect(ms).toBe(manifestOptions(flags).shutdownTimeoutMs);
          expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(ms / 1000);
        }
      }
    });
  }
});

/** The worker's env as the pod would see it, parsed by the worker's own option parser. */
function workerValues(name: (typeof APPROACH_NAMES)[number]) {
  const found = kqContainers(render(name)).filter((c) => c.container.name === 'worker');
  return found.map(({ container }) => {
    const env = Object.fromEntries(
      (container.env ?? []).map((e) => [
        e.name,
        (e.value ?? 'from-secret').replace('$(REDIS_PASSWORD)', 'pw'),
      ]),
    );
    return parseOptions(workerOptionSpecs, container.args?.slice(1) ?? [], env).values;
  });
}

/** Exit code 2 (configuration error) fails the Job at once; an evicted pod does not count as a failure. */
function expectFailurePolicy(job: IJobSpec): void {
  expect(job.template.spec?.restartPolicy).toBe('Never');
  expect(job.podFailurePolicy?.rules).toEqual([
    { action: 'FailJob', onExitCodes: { containerName: 'worker', operator: 'In', values: [2] } },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
  ]);
}

describe('job-style approaches run workers that exit', () => {
  it('cronjob: EXIT=1, work-queue Job (parallelism 3, completions unset), bounded to one Job at a time', () => {
    expect(workerValues('cronjob').map((v) => v.exitWhenEmpty)).toEqual([true]);
    const cj = render('cronjob').find((o) => o.kind === 'CronJob');
    const spec = (cj as unknown as ICronJob).spec as ICronJobSpec;
    const job = spec.jobTemplate.spec as IJobSpec;
    expect(spec.schedule).toBe('* * * * *');
    // Allow added `parallelism` pods every minute under a backlog (up to 180 within the 1 h deadline).
    expect(spec.concurrencyPolicy).toBe('Forbid');
    expect(job.parallelism).toBe(3);
    expect(job.completions).toBeUndefined();
    for (const value of [job.activeDeadlineSeconds, job.backoffLimit]) expect(value).toBeGreaterThan(0);
    // A TTL would delete failed Jobs whatever failedJobsHistoryLimit says: the history limits clean up.
    expect(job.ttlSecondsAfterFinished).toBeUndefined();
    for (const value of [
      spec.startingDeadlineSeconds,
      spec.successfulJobsHistoryLimit,
      spec.failedJobsHistoryLimit,
    ])
      expect(value).toBeGreaterThan(0);
    expectFailurePolicy(job);
  });

  it('keda-scaledjob: MAX_JOBS=1 and EXIT=1, accurate strategy counting not-Ready pods as pending, gradual rollout; a sweeper for orphans and retries', () => {
    // The ScaledJob's pods are the only workers: the sweeper CronJob runs `kq sweep`, which runs no job.
    expect(workerValues('keda-scaledjob').map((v) => [v.maxJobs, v.exitWhenEmpty, v.concurrency])).toEqual([
      [1, true, 1],
    ]);
    const sweeper = render('keda-scaledjob').find((o) => o.kind === 'CronJob');
    expect((sweeper as unknown as ICronJob).spec?.concurrencyPolicy).toBe('Forbid');
    const sweepJob = (sweeper as unknown as ICronJob).spec?.jobTemplate.spec as IJobSpec;
    expect(sweepJob.template.spec?.containers.map((c) => c.args)).toEqual([['sweep']]);
    expect(sweepJob.podFailurePolicy?.rules[0]?.onExitCodes?.containerName).toBe('sweep');
    const podEnv = kqContainers(render('keda-scaledjob')).find((c) => c.container.name === 'worker')
      ?.container.env;
    // A replacement pod takes back its predecessor's job by the Job's name.
    expect(podEnv?.find((e) => e.name === 'K8S_JOB_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe(
      "metadata.labels['batch.kubernetes.io/job-name']",
    );
    const sj = render('keda-scaledjob').find((o) => o.kind === 'ScaledJob');
    const spec = (sj as unknown as IScaledJob).spec as NonNullable<IScaledJob['spec']>;
    expect(spec.scalingStrategy?.strategy).toBe('accurate');
    expect((spec.scalingStrategy as { pendingPodConditions?: string[] }).pendingPodConditions).toEqual([
      'Ready',
    ]);
    expect(spec.rollout?.strategy).toBe('gradual');
    expect(spec.jobTargetRef.activeDeadlineSeconds).toBeGreaterThan(0);
    expectFailurePolicy(spec.jobTargetRef as IJobSpec);
    // The Ready condition is the worker's readiness probe.
    expect(podSpecOf(sj as K8sObject)?.containers[0]?.readinessProbe?.httpGet?.path).toBe('/readyz');
  });

  it('the exit codes the Job failure policy names are the ones kq uses: 2 for a config error', () => {
    const r = spawnSync(process.execPath, [CLI, 'worker'], {
      env: { PATH: process.env.PATH ?? '', CONCURRENCY: 'lots', REDIS_URL: 'redis://127.0.0.1:1/0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/CONCURRENCY/);
  });

  it('long-running approaches do not exit when empty', () => {
    for (const name of ['deployment', 'keda-scaledobject', 'hpa-prometheus', 'hpa-adapter'] as const)
      expect(workerValues(name).map((v) => [v.exitWhenEmpty, v.maxJobs])).toEqual([[false, 0]]);
  });
});

describe('images, commands and env names match the CLI', () => {
  const workerEnv = envNames(workerOptionSpecs);
  const adapterEnv = envNames(adapterOptionSpecs);
  const allowed: Record<string, Set<string>> = {
    worker: workerEnv,
    'metrics-adapter': adapterEnv,
    'keda-scaler': envNames(scalerOptionSpecs),
    api: envNames(apiOptionSpecs),
    sweep: envNames(sweepOptionSpecs),
  };
  for (const name of APPROACH_NAMES) {
    it(name, () => {
      // Every Redis mode: Sentinel modes add REDIS_SENTINEL_PASSWORD, which every command must read.
      const modes = [
        [],
        ['--redis-mode', 'sentinel'],
        ['--redis-url', 'redis+sentinel://s.example:26379/m', '--redis-sentinel-password'],
      ];
      for (const { container } of modes.flatMap((flags) => kqContainers(render(name, flags)))) {
        expect(container.image).toBe(DEFAULT_IMAGE);
        const command = container.args?.[0] as string;
        expect(existsSync(resolve(import.meta.dirname, `../../src/cli/${command}.ts`)), `kq ${command}`).toBe(
          true,
        );
        const declared = allowed[command];
        expect(declared, `no env list for ${command}`).toBeDefined();
        const names = (container.env ?? []).map((e) => e.name);
        for (const env of names) {
          expect(
            declared?.has(env) || EXPANSION_ONLY.has(env) || NODE_RUNTIME.has(env),
            `${command} env ${env} is not declared`,
          ).toBe(true);
        }
        for (const helper of EXPANSION_ONLY) {
          if (names.includes(helper))
            expect(
              container.env?.some((e) => e.value?.includes(`$(${helper})`)),
              `${helper} is used`,
            ).toBe(true);
        }
      }
    });
  }

  it('--image reaches every kq container, and the kind script builds the default tag', () => {
    for (const name of APPROACH_NAMES)
      for (const { container } of kqContainers(render(name, ['--image', 'reg.example/kq:9.9.9'])))
        expect(container.image).toBe('reg.example/kq:9.9.9');
    const script = readFileSync(resolve(import.meta.dirname, '../../deploy/kind/up.sh'), 'utf8');
    const version = JSON.parse(
      readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8'),
    ).version;
    expect(DEFAULT_IMAGE).toBe(`kq:${version}`);
    expect(script).toContain('IMAGE="kq:$(node -p "require(\'./package.json\').version")"');
    expect(script).toMatch(/docker build -t "\$IMAGE"/);
    expect(script).toMatch(/kind load docker-image "\$IMAGE"/);
  });

  it('every container has probes, resources and the hardened security context', () => {
    for (const name of APPROACH_NAMES) {
      const objects = render(name);
      for (const obj of objects) {
        const pod = podSpecOf(obj);
        if (!pod) continue;
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
        expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
        for (const c of pod.containers) {
          if (c.args?.[0] === 'sweep') {
            // A one-shot pass with no server to probe: its Job's deadline bounds it instead.
            const job = (obj.spec as unknown as ICronJobSpec).jobTemplate.spec as IJobSpec;
            expect(job.activeDeadlineSeconds, `${obj.kind}/${c.name} deadline`).toBeGreaterThan(0);
          } else expect(c.livenessProbe && c.readinessProbe, `${obj.kind}/${c.name} probes`).toBeTruthy();
          expect(c.securityContext).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(c.resources?.requests && c.resources?.limits).toBeTruthy();
          if (c.name === 'worker' && obj.kind !== 'ScaledJob')
            expect(c.resources?.limits).toEqual({ cpu: '500m', memory: '128Mi' });
        }
      }
    }
  });
});
