/**
 * The approaches whose worker pods run in Jobs with `activeDeadlineSeconds` (`--job-deadline-seconds`).
 * Their workers get the same value as `ACTIVE_DEADLINE_SECONDS` (src/worker/pod-deadline.ts), and
 * `kq manifests --handlers` refuses a job type whose `timeoutMs` is unset or not below the deadline: such
 * a job could only end by the deadline, failing an attempt each time, never by its own timeout.
 */
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { ConfigError } from '../errors.js';
import type { JobDefinition } from '../jobs/define-job.js';
import type { ManifestOptions } from './options.js';

/** Approaches that set `activeDeadlineSeconds` (a test renders every approach to keep this list true). */
export const DEADLINE_APPROACHES: readonly string[] = ['cronjob', 'keda-scaledjob', 'keda-external-job'];

/** `ACTIVE_DEADLINE_SECONDS` for a worker container whose Job sets `activeDeadlineSeconds`. */
export function deadlineEnv(o: ManifestOptions): IEnvVar[] {
  return [{ name: 'ACTIVE_DEADLINE_SECONDS', value: String(o.jobDeadlineSeconds) }];
}

/**
 * Throws a ConfigError (exit 2) naming the approach, the type and both values when a type's timeout is
 * unset or not below the Jobs' deadline; nothing for approaches without one.
 * @example checkHandlerTimeouts('cronjob', values, definitions);
 */
export function checkHandlerTimeouts(
  approach: string,
  o: ManifestOptions,
  definitions: readonly JobDefinition[],
): void {
  if (!DEADLINE_APPROACHES.includes(approach)) return;
  const deadlineMs = o.jobDeadlineSeconds * 1000;
  for (const def of definitions) {
    const t = def.options.timeoutMs;
    if (t > 0 && t < deadlineMs) continue;
    const timeout = t === 0 ? 'timeoutMs unset (no timeout)' : `timeoutMs ${t}`;
    throw new ConfigError(
      `kq manifests ${approach}: job type ${JSON.stringify(def.name)} has ${timeout}, but ${approach}'s Jobs stop at --job-deadline-seconds ${o.jobDeadlineSeconds} (activeDeadlineSeconds, ${deadlineMs} ms): such a job would end only by the deadline. Set its options.timeoutMs below ${deadlineMs} (defineJob), or raise --job-deadline-seconds above ${t === 0 ? 'its longest run' : `${Math.ceil(t / 1000)}`}.`,
      {
        option: 'job-deadline-seconds',
        value: o.jobDeadlineSeconds,
        approach,
        type: def.name,
        timeoutMs: t,
      },
    );
  }
}
