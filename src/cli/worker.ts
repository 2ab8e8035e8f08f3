/** `kq worker`: runs the worker runtime until a signal, an empty queue (EXIT=1) or MAX_JOBS. */
import type { Command } from '../cli.js';
import { formatHelp, parseOptions } from '../config.js';
import { loadRegistry } from '../jobs/registry.js';
import { createLogger, redactUrl } from '../log.js';
import { chooseQueue, queueGiven } from '../worker/choose-queue.js';
import { workerOptionSpecs } from '../worker/options.js';
import { startWorker, type WorkerHandle } from '../worker/run-worker.js';

const summary =
  'Run a worker: take jobs from one queue (QUEUE, or the only queue of its handlers) and run their handlers';

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
    const given = queueGiven(argv, env) ? values.queue : undefined;
    values.queue = chooseQueue(jobs, given, values.handlers, values.queue);
    let handle: WorkerHandle | undefined;
    // A handler's stray rejection must not take the worker (and every other running job) down with it.
    process.on('unhandledRejection', (reason) => {
      log.error(
        { event: 'worker.unhandled-rejection', err: String(reason) },
        'unhandled rejection (ignored)',
      );
    });
    // An uncaught exception leaves the process in an unknown state: stop fetching, hand running jobs back
    // and exit 1 so the pod restarts (a second one while stopping changes nothing).
    process.on('uncaughtException', (err) => {
      log.error(
        { event: 'worker.uncaught-exception', err: err.message, stack: err.stack },
        'uncaught exception: the worker stops',
      );
      if (handle) handle.fail(`uncaught exception: ${err.message}`);
      else process.exit(1);
    });
    const onSignal = (signal: NodeJS.Signals) => {
      if (handle) return handle.shutdown(signal);
      // Still starting: nothing has been fetched yet, so leaving at once loses nothing.
      log.info({ event: 'worker.stopped', reason: signal, exitCode: 0 }, `${signal} before start: exiting`);
      process.exit(0);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    log.info(
      { event: 'worker.config', redis: redactUrl(values.redisUrl), prefix: values.prefix },
      'configuration',
    );
    handle = await startWorker(values, { jobs, log });
    const code = await handle.done;
    // Exit explicitly: a handler that ignored its abort signal may still hold timers or sockets.
    process.exit(code);
  },
};
