/** `kq sweep`: hand orphans back and move due retries to wait, then exit; runs no job. */
import type { Command } from '../cli.js';
import { formatHelp, parseOptions } from '../config.js';
import { createLogger, redactUrl } from '../log.js';
import { sweepOptionSpecs, sweepQueue } from '../worker/sweep.js';

const summary = 'Move orphans and due retries of one queue back to wait, run nothing, and exit';

export const command: Command = {
  summary,
  async run(argv, env) {
    const { values, help } = parseOptions(sweepOptionSpecs, argv, env);
    if (help) {
      process.stdout.write(formatHelp('Usage: kq sweep [options]', summary, sweepOptionSpecs));
      return 0;
    }
    const log = createLogger({ component: 'sweep' });
    log.info(
      { event: 'sweep.config', redis: redactUrl(values.redisUrl), prefix: values.prefix },
      'configuration',
    );
    try {
      await sweepQueue(values, { log });
      return 0;
    } catch (err) {
      log.error(
        { event: 'sweep.failed', err: (err as Error).message },
        `sweep failed: ${(err as Error).message}`,
      );
      return 1;
    }
  },
};
