/**
 * kq's worker as the generated manifests run it, with their heap flags (NODE_OPTIONS for a 128Mi limit):
 * its memory against the limits the manifests promise, and its speed against plain BullMQ with no flags.
 * The same run as the processing scenario (processing.mjs), in fewer rounds: memory barely moves.
 */
import { backlog, run } from './processing.mjs';

export default {
  id: 'processing-manifests',
  fullRuns: 3,
  variants: ['kq-manifests', 'bullmq'],
  run,
  rows(ctx) {
    const n = `${backlog(ctx) / 1000}k`;
    return [
      {
        scenario: "memory: idle, kq with the manifests' NODE_OPTIONS (MiB)",
        figure: 'idleRssMiB',
        variant: 'kq-manifests',
        baselineName: 'plain BullMQ Worker, no flags',
        target: '<= 80 MiB',
        met: (k) => k <= 80,
      },
      {
        scenario: `memory: through ${n} jobs, kq with the manifests' NODE_OPTIONS (MiB)`,
        figure: 'loadedPeakRssMiB',
        variant: 'kq-manifests',
        baselineName: 'plain BullMQ Worker, no flags',
        target: '<= 110 MiB',
        met: (k) => k <= 110,
      },
      {
        scenario: "processing: kq with the manifests' NODE_OPTIONS (jobs/s)",
        figure: 'jobsPerSec',
        variant: 'kq-manifests',
        baselineName: 'plain BullMQ Worker',
        target: '(reported)',
      },
    ];
  },
};
