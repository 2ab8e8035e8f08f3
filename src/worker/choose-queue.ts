/**
 * Which queue a worker serves. A worker takes one queue: with `QUEUE` given, that one; without it, the
 * single queue of its handlers' job types. Handlers whose types span several queues are a configuration
 * error (exit 2) rather than a worker that silently serves one of them while the others' jobs wait
 * forever: run one worker per queue (`kq manifests` renders one workload per queue; `kq dev` starts
 * workers for each).
 */
import { ConfigError } from '../errors.js';
import type { JobRegistry } from '../jobs/registry.js';

/** True when `QUEUE` / `--queue` was set (not just defaulted). */
export function queueGiven(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.some((a) => a === '--queue' || a.startsWith('--queue=')) || Boolean(env.QUEUE);
}

/** "queue "a" (t1, t2), queue "b" (t3)": the queues of `jobs` with their types, for messages. */
export function describeQueues(jobs: JobRegistry): string {
  return jobs
    .queues()
    .map(
      (q) =>
        `queue ${JSON.stringify(q)} (${jobs
          .forQueue(q)
          .map((d) => d.name)
          .join(', ')})`,
    )
    .join(', ');
}

/**
 * The queue to serve: `given` when set, else the handlers' only queue (`fallback` when they have none).
 * @example const queue = chooseQueue(jobs, queueGiven(argv, env) ? values.queue : undefined, values.handlers, 'jobs');
 */
export function chooseQueue(
  jobs: JobRegistry,
  given: string | undefined,
  handlers: string,
  fallback: string,
): string {
  if (given !== undefined) return given;
  const queues = jobs.queues();
  if (queues.length <= 1) return queues[0] ?? fallback;
  throw new ConfigError(
    `HANDLERS ${JSON.stringify(handlers)} has job types on ${queues.length} queues: ${describeQueues(jobs)}. A worker serves one queue: set QUEUE (--queue) to one of ${queues.map((q) => JSON.stringify(q)).join(', ')} and run one worker per queue (kq manifests renders one workload per queue; kq dev starts workers for each).`,
    { option: 'QUEUE', value: '', queues },
  );
}
