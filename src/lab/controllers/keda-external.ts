/**
 * Approaches `keda-external` and `keda-external-job`: KEDA on `kq keda-scaler`'s runnable backlog
 * (waiting + prioritized + due delayed + orphaned active + running; paused: running only), read here by
 * the scaler's own script (src/queue/runnable-backlog.ts) with the queue, prefix and target the
 * rendered trigger's metadata names, parsed by the scaler's own parser.
 * - `keda-external` (ScaledObject, `external-push`): the scaler pushes activation within milliseconds of a
 *   job arriving or falling due, played as a check every PUSH_MS while at zero; scale-to-zero, cooldown and
 *   the HPA are the ScaledObject's, as in `keda-scaledobject`.
 * - `keda-external-job` (ScaledJob, polled `external`): one reading per `pollingInterval`, the strategy
 *   the object sets (`default`: backlog / target minus running Jobs).
 */
import type { IScaleTriggers } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaleTriggers';
import { parseTriggerMetadata, type TriggerSpec } from '../../keda-scaler/metadata.js';
import type { Controller, ControllerDeps } from './controller.js';
import { findObject, type RenderedObject } from './objects.js';
import { playScaledJob } from './scaled-job.js';
import { playScaledObject } from './scaled-object.js';

/** Workload ms from a runnable job to KEDA's activation under `external-push` (the push takes ms). */
export const PUSH_MS = 500;

/** The one scaler trigger of a ScaledObject or ScaledJob, as the scaler itself reads its metadata. */
function scalerTrigger(triggers: readonly IScaleTriggers[], type: string): TriggerSpec & { name: string } {
  const [t, ...more] = triggers;
  if (!t || more.length > 0 || t.type !== type) {
    throw new Error(
      `kq lab plays one ${type} trigger on kq keda-scaler here; the rendered triggers are ${JSON.stringify(triggers.map((x) => x.type))}`,
    );
  }
  const spec = parseTriggerMetadata(t.metadata as Record<string, string>);
  if (spec.metric !== 'backlog') throw new Error(`kq lab plays the backlog metric only, not ${spec.metric}`);
  return { ...spec, name: t.name ?? 'backlog' };
}

export function kedaExternalController(objects: readonly RenderedObject[], deps: ControllerDeps): Controller {
  const t = scalerTrigger(findObject(objects, 'ScaledObject').spec.triggers, 'external-push');
  return playScaledObject(objects, deps, {
    target: t.targetPerWorker,
    pushMs: PUSH_MS,
    describe: `kq keda-scaler runnable backlog (external-push), target ${t.targetPerWorker} per worker`,
    async read() {
      const b = await deps.source.runnableBacklog(t.prefix, t.queue);
      // The scaler answers IsActive / pushes `known && backlog > 0` (src/keda-scaler/service.ts).
      return { total: b.runnableAndRunning, active: b.known && b.runnableAndRunning > 0 };
    },
  });
}

export function kedaExternalJobController(
  objects: readonly RenderedObject[],
  deps: ControllerDeps,
): Controller {
  const spec = findObject(objects, 'ScaledJob').spec;
  if (!spec) throw new Error('kq lab: the ScaledJob has no spec');
  const t = scalerTrigger(spec.triggers, 'external');
  return playScaledJob(objects, deps, async () => [
    {
      name: t.name,
      value: (await deps.source.runnableBacklog(t.prefix, t.queue)).runnableAndRunning,
      target: t.targetPerWorker,
    },
  ]);
}
