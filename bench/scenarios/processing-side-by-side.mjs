/**
 * Worker CPU per job, side by side: kq's worker, plain BullMQ's and plain BullMQ's again run at the same
 * time, each on its own queue of no-op jobs in the same Redis, as whole processes with default logging.
 * Run one after another, the same binary's CPU per job moves +-10-15 % between runs on a shared VM; run
 * together, every worker sees the same machine at the same moment, and plain BullMQ against itself lands
 * within ~2 %. CPU and jobs done are read for all three at the moment the first queue runs dry, so no
 * worker is measured running alone. Throughput is not judged here (they share the cores); the
 * processing scenario measures it.
 */
import { backlog, workerOnBacklog } from './processing.mjs';

const WORKERS = [
  { key: 'kq', kind: 'kq' },
  { key: 'bullmq', kind: 'bullmq' },
  { key: 'again', kind: 'bullmq' },
];

async function run(ctx) {
  const n = backlog(ctx);
  const started = [];
  try {
    for (const w of WORKERS) {
      const name = ctx.queueName('side-by-side', w.key);
      const { queue, worker } = await workerOnBacklog(ctx, name, w.kind);
      started.push({ ...w, name, queue, proc: worker });
    }
    await new Promise((r) => setTimeout(r, ctx.quick ? 300 : 1000));
    for (const s of started) s.cpu0 = s.proc.cpuMs();
    await Promise.all(started.map((s) => s.queue.resume()));
    const left = (s) =>
      Promise.all([
        ctx.redis.llen(`${ctx.prefix}:${s.name}:wait`),
        ctx.redis.llen(`${ctx.prefix}:${s.name}:active`),
      ]).then(([w, a]) => w + a);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const cpu = started.map((s) => s.proc.cpuMs());
      const remaining = await Promise.all(started.map(left));
      if (remaining.some((r) => r === 0)) {
        const perJob = started.map((s, i) => ((cpu[i] - s.cpu0) / (n - remaining[i])) * 1000);
        const [kq, bullmq, again] = perJob;
        return {
          kqCpuMsPer1000Jobs: kq,
          bullmqCpuMsPer1000Jobs: bullmq,
          cpuRatio: kq / bullmq,
          aaCpuRatio: again / bullmq,
        };
      }
      if (Date.now() > deadline)
        throw new Error(`side by side: backlogs not processed within 180 s (${remaining})`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    for (const s of started) await s.proc.stop();
  }
}

export default {
  id: 'processing-side-by-side',
  fullRuns: 5,
  variants: ['side-by-side'],
  run,
  rows() {
    const row = (scenario, figure, target, met) => ({
      scenario,
      figure,
      variant: 'side-by-side',
      target,
      met,
    });
    return [
      row(
        'side by side: kq worker CPU per job / plain BullMQ worker CPU per job',
        'cpuRatio',
        '<= 1.05',
        (r) => r <= 1.05,
      ),
      row(
        'side by side, A/A control: plain BullMQ / plain BullMQ',
        'aaCpuRatio',
        '(the noise: 1.0 is exact)',
      ),
      row('side by side: kq worker CPU time per 1,000 jobs (ms)', 'kqCpuMsPer1000Jobs', '(reported)'),
      row(
        'side by side: plain BullMQ worker CPU time per 1,000 jobs (ms)',
        'bullmqCpuMsPer1000Jobs',
        '(reported)',
      ),
    ];
  },
};
