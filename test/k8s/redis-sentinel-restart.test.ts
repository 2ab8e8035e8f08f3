/**
 * The Sentinel set's scripts (ConfigMap kq-redis-scripts) with real redis-server and Sentinel processes
 * on loopback, as redis-sentinel-failover.test.ts runs them, for what a rollout and a restart of the
 * whole set do:
 * - the primary's preStop (redis-prestop.sh) has the Sentinels promote a replica before it stops, and
 *   the old primary is a replica when the script returns;
 * - then, with the newest writes on pod 1 (the new primary) and the replica that confirmed them, and
 *   none on pod 0 (stopped), every data process and every Sentinel stops and starts again, pod 0 first:
 *   the Sentinels kept their state on their volume and name pod 1, pod 0 comes back as its replica, and
 *   no job acknowledged with WAIT 1 (what WRITE_REPLICAS=1 waits for) is lost. Before, every Sentinel
 *   rewrote its config and the scripts fell back to pod 0, whose data is older.
 * - why the scripts cannot pick "the pod with the highest replication offset" instead: a data process
 *   restarted with AOF on reports offset 0.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { ask, client, exited, replicaPriorities, type Started, scriptSet } from './sentinel-set.js';

it('a stopping primary fails over first; a whole-set restart keeps the newest primary and every confirmed job', {
  timeout: 120_000,
}, async () => {
  // Shorter than the manifests' 5 s / 60 s (as in redis-sentinel-failover.test.ts).
  const set = await scriptSet('deployment', { DOWN_AFTER_MS: '2000', FAILOVER_TIMEOUT_MS: '3000' });
  const { dir, dataPorts, sentinelPorts, startData, startSentinel } = set;
  try {
    const named = async (port: number) => {
      const addr = await ask(port, 'SENTINEL', 'get-master-addr-by-name', 'kq');
      return Array.isArray(addr) ? Number(addr[1]) : undefined;
    };
    const role = (port: number) => ask(port, 'ROLE') as Promise<unknown[] | undefined>;
    const settled = (primary: number, what: string) =>
      waitFor(
        what,
        async () => {
          const masters = await Promise.all(sentinelPorts.map((p) => ask(p, 'SENTINEL', 'master', 'kq')));
          const views = masters.map((m) =>
            Array.isArray(m) ? Object.fromEntries(m.flatMap((v, i) => (i % 2 ? [] : [[v, m[i + 1]]]))) : {},
          );
          const sentinelsAgree = views.every(
            (f) => Number(f.port) === primary && f['num-other-sentinels'] === '2' && f['num-slaves'] === '2',
          );
          const replicas = await Promise.all(dataPorts.filter((p) => p !== primary).map(role));
          const synced = replicas.every(
            (r) => r?.[0] === 'slave' && r[2] === primary && r[3] === 'connected',
          );
          return sentinelsAgree && synced && (await role(primary))?.[0] === 'master';
        },
        { timeoutMs: 40_000, intervalMs: 200 },
      );

    const [port0, port1, port2] = dataPorts as [number, number, number];
    let data = [0, 1, 2].map(startData);
    let sentinels = [0, 1, 2].map(startSentinel);
    await settled(port0, 'the fresh set: pod 0 primary, 2 replicas in sync, 3 Sentinels');

    /** Jobs added on `port`, each confirmed by one replica (WAIT 1) as WRITE_REPLICAS=1 requires. */
    const queueName = `restart-${process.pid}`;
    const addConfirmed = async (port: number, ids: string[]) => {
      const connection = client(port);
      const q = new Queue(queueName, { connection });
      q.on('error', () => undefined);
      try {
        for (const id of ids) {
          await q.add('noop', { id }, { jobId: id });
          expect(
            Number(await connection.call('WAIT', '1', '5000')),
            `job ${id} confirmed`,
          ).toBeGreaterThanOrEqual(1);
        }
      } finally {
        await q.close();
        connection.disconnect();
      }
    };
    const missing = async (port: number, ids: string[]) => {
      const connection = client(port);
      const q = new Queue(queueName, { connection });
      q.on('error', () => undefined);
      try {
        const jobs = await Promise.all(ids.map((id) => q.getJob(id)));
        return ids.filter((_, i) => !jobs[i]);
      } finally {
        await q.close();
        connection.disconnect();
      }
    };
    const first = Array.from({ length: 20 }, (_, i) => `before-${i}`);
    const newest = Array.from({ length: 20 }, (_, i) => `newest-${i}`);
    await addConfirmed(port0, first);

    // A replica is unpromotable (replica-priority 0) until its first sync; then its script restores 100.
    const inSync = (s: Started | undefined) =>
      waitFor(
        'the replica’s script saw its first sync',
        () => s?.output().includes('in sync with the primary'),
        {
          timeoutMs: 15_000,
          intervalMs: 100,
        },
      );
    await inSync(data[1]);
    await inSync(data[2]);
    // preStop of the primary; pod 2 may not be promoted, so the new primary is pod 1. Pod 1 is made
    // promotable only once every Sentinel has seen it unpromotable, just before the preStop: the
    // Sentinels' view of it is stale (they read a replica's INFO every 10 s), as in a rollout that
    // reaches pod 0 right after pod 1 synced, and the preStop must ask again rather than give up.
    await ask(port1, 'CONFIG', 'SET', 'replica-priority', '0');
    await ask(port2, 'CONFIG', 'SET', 'replica-priority', '0');
    await waitFor(
      'every Sentinel sees pods 1 and 2 unpromotable (INFO every 10 s)',
      async () => {
        const views = await Promise.all(sentinelPorts.map(replicaPriorities));
        return views.every((v) => v.get(port1) === '0' && v.get(port2) === '0');
      },
      { timeoutMs: 25_000, intervalMs: 250 },
    );
    await ask(port1, 'CONFIG', 'SET', 'replica-priority', '100');
    const startedAt = Date.now();
    const preStop = spawnSync('sh', [join(dir, 'redis-prestop.sh')], {
      env: set.dataPodEnv(0),
      encoding: 'utf8',
      timeout: 60_000,
    });
    const preStopMs = Date.now() - startedAt;
    expect(preStop.status, preStop.stderr).toBe(0);
    expect(preStop.stdout).toContain(`the Sentinels promoted 127.0.0.1:${port1}; this pod is its replica`);
    expect((await role(port0))?.slice(0, 3)).toEqual(['slave', '127.0.0.1', port1]);
    expect(await named(sentinelPorts[0] as number)).toBe(port1);
    // A replica's preStop does nothing.
    const replicaPreStop = spawnSync('sh', [join(dir, 'redis-prestop.sh')], {
      env: set.dataPodEnv(2),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(replicaPreStop.stdout).toContain('not the primary, nothing to do');
    await ask(port2, 'CONFIG', 'SET', 'replica-priority', '100');
    // The pod stops after its preStop: pod 0 takes no part in what follows.
    data[0]?.proc.kill('SIGTERM');
    await exited(data[0]?.proc as ChildProcess);

    await addConfirmed(port1, newest);

    // The whole set stops (as when every pod is deleted: SIGTERM) and starts again, pod 0 first.
    for (const p of [...data, ...sentinels]) p.proc.kill('SIGTERM');
    await Promise.all([...data, ...sentinels].map((p) => exited(p.proc)));
    data = [startData(0)];
    data.push(startData(1), startData(2));
    sentinels = [0, 1, 2].map(startSentinel);
    await settled(port1, 'the restarted set: pod 1 primary again, pods 0 and 2 its replicas');

    expect(data[0]?.output()).toContain(`starting as a replica of 127.0.0.1:${port1}`);
    await inSync(data[0]);
    await inSync(data[2]);
    expect(data[1]?.output()).toContain('starting as the primary');
    for (const s of sentinels)
      expect(s.output()).toContain(`monitoring kq at 127.0.0.1:${port1} (kept state`);
    expect(await missing(port1, [...first, ...newest]), 'confirmed jobs missing on the primary').toEqual([]);
    expect(await missing(port0, [...first, ...newest]), 'confirmed jobs missing on pod 0').toEqual([]);

    // Why not the highest replication offset: a data process restarted with AOF reports offset 0.
    const offset = async (port: number) => {
      const info = String(await ask(port, 'INFO', 'replication'));
      return Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
    };
    expect(await offset(port1)).toBeGreaterThan(0);
    // Without Sentinels (no failover meanwhile), pod 1 restarts alone as the primary.
    for (const p of [...sentinels, data[1]]) p?.proc.kill('SIGTERM');
    await Promise.all([...sentinels, data[1]].map((p) => exited(p?.proc as ChildProcess)));
    const alone = set.start(
      'redis-start.sh',
      set.dataPodEnv(1, { SENTINELS: '127.0.0.1:1', DATA_NODES: `127.0.0.1:${port1}`, SENTINEL_WAIT_S: '0' }),
    );
    await waitFor('pod 1 alone answers', async () => (await ask(port1, 'PING')) === 'PONG', {
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    expect(alone.output()).toContain('starting as the primary');
    expect(await offset(port1), 'offset right after a restart with AOF').toBe(0);
    expect(await missing(port1, newest)).toEqual([]);

    console.log(
      `sentinel set: preStop failover took ${preStopMs} ms: ${preStop.stdout.trim().replace(/\n/g, ' | ')}`,
    );
  } finally {
    await set.close();
  }
});
