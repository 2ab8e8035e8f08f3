#!/usr/bin/env node
/**
 * `kq <command>`: a thin dispatcher. Each command lives in `src/cli/<command>.ts` and is imported only
 * when used, so a worker pod does not load the API's dependencies at start-up.
 *
 * Seed compatibility: with no command, `WORKER=1` runs the worker and anything else runs the API, so the
 * seed's manifests (`WORKER=1`, `EXIT=1`, `REDIS_CONNECTION_URL`) work unchanged.
 */
import nodeModule from 'node:module';
import type { OptionSpecs } from './config.js';

// V8's compiled code kept on disk (Node 22.1+; a no-op before): a later start reads it instead of
// compiling the bundle again. In the image the cache is written at build time (Dockerfile,
// NODE_COMPILE_CACHE). Called before anything else of kq loads: this module's static imports are
// compiled before its body runs, so the rest comes through import() below.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

export interface Command {
  summary: string;
  /** The usage line, e.g. `kq status [options]`; with `options`, the dispatcher prints `--help`. */
  usage?: string;
  /** The command's option specs: `--help` prints them (one place, not one copy per command). */
  options?: OptionSpecs;
  run(argv: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

const commands: Record<string, () => Promise<{ command: Command }>> = {
  worker: () => import('./cli/worker.js'),
  enqueue: () => import('./cli/enqueue.js'),
  status: () => import('./cli/status.js'),
  api: () => import('./cli/api.js'),
  dev: () => import('./cli/dev.js'),
  manifests: () => import('./cli/manifests.js'),
  init: () => import('./cli/init.js'),
  'metrics-adapter': () => import('./cli/metrics-adapter.js'),
  'keda-scaler': () => import('./cli/keda-scaler.js'),
  lab: () => import('./cli/lab.js'),
  queues: () => import('./cli/queues.js'),
  sweep: () => import('./cli/sweep.js'),
  schedules: () => import('./cli/schedules.js'),
};

async function usage(): Promise<string> {
  const lines = await Promise.all(
    Object.entries(commands).map(
      async ([name, load]) => `  ${name.padEnd(18)} ${(await load()).command.summary}`,
    ),
  );
  return `Usage: kq <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nWith no command: WORKER=1 runs the worker, otherwise the API.\nRun kq <command> --help for a command's options.\n`;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [{ formatHelp }, { ConfigError }] = await Promise.all([import('./config.js'), import('./errors.js')]);
  let [name, ...rest] = argv;
  if (name === undefined || name.startsWith('-')) {
    if (name === '--help' || name === '-h') {
      process.stdout.write(await usage());
      return 0;
    }
    rest = argv;
    name = /^(1|true|yes)$/i.test(env.WORKER ?? '') ? 'worker' : 'api';
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`kq: unknown command ${JSON.stringify(name)}.\n\n${await usage()}`);
    return 2;
  }
  try {
    const { command } = await load();
    if (command.options && command.usage && (rest.includes('--help') || rest.includes('-h'))) {
      process.stdout.write(formatHelp(`Usage: ${command.usage}`, command.summary, command.options));
      return 0;
    }
    return await command.run(rest, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kq ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`kq: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
