/**
 * Child processes of `kq dev`: each in its own process group (so a terminal Ctrl-C reaches only
 * `kq dev`, which then sends each child exactly one SIGTERM, in order), with its output shown line by line.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
  signal(sig: NodeJS.Signals): void;
}

/** @example const w = spawnChild('worker-1', cliPath, ['worker'], env, (name, line) => console.log(line)); */
export function spawnChild(
  name: string,
  cli: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onLine: (name: string, line: string) => void,
): Child {
  const proc = spawn(process.execPath, [cli, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(name, line);
    });
    stream?.on('end', () => {
      if (partial.trim()) onLine(name, partial);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', () => resolve({ code: 1, signal: null }));
  });
  return {
    name,
    proc,
    exited,
    get running() {
      return proc.exitCode === null && proc.signalCode === null;
    },
    signal(sig) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    },
  };
}
