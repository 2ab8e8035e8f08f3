/**
 * One job through an installed kq (a packed install, a played image): enqueue a `noop` job with that
 * install's CLI, then run its worker with EXIT=1 until it exits, as a CronJob pod would.
 */
import { execFileSync, spawn } from 'node:child_process';
import { trackProcess } from './leak-guard.js';

export interface InstalledRun {
  /** `node` arguments that run the install's CLI, e.g. `[<app>/node_modules/kq/dist/cli.js]`. */
  cliArgs: string[];
  /** Arguments after `cliArgs` that start the worker: `['worker']`, or `[]` with WORKER=1 (the seed's way). */
  workerArgs: string[];
  env: Record<string, string>;
  /** Extra env of the worker only (EXIT=1 and HEALTH_PORT=0 are always set). */
  workerEnv?: Record<string, string>;
  queue: string;
  cwd?: string;
  name: string;
}

/** @example const r = await oneJobThrough({ cliArgs: [cli], workerArgs: ['worker'], env, queue, name: 'image' }); */
export async function oneJobThrough(
  o: InstalledRun,
): Promise<{ id: string; code: number | null; stderr: string }> {
  const id = execFileSync(
    process.execPath,
    [...o.cliArgs, 'enqueue', 'noop', '{"n":1}', '--queue', o.queue],
    {
      cwd: o.cwd,
      env: o.env,
      encoding: 'utf8',
      timeout: 30_000,
    },
  ).trim();
  const worker = trackProcess(
    o.name,
    spawn(process.execPath, [...o.cliArgs, ...o.workerArgs], {
      cwd: o.cwd,
      env: { ...o.env, ...o.workerEnv, EXIT: '1', HEALTH_PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  worker.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((res, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${o.name} did not exit within 60 s\n${stderr}`)),
      60_000,
    );
    worker.once('exit', (c) => {
      clearTimeout(timer);
      res(c);
    });
  });
  return { id, code, stderr };
}
