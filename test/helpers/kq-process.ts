/**
 * Runs the built CLI (`dist/cli.js`) as a real child process and reads its JSON log lines.
 * `npm test` builds first, so tests exercise what ships.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { trackProcess } from './leak-guard.js';
import { waitFor } from './wait.js';

export const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

export interface LogLine {
  event?: string;
  msg?: string;
  jobId?: string;
  [k: string]: unknown;
}

export interface KqProcess {
  proc: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: LogLine[];
  /** Raw stdout + stderr. */
  output(): string;
  waitForLog(what: string, match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or 128 + signal number style name) once the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** @example const w = spawnKq(['worker'], { REDIS_URL: url, QUEUE: q, HEALTH_PORT: '0' }); */
export function spawnKq(
  args: string[],
  env: Record<string, string>,
  name = `kq ${args.join(' ')}`,
): KqProcess {
  const proc = trackProcess(
    name,
    spawn(process.execPath, [CLI, ...args], {
      // SHUTDOWN_DRAIN_MS 0: the API's 5 s endpoint drain on SIGTERM is for a Service's endpoints to
      // catch up; a test of the drain sets it (test/api/shutdown.test.ts), the rest would only wait.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        LOG_LEVEL: 'info',
        SHUTDOWN_DRAIN_MS: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const logs: LogLine[] = [];
  let raw = '';
  let partial = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    raw += text;
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        /* not a log line */
      }
    }
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.once('exit', (code, signal) => res({ code, signal })),
  );
  return {
    proc,
    logs,
    output: () => raw,
    waitForLog: (what, match, timeoutMs = 15_000) =>
      waitFor(`${name}: ${what}\n--- output so far:\n${raw.slice(-3000)}`, () => logs.find(match), {
        timeoutMs,
      }),
    exited,
    async waitForExit(timeoutMs = 15_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`${name} did not exit within ${timeoutMs} ms\n--- output:\n${raw.slice(-3000)}`),
            ),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill: (signal = 'SIGTERM') => {
      proc.kill(signal);
    },
  };
}

/** True while a process with this pid exists (signal 0 checks without signalling). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
