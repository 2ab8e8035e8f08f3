/**
 * One of each long-running kq command on one Redis, as real processes: `kq worker` (with a health port),
 * `kq api`, `kq keda-scaler` and `kq metrics-adapter`, started and listening, and stopped the way
 * Kubernetes stops them. For scenarios that fault Redis and check that every process comes back.
 */
import { type KqProcess, spawnKq } from '../../helpers/kq-process.js';
import { freePort } from '../../helpers/redis-server.js';
import { type ApiProcess, startApi, stopApi } from './api-process.js';
import { CHAOS_HANDLERS } from './worker-pool.js';

export interface KqFleet {
  api: ApiProcess;
  worker: KqProcess;
  /** The worker's /healthz and /readyz. */
  workerPort: number;
  scaler: KqProcess;
  /** The scaler's gRPC port and its health port. */
  scalerPort: number;
  scalerHealthPort: number;
  adapter: KqProcess;
  adapterPort: number;
  /** Every process of the fleet. */
  all: KqProcess[];
  /** SIGTERM each, SIGKILL what is still running 10 s later. */
  stop(): Promise<void>;
}

export interface FleetOptions {
  /** Given to every process (REDIS_URL at least). */
  env: Record<string, string>;
  /** The worker's queue; it runs the chaos job types. */
  queue: string;
  /** `kq metrics-adapter` flags after `--secure-port=0 --bind-address=127.0.0.1` (TLS or not). */
  adapterArgs: string[];
  /** Extra env for the API (AUTH is none). */
  apiEnv?: Record<string, string>;
}

/** @example const fleet = await startKqFleet({ env: { REDIS_URL }, queue, adapterArgs: ['--insecure-no-client-auth'] }); */
export async function startKqFleet(o: FleetOptions): Promise<KqFleet> {
  const { worker, port: workerPort } = await startWorkerOnFreePort(o);
  const scaler = spawnKq(['keda-scaler'], { ...o.env, SCALER_PORT: '0', HEALTH_PORT: '0' });
  const adapter = spawnKq(
    ['metrics-adapter', '--secure-port=0', '--bind-address=127.0.0.1', ...o.adapterArgs],
    o.env,
  );
  const spawned = [worker, scaler, adapter];
  let api: ApiProcess | undefined;
  const stop = async () => {
    if (api) await stopApi(api);
    for (const p of spawned) {
      p.kill('SIGTERM');
      await p.waitForExit(10_000).catch(() => p.kill('SIGKILL'));
    }
  };
  try {
    api = await startApi({ ...o.env, AUTH: 'none', ...o.apiEnv });
    const listening = await scaler.waitForLog('listening', (l) => l.event === 'keda-scaler.listening');
    const adapterLine = await adapter.waitForLog('listening', (l) => l.event === 'metrics-adapter.listening');
    return {
      api,
      worker,
      workerPort,
      scaler,
      scalerPort: listening.port as number,
      scalerHealthPort: listening.healthPort as number,
      adapter,
      adapterPort: adapterLine.port as number,
      all: [api.proc, ...spawned],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * `kq worker` with its health server on a port picked free here, started. A parallel test may take that
 * port before the worker binds it; the worker then exits 2 naming HEALTH_PORT, and a new port is tried
 * (3 times at most).
 */
async function startWorkerOnFreePort(o: FleetOptions): Promise<{ worker: KqProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const worker = spawnKq(['worker'], {
      ...o.env,
      QUEUE: o.queue,
      HANDLERS: CHAOS_HANDLERS,
      HEALTH_PORT: String(port),
    });
    const started = worker.waitForLog('started', (l) => l.event === 'worker.started', 30_000);
    const outcome = await Promise.race([
      started.then(() => 'started' as const),
      worker.exited.then(() => 'exited' as const),
    ]);
    if (outcome === 'started') return { worker, port };
    started.catch(() => undefined);
    const portTaken = /HEALTH_PORT \d+ is already in use/.test(worker.output());
    if (!portTaken || attempt === 3)
      throw new Error(`kq worker exited before it started: ${worker.output().slice(-1500)}`);
  }
}
