/**
 * `kq manifests --handlers <module>`: an application's image runs its own job types. The module path is
 * where the image has it, relative to the image's WORKDIR (the scaffold's Dockerfile keeps the project's
 * layout: `dist/jobs.js`); run `kq manifests` in the project after `npm run build` and the same path reads
 * the built module here, for the queues its job types run on. Workers then take those queues (one
 * workload per queue when there are several: `per-queue.ts`), the API and the workers load the same
 * module (`HANDLERS`), and each autoscaler watches its workers' queue.
 */
import { ConfigError } from '../errors.js';
import type { JobDefinition } from '../jobs/define-job.js';
import { loadHandlerModule } from '../jobs/load-handlers.js';
import type { ManifestOptions } from './options.js';
import { queueWorkerName } from './per-queue.js';

const DEFAULT_QUEUE = 'jobs';

/**
 * A CronJob's name is at most 52 characters (Kubernetes appends 11 to name its Jobs), the tightest
 * limit among the worker workloads; the longest CronJob kq derives from a worker name is
 * keda-scaledjob's sweeper, `<worker name>-sweeper`, so a worker name gets 52 - 8. The other derived
 * names stay DNS labels too (KEDA's HPA `keda-hpa-<name>`, a ScaledJob's Jobs `<name>-xxxxx`).
 */
export const MAX_WORKER_NAME = 52 - '-sweeper'.length;
/** The longest queue name that makes a worker name (`kq-worker-<queue>`); docs quote it (a test checks). */
export const MAX_MANIFEST_QUEUE_NAME = MAX_WORKER_NAME - queueWorkerName('').length;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `kq-worker-<queue>` for each queue, or a ConfigError naming the queue that cannot make one. */
function checkWorkerNames(handlers: string, queues: string[], types: (q: string) => string): void {
  for (const queue of queues) {
    const name = queueWorkerName(queue);
    if (DNS_LABEL.test(name) && name.length <= MAX_WORKER_NAME) continue;
    const rule = `must be a DNS-1123 label of at most ${MAX_WORKER_NAME} characters: lower-case letters, digits and "-", starting and ending with a letter or digit (so a queue name of at most ${MAX_MANIFEST_QUEUE_NAME} such characters)`;
    throw new ConfigError(
      `--handlers ${JSON.stringify(handlers)}: queue ${JSON.stringify(queue)} (job types: ${types(queue)}) cannot name its workers: ${JSON.stringify(name)} ${rule}. Rename the queue (defineJob's queue option), e.g. ${JSON.stringify(suggestion(queue))}.`,
      { option: 'handlers', value: handlers, queue, rule },
    );
  }
}

function suggestion(queue: string): string {
  const label = queue
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_MANIFEST_QUEUE_NAME)
    .replace(/^-+|-+$/g, '');
  return label || 'work';
}

/**
 * Sets `o.queue` from the job types of `o.handlers` (unchanged without `--handlers`); when they run on
 * several queues, `o.queues` too, and every approach renders its workers once per queue. Returns the
 * module's definitions (none without `--handlers`).
 * @example await applyHandlers(values); renderYaml('deployment', values);
 */
export async function applyHandlers(o: ManifestOptions): Promise<readonly JobDefinition[]> {
  if (!o.handlers) return [];
  const { definitions, queues: declared } = await loadHandlerModule(o.handlers);
  o.queueLimits = Object.fromEntries(
    declared.map((q) => [q.name, { rateLimit: q.rateLimit, globalConcurrency: q.globalConcurrency }]),
  );
  const queues = [...new Set(definitions.map((d) => d.queue))];
  const types = (q: string) =>
    definitions
      .filter((d) => d.queue === q)
      .map((d) => d.name)
      .join(', ');
  if (o.queue !== DEFAULT_QUEUE && (queues.length > 1 || o.queue !== queues[0])) {
    throw new ConfigError(
      `--queue ${o.queue} conflicts with --handlers ${JSON.stringify(o.handlers)}, whose job types run on ${queues.map((q) => `queue ${JSON.stringify(q)} (${types(q)})`).join(', ')}. Leave --queue out: the queues come from the handlers.`,
      { option: 'queue', value: o.queue },
    );
  }
  if (queues.length > 1) {
    checkWorkerNames(o.handlers, queues, types);
    o.queues = queues;
  }
  o.queue = queues[0] as string;
  return definitions;
}
