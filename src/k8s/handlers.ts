/**
 * `kq manifests --handlers <module>`: an application's image runs its own job types. The module path is
 * where the image has it, relative to the image's WORKDIR (the scaffold's Dockerfile keeps the project's
 * layout: `dist/jobs.js`); run `kq manifests` in the project after `npm run build` and the same path reads
 * the built module here, for the queues its job types run on. Workers then take that queue, the API and
 * the workers load the same module (`HANDLERS`), and autoscalers watch that queue.
 */
import { ConfigError } from '../errors.js';
import { loadHandlers } from '../jobs/load-handlers.js';
import type { ManifestOptions } from './options.js';

const DEFAULT_QUEUE = 'jobs';

/**
 * Sets `o.queue` from the job types of `o.handlers` (unchanged without `--handlers`).
 * @example await applyHandlers(values); renderYaml('deployment', values);
 */
export async function applyHandlers(o: ManifestOptions): Promise<void> {
  if (!o.handlers) return;
  const definitions = await loadHandlers(o.handlers);
  const queues = [...new Set(definitions.map((d) => d.queue))];
  const types = (q: string) =>
    definitions
      .filter((d) => d.queue === q)
      .map((d) => d.name)
      .join(', ');
  if (queues.length > 1) {
    throw new ConfigError(
      `--handlers ${JSON.stringify(o.handlers)}: its job types run on ${queues.length} queues (${queues.map((q) => `${q}: ${types(q)}`).join('; ')}); one rendering runs workers for one queue. Put the types on one queue (defineJob's queue option), or render one approach per queue into its own --namespace.`,
      { option: 'handlers', value: o.handlers },
    );
  }
  const queue = queues[0] as string;
  if (o.queue !== DEFAULT_QUEUE && o.queue !== queue) {
    throw new ConfigError(
      `--queue ${o.queue} conflicts with --handlers ${JSON.stringify(o.handlers)}, whose job types (${types(queue)}) run on queue ${JSON.stringify(queue)}. Leave --queue out: it comes from the handlers.`,
      { option: 'queue', value: o.queue },
    );
  }
  o.queue = queue;
}
