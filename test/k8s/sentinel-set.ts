/**
 * The Sentinel set's scripts (ConfigMap kq-redis-scripts of `kq manifests --redis-mode sentinel`) run
 * for real, as redis-sentinel-failover.test.ts and redis-sentinel-restart.test.ts run them: 3
 * redis-server and 3 `redis-server --sentinel` processes on free loopback ports, each started by the
 * script text the manifests ship, with the StatefulSets' env except what is per pod (hostnames become
 * 127.0.0.1 and a port per pod).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { ApproachName } from '../../src/k8s/render.js';
import { trackProcess } from '../helpers/leak-guard.js';
import { freePort } from '../helpers/redis-server.js';
import { firstContainer, render } from './manifest-fixture.js';

export const PASSWORD = 'f00dcafe';
/** Env the manifests set per pod that loopback processes replace. */
const LOCAL = [
  'ANNOUNCE_HOST',
  'REDIS_PORT',
  'SENTINEL_PORT',
  'DATA_NODES',
  'SENTINELS',
  'DATA_DIR',
  'CONF_DIR',
];

export interface Started {
  proc: ChildProcess;
  output: () => string;
}

/** A client of one loopback process of the set; `maxRetriesPerRequest: null` so BullMQ can use it. */
export function client(port: number): Redis {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    password: PASSWORD,
    lazyConnect: true,
    maxRetriesPerRequest: null,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  return r;
}

/** One command on a fresh connection; undefined when the process does not answer. */
export async function ask(port: number, ...args: (string | number)[]): Promise<unknown> {
  const r = client(port);
  try {
    await r.connect();
    return await r.call(String(args[0]), ...args.slice(1));
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

export const exited = (p: ChildProcess) =>
  p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => p.once('exit', () => r()));

/**
 * Each replica's `replica-priority` as one Sentinel last read it (port -> priority). A Sentinel reads a
 * replica's INFO every 10 s, so this view lags the replica's own; tests that need a replica promotable,
 * or not, wait on this view.
 */
export async function replicaPriorities(sentinelPort: number): Promise<Map<number, string>> {
  const list = await ask(sentinelPort, 'SENTINEL', 'REPLICAS', 'kq');
  return new Map(
    (Array.isArray(list) ? list : []).map((r) => {
      const f = Array.isArray(r) ? r.map(String) : [];
      const get = (k: string) => f[f.indexOf(k) + 1];
      return [Number(get('port')), get('slave-priority') ?? ''];
    }),
  );
}

export interface ScriptSet {
  dir: string;
  dataPorts: [number, number, number];
  sentinelPorts: [number, number, number];
  /** The data StatefulSet's literal env values. */
  dataEnv: Record<string, string>;
  /** The Sentinel StatefulSet's literal env values. */
  sentinelEnv: Record<string, string>;
  /** `sh <script>` with its output kept; killed at close. */
  start(script: string, env: Record<string, string>): Started;
  /** A data pod's env: the manifest's, the loopback addresses, its port and data folder, and `own`. */
  dataPodEnv(i: number, own?: Record<string, string>): Record<string, string>;
  startData(i: number): Started;
  startSentinel(i: number): Started;
  /** SIGKILLs what still runs and removes the folder. */
  close(): Promise<void>;
}

/**
 * The scripts and env of `kq manifests <approach> --redis-mode sentinel`, with `sentinelOwn` added to
 * each Sentinel's env (the tests shorten down-after and the failover timeout).
 */
export async function scriptSet(
  approach: ApproachName,
  sentinelOwn: Record<string, string>,
): Promise<ScriptSet> {
  const objects = render(approach, ['--redis-mode', 'sentinel']);
  const scripts = (
    objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kq-redis-scripts') as
      | { data: Record<string, string> }
      | undefined
  )?.data;
  const manifestEnv = (name: string) => {
    const env = firstContainer(objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === name)).env;
    return Object.fromEntries(
      (env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]),
    );
  };
  const dataEnv = manifestEnv('kq-redis');
  const sentinelEnv = manifestEnv('kq-redis-sentinel');

  const dir = mkdtempSync(join(tmpdir(), 'kq-sentinel-set-'));
  for (const [f, text] of Object.entries(scripts ?? {})) writeFileSync(join(dir, f), text);
  const dataPorts: [number, number, number] = [await freePort(), await freePort(), await freePort()];
  const sentinelPorts: [number, number, number] = [await freePort(), await freePort(), await freePort()];
  const hosts = (ports: number[]) => ports.map((p) => `127.0.0.1:${p}`).join(' ');
  const shared = {
    PATH: process.env.PATH ?? '',
    REDIS_PASSWORD: PASSWORD,
    REDISCLI_AUTH: PASSWORD,
    ANNOUNCE_HOST: '127.0.0.1',
    BIND: '127.0.0.1',
    DATA_NODES: hosts(dataPorts),
    SENTINELS: hosts(sentinelPorts),
  };
  const envOf = (base: Record<string, string>, own: Record<string, string>) => ({
    ...Object.fromEntries(Object.entries(base).filter(([k]) => !LOCAL.includes(k))),
    ...shared,
    ...own,
  });
  const procs: ChildProcess[] = [];
  const start = (script: string, env: Record<string, string>): Started => {
    let out = '';
    const proc = trackProcess(
      script,
      spawn('sh', [join(dir, script)], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    procs.push(proc);
    return { proc, output: () => out };
  };
  const dataPodEnv = (i: number, own: Record<string, string> = {}) => {
    const data = join(dir, `data-${i}`);
    mkdirSync(data, { recursive: true });
    return envOf(dataEnv, { REDIS_PORT: String(dataPorts[i]), DATA_DIR: data, ...own });
  };
  const startSentinel = (i: number) => {
    const conf = join(dir, `sentinel-${i}`);
    mkdirSync(conf, { recursive: true });
    return start(
      'sentinel-start.sh',
      envOf(sentinelEnv, { SENTINEL_PORT: String(sentinelPorts[i]), CONF_DIR: conf, ...sentinelOwn }),
    );
  };
  return {
    dir,
    dataPorts,
    sentinelPorts,
    dataEnv,
    sentinelEnv,
    start,
    dataPodEnv,
    startData: (i) => start('redis-start.sh', dataPodEnv(i)),
    startSentinel,
    async close() {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await Promise.all(procs.map(exited));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
