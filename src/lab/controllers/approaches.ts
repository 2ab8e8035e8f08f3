/** One controller per approach, built from that approach's rendered objects. */
import type { ApproachName } from '../../k8s/render.js';
import type { Controller, ControllerDeps } from './controller.js';
import { cronJobController, cronJobTailMs } from './cron-job.js';
import { deploymentController } from './deployment.js';
import { hpaController, hpaTailMs } from './external-hpa.js';
import { kedaExternalController, kedaExternalJobController } from './keda-external.js';
import type { RenderedObject } from './objects.js';
import { scaledJobController, scaledJobTailMs } from './scaled-job.js';
import { scaledObjectController, scaledObjectTailMs } from './scaled-object.js';
import { hasSweeper, SWEEPER_NAME, withSweeper } from './with-sweeper.js';

export function buildController(
  name: ApproachName,
  objects: readonly RenderedObject[],
  deps: ControllerDeps,
): Controller {
  switch (name) {
    case 'deployment':
      return deploymentController(objects, deps);
    case 'cronjob':
      return cronJobController(objects, deps);
    case 'keda-scaledobject':
      return scaledObjectController(objects, deps);
    case 'keda-scaledjob':
      return withSweeper(scaledJobController(objects, deps), objects, deps);
    case 'hpa-prometheus':
    case 'hpa-adapter':
      return hpaController(name, objects, deps);
    case 'keda-external':
      return kedaExternalController(objects, deps);
    case 'keda-external-job':
      return withSweeper(kedaExternalJobController(objects, deps), objects, deps);
  }
}

/**
 * The `tailMs` the approach's controller will have, from its rendered objects alone (no controller, no
 * pods): what the run keeps playing after the last job, so cooldowns and scale-in show.
 * @example approachTailMs('deployment', renderForLab('deployment', manifest, 'lab')) === 0
 */
export function approachTailMs(name: ApproachName, objects: readonly RenderedObject[]): number {
  switch (name) {
    case 'deployment':
      return 0;
    case 'cronjob':
      return cronJobTailMs(objects);
    case 'keda-scaledobject':
    case 'keda-external':
      return scaledObjectTailMs(objects);
    case 'keda-scaledjob':
    case 'keda-external-job': {
      const main = scaledJobTailMs(objects);
      return hasSweeper(objects) ? Math.max(main, cronJobTailMs(objects, SWEEPER_NAME)) : main;
    }
    case 'hpa-prometheus':
    case 'hpa-adapter':
      return hpaTailMs(objects);
  }
}
