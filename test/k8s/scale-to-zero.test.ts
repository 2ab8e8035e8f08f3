/**
 * Scale to zero only when nothing runs, per approach that can reach zero or scales a Deployment: with one
 * job running and nothing waiting, what each autoscaler reads keeps at least one worker; once it has
 * finished, the reading is 0. Against a real Redis, with the keys and formulas the manifests render.
 */
import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/jobs/registry.js';
import { readCounts } from '../../src/queue/counts.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { createQueueCache } from '../../src/queue/queues.js';
import { readRunnableBacklog } from '../../src/queue/runnable-backlog.js';
import { useTestQueue } from '../helpers/context.js';
import { type K8sObject, redisTriggers, render } from './manifest-fixture.js';

const spec = (objects: K8sObject[], kind: string) =>
  objects.find((o) => o.kind === kind)?.spec as Record<string, unknown> & {
    minReplicaCount?: number;
    minReplicas?: number;
    advanced?: { scalingModifiers?: { formula: string; activationTarget: string } };
  };

describe('scale to zero waits until no job runs', () => {
  it('one running job, nothing waiting: keda-scaledobject stays active, keda-external counts it, HPAs keep 1', async () => {
    const t = useTestQueue(undefined, 'kqzero');
    const flags = ['--queue', t.queue, '--prefix', t.prefix];
    const so = render('keda-scaledobject', flags);
    const triggers = redisTriggers(so, 'ScaledObject');
    const modifiers = spec(so, 'ScaledObject').advanced?.scalingModifiers;
    expect(spec(so, 'ScaledObject').minReplicaCount).toBe(0);
    expect(modifiers?.formula).toBe('wait + prioritized + active');
    // KEDA is active (keeps >= 1 replica, and restarts the cooldown) while the formula is above this.
    const activation = Number(modifiers?.activationTarget);
    const formula = async () => {
      let sum = 0;
      for (const name of ['wait', 'prioritized', 'active']) {
        const key = triggers.get(name)?.listName as string;
        const type = await t.redis.type(key);
        sum += type === 'list' ? await t.redis.llen(key) : type === 'zset' ? await t.redis.zcard(key) : 0;
      }
      return sum;
    };
    for (const name of ['hpa-adapter', 'hpa-prometheus'] as const) {
      expect(spec(render(name, flags), 'HorizontalPodAutoscaler').minReplicas, name).toBeGreaterThanOrEqual(
        1,
      );
    }
    expect(spec(render('keda-external', flags), 'ScaledObject').minReplicaCount).toBe(0);

    const jobs = await loadRegistry('');
    const queues = createQueueCache(t.redis, t.prefix);
    const connection = t.redis.duplicate();
    const worker = new Worker(t.queue, null, { connection, prefix: t.prefix, autorun: false });
    try {
      await enqueue(queues, jobs, { type: 'noop', queue: t.queue, data: {} });
      const running = await worker.getNextJob('token-1');
      if (!running) throw new Error('no job fetched');
      expect(await t.redis.llen(triggers.get('wait')?.listName as string)).toBe(0);
      expect(await formula()).toBe(1);
      expect(await formula()).toBeGreaterThan(activation);
      const runnable = await readRunnableBacklog(t.redis, t.prefix, t.queue);
      expect(runnable.running).toBe(1);
      expect(runnable.runnableAndRunning).toBe(1);
      expect((await readCounts(t.redis, t.prefix, t.queue)).backlog).toBe(1);

      // Paused with the job still running: the scaler counts the running job only; KEDA's list triggers
      // still see nothing waiting here, and the running job in :active.
      await queues.get(t.queue).pause();
      expect((await readRunnableBacklog(t.redis, t.prefix, t.queue)).runnableAndRunning).toBe(1);
      await queues.get(t.queue).resume();

      await running.moveToCompleted('done', 'token-1', false);
      expect(await formula()).toBe(0);
      expect(await formula()).not.toBeGreaterThan(activation);
      expect((await readRunnableBacklog(t.redis, t.prefix, t.queue)).runnableAndRunning).toBe(0);
    } finally {
      await worker.close();
      await queues.close();
      connection.disconnect();
    }
  });
});
