/**
 * `kq dev`: everything on one machine for trying kq out. Redis (found or started, see find-redis.ts),
 * the API on 127.0.0.1 without auth, and N worker processes on each queue of the job types (a worker serves
 * one queue), each a real `kq` child process.
 *
 * States: starting -> running -> stopping -> stopped. A signal (Ctrl-C, SIGTERM) stops the API first (no
 * new jobs; no drain period, as no load balancer sends it traffic), then sends each worker one SIGTERM
 * (they finish running jobs, up to SHUTDOWN_TIMEOUT_MS), and stops a private Redis last, after everything
 * that uses it. A second signal tells the workers to hand their jobs back now: each gets its second
 * SIGTERM only once it has logged the first (two signals sent back to back can merge into one). A child
 * that dies on its own stops everything with exit code 1.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JobDefinition } from '../jobs/define-job.js';
import type { RedisAuth } from '../queue/redis-url.js';
import { type Child, spawnChild } from './children.js';
import { type DevRedis, findRedis } from './find-redis.js';
import { formatLogLine } from './log-format.js';

export interface DevOptions {
  port: number;
  /** Worker processes per queue. */
  workers: number;
  /** The queues to start workers for: every queue of the job types, or the one `QUEUE` names. */
  queues: string[];
  /** The handlers' job types, for the curl hint (a type they know); unset = the demo jobs. */
  hint?: readonly JobDefinition[] | undefined;
  /** REDIS_URL, or '' to find or start one. */
  redisUrl: string;
  /** `REDIS_PASSWORD` / `REDIS_SENTINEL_PASSWORD`, for the probe and passed on to the children. */
  auth?: RedisAuth;
  fallbackRedisUrl: string;
  env: NodeJS.ProcessEnv;
  /** Where human-readable lines go. @default process.stdout */
  out?: (line: string) => void;
}

// `dist/cli.js`, seen from `dist/dev/` (tsc output) or `dist/chunks/` (the bundle); else the running script.
const besideDist = fileURLToPath(new URL('../cli.js', import.meta.url));
const CLI = existsSync(besideDist) ? besideDist : (process.argv[1] ?? besideDist);
const HOST = '127.0.0.1';

/** Resolves with the exit code once everything has stopped. */
export async function runDev(o: DevOptions): Promise<number> {
  const out = o.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const say = (line: string) => out(`[dev] ${line}`);
  let redis: DevRedis;
  try {
    redis = await findRedis({
      redisUrl: o.redisUrl || undefined,
      fallbackUrl: o.fallbackRedisUrl,
      ...(o.auth ? { auth: o.auth } : {}),
    });
  } catch (err) {
    say((err as Error).message);
    return 1;
  }
  if (redis.source === 'private')
    say(`started a private redis-server at ${redis.url} (pid ${redis.pid}, stopped on exit)`);

  const env: NodeJS.ProcessEnv = { ...o.env, REDIS_URL: redis.url, HEALTH_PORT: '0' };
  delete env.QUEUE;
  delete env.REDIS_CONNECTION_URL;
  if (o.auth?.password) env.REDIS_PASSWORD = o.auth.password;
  if (o.auth?.sentinelPassword) env.REDIS_SENTINEL_PASSWORD = o.auth.sentinelPassword;
  let state: 'starting' | 'running' | 'stopping' = 'starting';
  let exitCode = 0;
  let apiReady: (port: number | undefined) => void = () => undefined;
  const apiListening = new Promise<number | undefined>((r) => {
    apiReady = r;
  });
  /** Workers that logged their first SIGTERM, and whether a second signal asked them to hurry. */
  const stopping = new Set<string>();
  let hurry = false;
  const onLine = (name: string, line: string) => {
    if (line.includes('"worker.shutting-down"') && !stopping.has(name)) {
      stopping.add(name);
      if (hurry) workers.find((w) => w.name === name)?.signal('SIGTERM');
    }
    if (name === 'api' && line.includes('"api.listening"')) {
      try {
        apiReady((JSON.parse(line) as { port?: number }).port);
      } catch {
        apiReady(o.port);
      }
    }
    out(formatLogLine(name, line));
  };

  const api = spawnChild(
    'api',
    CLI,
    ['api', '--no-auth', '--host', HOST, '--port', String(o.port), '--shutdown-drain-ms', '0'],
    env,
    onLine,
  );
  const workers: Child[] = [];
  for (const queue of o.queues) {
    const stem = o.queues.length > 1 ? `worker-${queue}` : 'worker';
    for (let i = 1; i <= o.workers; i++)
      workers.push(spawnChild(`${stem}-${i}`, CLI, ['worker'], { ...env, QUEUE: queue }, onLine));
  }
  const children = [api, ...workers];
  for (const c of children) say(`started ${c.name} (pid ${c.proc.pid})`);

  let signals = 0;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });
  async function stop(code: number, why: string) {
    if (state === 'stopping') return;
    state = 'stopping';
    exitCode = code;
    say(
      `stopping (${why}): API first, then workers (they finish running jobs), then Redis. Press Ctrl-C again to hand running jobs back now.`,
    );
    api.signal('SIGTERM');
    await api.exited;
    for (const w of workers) w.signal('SIGTERM');
    const killer = setTimeout(() => {
      for (const c of children) c.signal('SIGKILL');
    }, 60_000);
    await Promise.all(workers.map((w) => w.exited));
    clearTimeout(killer);
    await redis.stop();
    say('stopped');
    resolveStopped();
  }
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) void stop(0, sig);
    else if (signals === 2) {
      say(`${sig} again: workers hand their running jobs back now (Ctrl-C a third time kills them)`);
      hurry = true;
      for (const w of workers) if (stopping.has(w.name)) w.signal('SIGTERM');
      // A worker that never logs its first SIGTERM (LOG_LEVEL=warn, or stuck) is killed.
      setTimeout(() => {
        for (const c of children) c.signal('SIGKILL');
      }, 10_000).unref();
    } else {
      say(`${sig} a third time: killing the children now`);
      for (const c of children) c.signal('SIGKILL');
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (const c of children) {
    void c.exited.then(({ code, signal }) => {
      if (state !== 'stopping') {
        say(`${c.name} exited on its own (code ${code}, signal ${signal}): stopping everything`);
        void stop(1, `${c.name} exited`);
      }
    });
  }

  const port = await Promise.race([apiListening, api.exited.then(() => undefined)]);
  if (state === 'starting' && port !== undefined) {
    state = 'running';
    const base = `http://${HOST}:${port}`;
    out('');
    const each = o.queues.length > 1 ? ' each' : '';
    out(
      `  kq dev is running (${o.workers} worker${o.workers === 1 ? '' : 's'}${each} on queue${o.queues.length > 1 ? 's' : ''} ${o.queues.map((q) => `"${q}"`).join(', ')}, Redis ${redis.url}${redis.source === 'private' ? ', private' : ''})`,
    );
    out(`  API        ${base}`);
    out(`  Docs       ${base}/docs`);
    out(`  Dashboard  ${base}/ui`);
    out('');
    out('  Try:');
    const { body, note } = curlBody(o.hint);
    out(`  curl -s -X POST ${base}/jobs -H 'content-type: application/json' -d '${body}'`);
    if (note) out(`  (${note}: see ${base}/docs)`);
    out(`  curl -s ${base}/jobs/<id>`);
    out('');
    out('  Ctrl-C stops everything (running jobs finish first; Ctrl-C twice hands them back now).');
    out('');
  }
  await stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return exitCode;
}

/**
 * The curl hint's body: a demo `sleep`, or a type the handlers know, preferring one whose schema accepts
 * an empty payload (the line then works as printed).
 * @example curlBody(registry.all) // { body: '{"type":"thumbnail","data":{}}' }
 */
export function curlBody(types: readonly JobDefinition[] | undefined): { body: string; note?: string } {
  const def = types?.find((d) => d.schema.safeParse({}).success) ?? types?.[0];
  if (!types || !def) return { body: '{"type":"sleep","data":{"seconds":2}}' };
  // Type names are letters, digits, "_", "." and "-" (defineJob): nothing to escape for the shell.
  const body = JSON.stringify({ type: def.name, data: {} });
  return def.schema.safeParse({}).success ? { body } : { body, note: `fill in the payload of "${def.name}"` };
}
