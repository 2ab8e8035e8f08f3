/** `kq worker`: runs the worker runtime until a signal, an empty queue (EXIT=1) or MAX_JOBS. */
import type { Command } from '../cli.js';
import { formatHelp, parseOptions } from '../config.js';
import { loadRegistry } from '../jobs/registry.js';
import { createLogger, redactUrl } from '../log.js';
import { workerOptionSpecs } from '../worker/options.js';
import { startWorker } from '../worker/run-worker.js';

const summary = 'Run a worker: take jobs from one queue and run their handlers';

export const command: Command = {
  summary,
  async run(argv, env) {
    const { values, help } = parseOptions(workerOptionSpecs, argv, env);
    if (help) {
      process.stdout.write(formatHelp('Usage: kq worker [options]', summary, workerOptionSpecs));
      return 0;
    }
    const log = createLogger({ component: 'worker' });
    const jobs = await loadRegistry(values.handlers);
    // A handler's stray error must not take the worker (and every other running job) down with it.
    process.on('unhandledRejection', (reason) => {
      log.error(
        { event: 'worker.unhandled-rejection', err: String(reason) },
        'unhandled rejection (ignored)',
      );
    });
    process.on('uncaughtException', (err) => {
      log.error(
        { event: 'worker.uncaught-exception', err: err.message, stack: err.stack },
        'uncaught exception (ignored)',
      );
    });
    log.info(
      { event: 'worker.config', redis: redactUrl(values.redisUrl), prefix: values.prefix },
      'configuration',
    );
    const handle = await startWorker(values, { jobs, log });
    process.on('SIGTERM', () => handle.shutdown('SIGTERM'));
    process.on('SIGINT', () => handle.shutdown('SIGINT'));
    const code = await handle.done;
    // Exit explicitly: a handler that ignored its abort signal may still hold timers or sockets.
    process.exit(code);
  },
};
