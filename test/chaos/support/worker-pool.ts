/**
 * A pool of real `kq worker` processes that a scenario starts, kills, and restarts, keeping every process it
 * ever ran (and so every log line) for the counts. Closing it SIGTERMs what is still alive, waits a bounded
 * time, then SIGKILLs the rest.
 */
import { resolve } from 'node:path';
import { type KqProcess, type LogLine, spawnKq } from '../../helpers/kq-process.js';

export const CHAOS_HANDLERS = resolve(import.meta.dirname, '../../fixtures/chaos-handlers.mjs');

export interface WorkerPool {
  /** Every process started so far, in start order. */
  readonly all: KqProcess[];
  live(): KqProcess[];
  spawn(extraEnv?: Record<string, string>): KqProcess;
  /** All log lines of all processes, each with the pid of its process. */
  logs(): (LogLine & { pid: number })[];
  close(timeoutMs?: number): Promise<void>;
}

export const isAlive = (p: KqProcess) => p.proc.exitCode === null && p.proc.signalCode === null;

/** @example const pool = createWorkerPool({ REDIS_URL, QUEUE, HANDLERS: CHAOS_HANDLERS }); pool.spawn(); */
export function createWorkerPool(env: Record<string, string>): WorkerPool {
  const all: KqProcess[] = [];
  return {
    all,
    live: () => all.filter(isAlive),
    spawn(extraEnv = {}) {
      const p = spawnKq(['worker'], { HEALTH_PORT: '0', ...env, ...extraEnv }, `kq worker #${all.length}`);
      all.push(p);
      return p;
    },
    logs: () => all.flatMap((p) => p.logs.map((l) => ({ ...l, pid: p.proc.pid ?? 0 }))),
    async close(timeoutMs = 10_000) {
      const alive = all.filter(isAlive);
      for (const p of alive) p.kill('SIGTERM');
      await Promise.all(
        alive.map((p) =>
          p.waitForExit(timeoutMs).catch(() => {
            p.kill('SIGKILL');
            return p.exited;
          }),
        ),
      );
    },
  };
}

/** Milliseconds since the epoch of a pino log line (`time` is ISO). */
export const logTime = (l: LogLine): number => Date.parse(String(l.time));
