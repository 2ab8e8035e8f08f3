/**
 * The registry of job types a process knows: the built-in demo jobs, or those exported by the module
 * named in `HANDLERS`. A handlers module may export definitions as named exports, as a default export
 * (one definition or an array), or as an array named `jobs`.
 */
import { ConfigError, ValidationError } from '../errors.js';
import type { JobDefinition } from './define-job.js';
import type { QueueDefinition, QueueLimits } from './define-queue.js';
import { demoJobs } from './demo.js';
import { loadHandlerModule } from './load-handlers.js';

export interface JobRegistry {
  /** All definitions, in declaration order. */
  readonly all: readonly JobDefinition[];
  get(name: string): JobDefinition | undefined;
  /** The definition, or a `ValidationError` (UNKNOWN_JOB_TYPE) listing the known types. */
  require(name: string): JobDefinition;
  /** The definitions that run on `queue`. */
  forQueue(queue: string): JobDefinition[];
  /** Queue names with at least one job type. */
  queues(): string[];
  /** The limits the handlers module declares for `queue` (`defineQueue`); `{}` when none. */
  limits(queue: string): QueueLimits;
}

/** @example const registry = createRegistry([sleepJob]); registry.require('sleep') */
export function createRegistry(
  definitions: readonly JobDefinition[],
  queueDefinitions: readonly QueueDefinition[] = [],
): JobRegistry {
  const byName = new Map<string, JobDefinition>();
  for (const def of definitions) {
    if (byName.has(def.name) && byName.get(def.name) !== def) {
      throw new ConfigError(
        `Job type ${JSON.stringify(def.name)} is defined twice; job type names must be unique.`,
      );
    }
    byName.set(def.name, def);
  }
  const all = [...byName.values()];
  return {
    all,
    get: (name) => byName.get(name),
    require(name) {
      const def = byName.get(name);
      if (!def) {
        const known = all.map((d) => d.name);
        throw new ValidationError(
          'UNKNOWN_JOB_TYPE',
          `Unknown job type ${JSON.stringify(name)}. Known types: ${known.join(', ') || '(none)'}.`,
          { type: name, knownTypes: known },
        );
      }
      return def;
    },
    forQueue: (queue) => all.filter((d) => d.queue === queue),
    queues: () => [...new Set(all.map((d) => d.queue))],
    limits(queue) {
      const q = queueDefinitions.find((d) => d.name === queue);
      return q ? { rateLimit: q.rateLimit, globalConcurrency: q.globalConcurrency } : {};
    },
  };
}

/**
 * The registry of the handlers module at `path` (relative to the working directory), or of the demo jobs
 * when `path` is empty. Errors name the module and the problem (`load-handlers.ts`).
 * @example const registry = await loadRegistry(process.env.HANDLERS ?? '');
 */
export async function loadRegistry(path: string): Promise<JobRegistry> {
  if (!path) return createRegistry(demoJobs);
  const { definitions, queues } = await loadHandlerModule(path);
  return createRegistry(definitions, queues);
}
