/**
 * A handlers module whose job types run on several queues: every approach renders one worker workload per
 * queue (`kq-worker-<queue>`, `QUEUE=<queue>`), each autoscaler scales its own queue's workload on that
 * queue's keys or metric, and what the queues share is rendered once. One queue renders as before.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import { perQueue } from '../../src/k8s/per-queue.js';
import { APPROACH_NAMES, renderObjects } from '../../src/k8s/render.js';
import {
  firstContainer,
  handlersOptions,
  type K8sObject,
  manifestOptions,
  podSpecOf,
  TWO_QUEUE_HANDLERS,
  TWO_QUEUES,
} from './manifest-fixture.js';

const kqIndex = pathToFileURL(resolve(import.meta.dirname, '../../dist/index.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'kq-per-queue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A handlers module with one job type per queue given. */
function moduleOn(file: string, queues: string[]): string {
  const path = join(dir, file);
  const jobs = queues.map(
    (q, i) =>
      `export const job${i} = defineJob({ name: 'job${i}', queue: ${JSON.stringify(q)}, schema: z.object({}), handler: () => null });`,
  );
  writeFileSync(path, [`import { defineJob, z } from '${kqIndex}';`, ...jobs, ''].join('\n'));
  return path;
}

type Env = { name: string; value?: string }[];
const envOf = (obj: K8sObject) =>
  Object.fromEntries(((firstContainer(obj).env ?? []) as Env).map((e) => [e.name, e.value]));
// biome-ignore lint/suspicious/noExplicitAny: reading untyped JSON of several kinds
const spec = (obj: K8sObject) => obj.spec as Record<string, any>;
const WORKLOADS = ['Deployment', 'CronJob', 'ScaledJob'];

/** The queue each trigger or metric of an autoscaler reads. */
function queuesRead(obj: K8sObject): string[] {
  if (obj.kind === 'HorizontalPodAutoscaler')
    return spec(obj).metrics.map(
      (m: { external: { metric: { selector: { matchLabels: { queue: string } } } } }) =>
        m.external.metric.selector.matchLabels.queue,
    );
  return spec(obj).triggers.map((t: { type: string; metadata: Record<string, string> }) =>
    t.type === 'redis'
      ? /^bull:(.+):(wait|prioritized|active)$/.exec(t.metadata.listName ?? '')?.[1]
      : t.metadata.queue,
  );
}

describe('job types on two queues: one worker workload per queue in every approach', () => {
  for (const name of APPROACH_NAMES) {
    it(name, async () => {
      const o = await handlersOptions(['--handlers', TWO_QUEUE_HANDLERS]);
      const objects = renderObjects(name, o).map((m) => m.toJSON() as K8sObject);
      const ids = objects.map((obj) => `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`);
      expect(new Set(ids).size, 'every object once').toBe(ids.length);
      expect(objects.some((obj) => obj.metadata.name === 'kq-worker')).toBe(false);

      const queueWorkloads = objects.filter((obj) => WORKLOADS.includes(obj.kind) && envOf(obj).QUEUE);
      // keda-scaledjob's sweeper CronJobs follow their queue's worker name.
      const sweepers = queueWorkloads.filter((w) => w.metadata.name.endsWith('-sweeper'));
      for (const w of sweepers) expect(w.metadata.name).toBe(`kq-worker-${envOf(w).QUEUE}-sweeper`);
      expect(sweepers.length).toBe(name === 'keda-scaledjob' ? TWO_QUEUES.length : 0);
      const workloads = queueWorkloads.filter((w) => !sweepers.includes(w));
      expect(workloads.map((w) => w.metadata.name).sort()).toEqual(TWO_QUEUES.map((q) => `kq-worker-${q}`));
      for (const w of workloads) {
        const queue = w.metadata.name.replace('kq-worker-', '');
        expect(envOf(w).QUEUE, w.metadata.name).toBe(queue);
        expect(envOf(w).HANDLERS).toBe(TWO_QUEUE_HANDLERS);
        expect(podSpecOf(w)?.containers).toHaveLength(1);
        if (w.kind === 'Deployment')
          expect(spec(w).selector.matchLabels['app.kubernetes.io/name']).toBe(w.metadata.name);
      }
      const api = objects.find((obj) => obj.kind === 'Deployment' && obj.metadata.name === 'kq-api');
      expect(api && envOf(api).HANDLERS).toBe(TWO_QUEUE_HANDLERS);

      const autoscalers = objects.filter((obj) =>
        ['ScaledObject', 'ScaledJob', 'HorizontalPodAutoscaler'].includes(obj.kind),
      );
      const scaled = name === 'deployment' || name === 'cronjob' ? 0 : TWO_QUEUES.length;
      expect(autoscalers).toHaveLength(scaled);
      for (const a of autoscalers) {
        const target =
          a.kind === 'ScaledJob' ? a : workloads.find((w) => w.metadata.name === spec(a).scaleTargetRef.name);
        expect(target, `${a.kind} ${a.metadata.name} scales a rendered workload`).toBeDefined();
        const queue = envOf(target as K8sObject).QUEUE;
        expect(a.metadata.name).toBe(`kq-worker-${queue}`);
        const read = queuesRead(a);
        expect(read.length, `${a.kind} ${a.metadata.name}`).toBeGreaterThan(0);
        for (const q of read) expect(q, `${a.kind} ${a.metadata.name} reads its own queue`).toBe(queue);
      }
    });
  }

  it('one queue renders exactly as before: kq-worker, no suffix', async () => {
    const one = moduleOn('one-queue.mjs', ['billing']);
    for (const name of APPROACH_NAMES) {
      const o = await handlersOptions(['--handlers', one]);
      expect(o.queues).toBeUndefined();
      const plain = manifestOptions(['--handlers', one, '--queue', 'billing']);
      const json = (opts: typeof o) => stringify(renderObjects(name, opts).map((m) => m.toJSON()));
      expect(json(o), name).toBe(json(plain));
      expect(json(o)).toContain('name: kq-worker\n');
    }
  });
});

describe('bad input', () => {
  it('a queue that cannot make a DNS-1123 label names the queue, the rule and a fix', async () => {
    const bad = moduleOn('bad-queue.mjs', ['billing', 'Billing_EU']);
    const err = await handlersOptions(['--handlers', bad]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(
      `--handlers ${JSON.stringify(bad)}: queue "Billing_EU" (job types: job1) cannot name its workers: "kq-worker-Billing_EU" must be a DNS-1123 label of at most 44 characters: lower-case letters, digits and "-", starting and ending with a letter or digit (so a queue name of at most 34 such characters). Rename the queue (defineJob's queue option), e.g. "billing-eu".`,
    );
    const long = moduleOn('long-queue.mjs', ['a'.repeat(35), 'b'.repeat(34)]);
    const tooLong = await handlersOptions(['--handlers', long]).catch((e: unknown) => e);
    expect((tooLong as Error).message).toContain(`queue "${'a'.repeat(35)}" (job types: job0) cannot name`);
    expect((tooLong as Error).message).not.toContain(`queue "${'b'.repeat(34)}"`);
  });

  it('--queue conflicts with handlers on several queues', async () => {
    const err = await handlersOptions(['--handlers', TWO_QUEUE_HANDLERS, '--queue', 'billing']).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toContain('--queue billing conflicts with --handlers');
    expect((err as Error).message).toContain(
      'whose job types run on queue "billing" (invoice, refund), queue "emails" (welcome). Leave --queue out',
    );
  });

  it('an object that depends on the queue but keeps a fixed name is an error, not a silent overwrite', () => {
    const ctx = { o: { ...manifestOptions(), queues: TWO_QUEUES }, external: undefined };
    const configMap = (name: string, queue: string) =>
      new ConfigMap({ metadata: { name, namespace: 'kq' }, data: { queue } });
    const shared = perQueue(ctx, () => [configMap('shared', 'all')]);
    expect(shared).toHaveLength(1);
    expect(() => perQueue(ctx, (c) => [configMap('fixed', c.o.queue)])).toThrow(
      'v1/ConfigMap kq/fixed differs between queue "billing" and queue "emails": an object that depends on the queue must be named with workerName(ctx).',
    );
  });
});
