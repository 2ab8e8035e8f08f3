/**
 * A ScaledJob played with the sweeper CronJob rendered beside it (`kq-worker-sweeper`, approach
 * `keda-scaledjob`): both controllers tick together; the sweeper's figures are reported with a `sweeper`
 * prefix (`sweeperJobsStarted`, ...).
 */
import { WORKER_NAME } from '../../k8s/common.js';
import type { Controller, ControllerDeps } from './controller.js';
import { cronJobController } from './cron-job.js';
import type { RenderedObject } from './objects.js';

export const SWEEPER_NAME = `${WORKER_NAME}-sweeper`;

/** True when the approach renders the sweeper CronJob. */
export const hasSweeper = (objects: readonly RenderedObject[]): boolean =>
  objects.some((o) => o.kind === 'CronJob' && o.metadata?.name === SWEEPER_NAME);

/** `main` plus the rendered sweeper CronJob, when the approach renders one. */
export function withSweeper(
  main: Controller,
  objects: readonly RenderedObject[],
  deps: ControllerDeps,
): Controller {
  if (!hasSweeper(objects)) return main;
  const sweeper = cronJobController(objects, deps, SWEEPER_NAME, 'sweeper');
  return {
    tailMs: Math.max(main.tailMs, sweeper.tailMs),
    notes: [...main.notes, ...sweeper.notes],
    atRest() {
      main.atRest();
      sweeper.atRest();
    },
    async tick(now) {
      await main.tick(now);
      await sweeper.tick(now);
    },
    suspend() {
      main.suspend?.();
      sweeper.suspend?.();
    },
    busy: () => Boolean(main.busy?.() || sweeper.busy?.()),
    stats() {
      const out = { ...main.stats() };
      for (const [k, v] of Object.entries(sweeper.stats()))
        out[`sweeper${k[0]?.toUpperCase()}${k.slice(1)}`] = v;
      return out;
    },
  };
}
