/**
 * Loads a handlers module (`HANDLERS`, `--handlers`): an application's compiled JavaScript that exports
 * job definitions. Every way it can go wrong gets a `ConfigError` naming the module and the problem, with
 * the fix: a missing or TypeScript file (build first), `kq` not installed next to the module (install it
 * into the application), a module that throws while loading, one that exports no definitions, or two
 * definitions with one name.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { isJobDefinition, type JobDefinition } from './define-job.js';
import { isQueueDefinition, type QueueDefinition } from './define-queue.js';

/** A definition and where the module exports it (`report`, `default`, `jobs[1]`). */
export interface ExportedDefinition {
  definition: JobDefinition;
  exportName: string;
}

function fail(path: string, file: string, problem: string, fix: string, cause?: unknown): ConfigError {
  return new ConfigError(
    `HANDLERS (--handlers) ${JSON.stringify(path)}: ${problem} ${fix}`,
    { option: 'handlers', value: path, module: file, problem },
    cause === undefined ? undefined : { cause },
  );
}

/** `Cannot find package 'x' imported from /y` -> x, for Node's ERR_MODULE_NOT_FOUND. */
function missingPackage(err: NodeJS.ErrnoException): string | undefined {
  if (err.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  return /Cannot find package '([^']+)'/.exec(err.message)?.[1];
}

function importError(path: string, file: string, err: unknown): ConfigError {
  const e = err as NodeJS.ErrnoException;
  const pkg = missingPackage(e);
  if (pkg === 'kq') {
    return fail(
      path,
      file,
      `it imports 'kq', which is not installed in the application that holds ${file}.`,
      'Install kq into that application (npm install kq, or a packed tarball or git URL: docs/your-jobs.md), so the module resolves kq from its own node_modules.',
      err,
    );
  }
  if (pkg) {
    return fail(
      path,
      file,
      `it imports the package '${pkg}', which is not installed where ${file} can find it.`,
      `Add it to the application's dependencies (npm install ${pkg}).`,
      err,
    );
  }
  if (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'ERR_UNSUPPORTED_DIR_IMPORT') {
    return fail(path, file, `one of its imports cannot be resolved: ${e.message}.`, 'Fix that import.', err);
  }
  // The frame in the module itself says where; kq's own frames (defineJob's checks) would not.
  const url = pathToFileURL(file).href;
  const frames = e.stack?.split('\n') ?? [];
  const at =
    frames
      .find((l) => l.includes(url))
      ?.trim()
      .replace(/^at /, '') ?? file;
  return fail(
    path,
    file,
    `it threw while loading (at ${at}): ${e instanceof Error ? `${e.name}: ${e.message}` : String(err)}`,
    'kq loads this module at start-up, before any job runs: fix the error above.',
    err,
  );
}

function collect(mod: Record<string, unknown>): {
  found: ExportedDefinition[];
  queues: { queue: QueueDefinition; exportName: string }[];
} {
  const found: ExportedDefinition[] = [];
  const queues: { queue: QueueDefinition; exportName: string }[] = [];
  const visit = (value: unknown, exportName: string) => {
    if (isJobDefinition(value)) found.push({ definition: value, exportName });
    else if (isQueueDefinition(value)) queues.push({ queue: value, exportName });
    else if (Array.isArray(value)) for (const [i, v] of value.entries()) visit(v, `${exportName}[${i}]`);
  };
  for (const [name, value] of Object.entries(mod)) visit(value, name);
  return { found, queues };
}

/** One `defineQueue` per queue, and only for queues a job type runs on (a typo would limit nothing). */
function queueSettings(
  path: string,
  file: string,
  definitions: JobDefinition[],
  queues: { queue: QueueDefinition; exportName: string }[],
): QueueDefinition[] {
  const used = [...new Set(definitions.map((d) => d.queue))];
  const byName = new Map<string, { queue: QueueDefinition; exportName: string }>();
  for (const entry of queues) {
    const seen = byName.get(entry.queue.name);
    if (seen && seen.queue !== entry.queue) {
      throw fail(
        path,
        file,
        `it declares queue ${JSON.stringify(entry.queue.name)} twice (exports \`${seen.exportName}\` and \`${entry.exportName}\`).`,
        'Declare each queue once with defineQueue().',
      );
    }
    if (!used.includes(entry.queue.name)) {
      throw fail(
        path,
        file,
        `it declares queue ${JSON.stringify(entry.queue.name)} (export \`${entry.exportName}\`), on which none of its job types runs (their queues: ${used.join(', ')}).`,
        "Name a queue of its job types in defineQueue(), or set the job's queue (defineJob({ queue }))",
      );
    }
    byName.set(entry.queue.name, entry);
  }
  return [...byName.values()].map((e) => e.queue);
}

/** Unique definitions in export order; two different definitions with one name are an error. */
function unique(path: string, file: string, found: ExportedDefinition[]): JobDefinition[] {
  const byName = new Map<string, ExportedDefinition>();
  for (const entry of found) {
    const seen = byName.get(entry.definition.name);
    if (!seen) byName.set(entry.definition.name, entry);
    else if (seen.definition !== entry.definition) {
      throw fail(
        path,
        file,
        `it exports two job types named ${JSON.stringify(entry.definition.name)} (exports \`${seen.exportName}\` and \`${entry.exportName}\`).`,
        'Job type names must be unique: rename one of them.',
      );
    }
  }
  return [...byName.values()].map((e) => e.definition);
}

/**
 * Imports the handlers module at `path` (relative to the working directory) and returns its job
 * definitions, in export order.
 * @example const defs = await loadHandlers('./dist/jobs.js');
 */
export async function loadHandlers(path: string): Promise<JobDefinition[]> {
  return (await loadHandlerModule(path)).definitions;
}

/**
 * The job definitions and the queue declarations (`defineQueue`) of the handlers module at `path`.
 * @example const { definitions, queues } = await loadHandlerModule('./dist/jobs.js');
 */
export async function loadHandlerModule(
  path: string,
): Promise<{ definitions: JobDefinition[]; queues: QueueDefinition[] }> {
  const file = isAbsolute(path) ? path : resolve(process.cwd(), path);
  const build =
    'Build the application first (npm run build) and pass the JavaScript it produces, e.g. dist/jobs.js.';
  if (/\.(c|m)?tsx?$/.test(file))
    throw fail(path, file, 'it is a TypeScript file, which Node does not run.', build);
  if (!existsSync(file)) throw fail(path, file, `there is no file at ${file}.`, build);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw importError(path, file, err);
  }
  const { found, queues } = collect(mod);
  if (found.length === 0) {
    const names = Object.keys(mod);
    throw fail(
      path,
      file,
      `it exports no job definitions (its exports: ${names.length ? names.join(', ') : 'none'}).`,
      'Export each job made by defineJob() from kq, e.g. `export const report = defineJob({ ... })`.',
    );
  }
  const definitions = unique(path, file, found);
  return { definitions, queues: queueSettings(path, file, definitions, queues) };
}
