/** One controller per approach, built from that approach's rendered objects. */
import type { ApproachName } from '../../k8s/render.js';
import type { Controller, ControllerDeps } from './controller.js';
import { cronJobController } from './cron-job.js';
import { deploymentController } from './deployment.js';
import { hpaController } from './external-hpa.js';
import { kedaExternalController, kedaExternalJobController } from './keda-external.js';
import type { RenderedObject } from './objects.js';
import { scaledJobController } from './scaled-job.js';
import { scaledObjectController } from './scaled-object.js';
import { withSweeper } from './with-sweeper.js';

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
