/**
 * The Sentinel set's start scripts (ConfigMap kq-redis-scripts of `kq manifests --redis-mode sentinel`),
 * run for real: 3 redis-server and 3 `redis-server --sentinel` processes on free loopback ports, each
 * started by the script text the manifests ship, with the StatefulSets' env except the hostnames
 * (127.0.0.1 and a port per pod). The primary is SIGKILLed, Sentinel promotes a replica, and the old
 * primary is restarted with the same script: it must come back as a replica of the new primary, never
 * as a second primary; a Sentinel restarted afterwards monitors the new primary too, and so do data pods
 * and Sentinels restarted while no Sentinel runs (they ask the data pods' ROLE). A kq worker with
 * REDIS_URL=redis+sentinel://... completes a job before and after.
 */
import { Queue } from 'bullmq';
import { expect, it } from 'vitest';
import { closeRedis, createRedis } from '../../src/queue/connection.js';
import { spawnKq } from '../helpers/kq-process.js';
import { freePort } from '../helpers/redis-server.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { ask, PASSWORD, replicaPriorities, scriptSet } from './sentinel-set.js';

it('a primary restarted after a failover comes back as a replica of the new primary', {
  timeout: 60_000,
}, async () => {
  // Sentinel timings shorter than the manifests' 5 s / 60 s, so the test stays short; the rule under
  // test is the same. 2 s, not less: on a loaded CI machine a 1 s bound let a busy new primary (serving
  // the restarted pod's full sync) look down, and a second failover left two masters for a moment.
  const set = await scriptSet('keda-scaledobject', { DOWN_AFTER_MS: '2000', FAILOVER_TIMEOUT_MS: '3000' });
  const { dataEnv, sentinelEnv, dataPorts, sentinelPorts, startData, startSentinel } = set;
  expect(Object.keys(dataEnv)).toEqual(expect.arrayContaining(['DATA_NODES', 'SENTINELS', 'ANNOUNCE_HOST']));
  expect(sentinelEnv.QUORUM).toBe('2');

  // Last in, first out: the clients close while the Redis processes still run.
  const cleanups: (() => unknown)[] = [() => set.close()];
  try {
    const data = [0, 1, 2].map(startData);
    const sentinels = [0, 1, 2].map(startSentinel);
    const primaryPort = async () => {
      const addr = await ask(sentinelPorts[0] as number, 'SENTINEL', 'get-master-addr-by-name', 'kq');
      return Array.isArray(addr) ? Number(addr[1]) : undefined;
    };
    const roles = () => Promise.all(dataPorts.map((p) => ask(p, 'ROLE') as Promise<unknown[] | undefined>));
    await waitFor(
      'the set up: every Sentinel sees 2 replicas and 2 other Sentinels, replicas in sync',
      async () => {
        const masters = await Promise.all(sentinelPorts.map((p) => ask(p, 'SENTINEL', 'master', 'kq')));
        const ok = masters.every((m) => {
          if (!Array.isArray(m)) return false;
          const f = Object.fromEntries(m.flatMap((v, i) => (i % 2 ? [] : [[v, m[i + 1]]])));
          return f['num-slaves'] === '2' && f['num-other-sentinels'] === '2';
        });
        const r = await roles();
        // A replica is unpromotable (replica-priority 0) until its first sync, and a Sentinel reads a
        // replica's INFO every 10 s: wait until every Sentinel sees both promotable, or the failover
        // below may first abort with no good replica and retry seconds later.
        const views = await Promise.all(sentinelPorts.map(replicaPriorities));
        const promotable = views.every((v) => [...v.values()].filter((p) => p === '100').length === 2);
        return ok && promotable && r.filter((x) => x?.[0] === 'slave' && x[3] === 'connected').length === 2;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const first = await primaryPort();
    expect(first).toBe(dataPorts[0]);
    expect(data[0]?.output()).toMatch(/starting as the primary/);

    const queue = `sentinel-set-${process.pid}-${Date.now()}`;
    const url = `redis+sentinel://:${PASSWORD}@${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/kq`;
    const worker = spawnKq(['worker'], {
      REDIS_URL: url,
      REDIS_SENTINEL_PASSWORD: PASSWORD,
      QUEUE: queue,
      HEALTH_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    });
    cleanups.push(() => worker.kill('SIGKILL'));
    const redis = createRedis(url, {
      kind: 'blocking',
      auth: { sentinelPassword: PASSWORD },
      onError: () => undefined,
    });
    const q = new Queue(queue, { connection: redis });
    q.on('error', () => undefined);
    cleanups.push(async () => {
      await Promise.race([q.obliterate({ force: true }).catch(() => undefined), sleep(3000)]);
      await q.close();
      await closeRedis(redis);
    });
    const completes = async (label: string) => {
      const job = await q.add('noop', {});
      await waitFor(`job ${label} completed`, async () => (await job.getState()) === 'completed', {
        timeoutMs: 15_000,
        intervalMs: 100,
      });
    };
    await completes('before the failover');

    const killedAt = Date.now();
    data[0]?.proc.kill('SIGKILL');
    const second = await waitFor(
      'a replica promoted',
      async () => {
        const p = await primaryPort();
        return p !== undefined && p !== first ? p : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const promotedMs = Date.now() - killedAt;

    const restarted = startData(0);
    await waitFor('the old primary answers', async () => (await ask(first as number, 'PING')) === 'PONG', {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    // First look, before Sentinel could have demoted it itself: the script made it a replica.
    const role = (await ask(first as number, 'ROLE')) as unknown[];
    expect(role.slice(0, 3)).toEqual(['slave', '127.0.0.1', second]);
    expect(restarted.output()).toContain(`starting as a replica of 127.0.0.1:${second} (sentinel`);
    await waitFor(
      'the old primary in sync with the new one',
      async () => ((await ask(first as number, 'ROLE')) as unknown[] | undefined)?.[3] === 'connected',
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const masters = async () =>
      (await roles()).flatMap((r, i) => (r?.[0] === 'master' ? [dataPorts[i] as number] : []));
    // Exactly one master, the promoted one (bounded wait: Sentinel settles a set it is still reconfiguring).
    const settled = await waitFor(
      'one master',
      async () => {
        const m = await masters();
        return m.length === 1 ? m : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    ).catch(async () => masters());
    expect(settled, 'data nodes that say ROLE master').toEqual([second]);
    expect(await primaryPort()).toBe(second);

    // A Sentinel restarted after the failover monitors the new primary (it asks its peers), not pod 0.
    sentinels[2]?.proc.kill('SIGKILL');
    const sentinel = startSentinel(2);
    await waitFor(
      'the restarted Sentinel names the new primary',
      async () => {
        const addr = await ask(sentinelPorts[2] as number, 'SENTINEL', 'get-master-addr-by-name', 'kq');
        return Array.isArray(addr) && Number(addr[1]) === second;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(sentinel.output()).toContain(`monitoring kq at 127.0.0.1:${second}`);

    // No Sentinel up: a data pod that restarts asks the other data pods (step 2), and so do the Sentinels.
    for (const sn of [...sentinels, sentinel]) sn.proc.kill('SIGKILL');
    restarted.proc.kill('SIGKILL');
    const alone = startData(0);
    await waitFor('pod 0 answers again', async () => (await ask(first as number, 'PING')) === 'PONG', {
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    expect(((await ask(first as number, 'ROLE')) as unknown[]).slice(0, 3)).toEqual([
      'slave',
      '127.0.0.1',
      second,
    ]);
    expect(alone.output()).toContain(
      `starting as a replica of 127.0.0.1:${second} (data node 127.0.0.1:${second} says ROLE master)`,
    );
    const again = [0, 1, 2].map(startSentinel);
    await waitFor(
      'every restarted Sentinel names the new primary',
      async () => {
        const named = await Promise.all(
          sentinelPorts.map((p) => ask(p, 'SENTINEL', 'get-master-addr-by-name', 'kq')),
        );
        return named.every((a) => Array.isArray(a) && Number(a[1]) === second);
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    for (const sn of again) expect(sn.output()).toContain(`monitoring kq at 127.0.0.1:${second}`);

    await completes('after the failover');
    console.log(`sentinel set: SIGKILL -> replica promoted in ${promotedMs} ms`);
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
});
