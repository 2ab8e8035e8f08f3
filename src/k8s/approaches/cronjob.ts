/**
 * Approach 2 (the seed's CronJob): every minute (or on `--schedule`) a Job starts `parallelism` workers in
 * exit-when-empty mode (`EXIT=1`); `completions` stays unset, so this is a work-queue Job that completes once its pods have
 * exited 0, which they do only when nothing is runnable. A worker never blocks on an empty queue and exits
 * 1 when Redis is unreachable, so `backoffLimit` retries instead of reporting success.
 *
 * Bounded: `concurrencyPolicy: Forbid` skips a minute while the previous Job still runs, so at most
 * `parallelism` worker pods exist (with `Allow`, a backlog that outlasts a minute added `parallelism` pods
 * every minute, up to 60 x parallelism within the 1 h deadline). The running Job's workers keep draining
 * the backlog; more throughput means a higher `--parallelism`.
 *
 * Finished Jobs are cleaned by the CronJob's history limits alone (no `ttlSecondsAfterFinished`, which
 * would delete failed Jobs after it whatever `failedJobsHistoryLimit` says): the last 3 failed Jobs stay
 * for `kubectl describe` / `kubectl logs` until newer failures replace them.
 */
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { meta, type RenderContext, workerName, workerPodFailurePolicy, workerPodSpec } from '../common.js';
import { deadlineEnv } from '../job-deadline.js';

export function cronjobApproach(ctx: RenderContext) {
  const { o } = ctx;
  return [
    new CronJob({
      metadata: meta(ctx, workerName(ctx), 'worker'),
      spec: {
        schedule: o.schedule,
        concurrencyPolicy: 'Forbid',
        // A run missed by more than this (controller down, cluster busy) is skipped; the next minute's
        // run picks the work up anyway.
        startingDeadlineSeconds: 30,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: meta(ctx, workerName(ctx), 'worker').labels },
          spec: {
            parallelism: o.parallelism,
            backoffLimit: 3,
            activeDeadlineSeconds: o.jobDeadlineSeconds,
            podFailurePolicy: workerPodFailurePolicy(),
            template: {
              metadata: { labels: meta(ctx, workerName(ctx), 'worker').labels },
              spec: workerPodSpec(ctx, {
                restartPolicy: 'Never',
                modeEnv: [{ name: 'EXIT', value: '1' }, ...deadlineEnv(o)],
              }),
            },
          },
        },
      },
    }),
  ];
}
