/**
 * Approach 2 (the seed's CronJob): every minute a Job starts `parallelism` workers in exit-when-empty mode
 * (`EXIT=1`); `completions` stays unset, so this is a work-queue Job that completes once its pods have
 * exited 0, which they do only when nothing is runnable. Unlike the seed, a worker never blocks on an
 * empty queue (so `concurrencyPolicy: Allow` cannot pile up Jobs forever) and exits 1 when Redis is
 * unreachable, so `backoffLimit` retries instead of reporting success. The seed omitted the deadlines and
 * history limits below; without them failed or stuck Jobs accumulate.
 */
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { meta, type RenderContext, WORKER_NAME, workerPodSpec } from '../common.js';

export function cronjobApproach(ctx: RenderContext) {
  const { o } = ctx;
  return [
    new CronJob({
      metadata: meta(ctx, WORKER_NAME, 'worker'),
      spec: {
        schedule: '* * * * *',
        concurrencyPolicy: 'Allow',
        // A run missed by more than this (controller down, cluster busy) is skipped; the next minute's
        // run picks the work up anyway.
        startingDeadlineSeconds: 30,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: meta(ctx, WORKER_NAME, 'worker').labels },
          spec: {
            parallelism: o.parallelism,
            backoffLimit: 3,
            activeDeadlineSeconds: o.jobDeadlineSeconds,
            ttlSecondsAfterFinished: 600,
            template: {
              metadata: { labels: meta(ctx, WORKER_NAME, 'worker').labels },
              spec: workerPodSpec(ctx, {
                restartPolicy: 'OnFailure',
                modeEnv: [{ name: 'EXIT', value: '1' }],
              }),
            },
          },
        },
      },
    }),
  ];
}
