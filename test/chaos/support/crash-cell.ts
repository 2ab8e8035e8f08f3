/**
 * One cell of the crash matrix: a worker mode against a fault, with real processes and a private Redis.
 * The first job (the victim) is hit by the fault 300 ms after its handler started; the rest queue behind
 * it. After the fault, processes are started the way Kubernetes would for the mode:
 * - `always-on` (Deployment): a dead container is restarted;
 * - `exit` (CronJob, `EXIT=1`): a new run starts while none is running, one second after the last ended,
 *   but not before the victim's lock has surely expired (fault + `LOCK_MS` + 500 ms: a run in the lock's
 *   window cannot tell the orphan from a running job, docs/reliability.md);
 * - `one-per-pod` (ScaledJob, `MAX_JOBS=1 EXIT=1`): a pod that failed is replaced by a pod of the same
 *   Job (same `K8S_JOB_NAME`, as `backoffLimit` does); one that exited 0 while work remains is followed by
 *   a new Job's pod.
 * The cell ends when every job completed or failed, or at its time bound. Where the victim's worker
 * dies or stops, the first process started after the fault must be the one that runs it again
 * (`firstNextRanIt`): a replacement pod or the next CronJob run must not walk past the lost job.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KqProcess } from '../../helpers/kq-process.js';
import type { ChaosContext } from './chaos-context.js';
import { readLedger } from './ledger.js';
import { createWorkerPool, logTime } from './worker-pool.js';

export type Mode = 'always-on' | 'exit' | 'one-per-pod';
export type Fault =
  | 'SIGKILL mid-job'
  | 'process.exit in handler'
  | 'SIGTERM past deadline'
  | 'handler ignores signal'
  | 'Redis restarted'
  | 'Redis frozen > lock'
  | 'Redis unreachable at SIGTERM';

export const MODES: Mode[] = ['always-on', 'exit', 'one-per-pod'];
export const FAULTS: Fault[] = [
  'SIGKILL mid-job',
  'process.exit in handler',
  'SIGTERM past deadline',
  'handler ignores signal',
  'Redis restarted',
  'Redis frozen > lock',
  'Redis unreachable at SIGTERM',
];

export const LOCK_MS = 1500;
const SHUTDOWN_MS = 1000;
const VICTIM_MS = 3000;

const modeEnv: Record<Mode, Record<string, string>> = {
  'always-on': {},
  exit: { EXIT: '1' },
  'one-per-pod': { EXIT: '1', MAX_JOBS: '1' },
};

export interface CellResult {
  mode: Mode;
  fault: Fault;
  submitted: number;
  completed: number;
  failed: number;
  /** Jobs whose handler ran to its end more than once. */
  runTwice: number;
  /** Jobs neither completed nor failed when the cell ended. */
  stranded: number;
  /** Fault -> the victim's handler started again (null: its first run was never cut short). */
  recoveryMs: number | null;
  /** SIGTERM -> exit of the worker told to stop (faults with a SIGTERM). */
  stopMs: number | null;
  /**
   * The victim ran again this long after it could first have: after the latest of its lock's expiry
   * (fault + `LOCK_MS`), Redis answering again (Redis faults) and the start (`worker.started`) of the
   * process that ran it. kq's bound is 2 s (the first ~1 s of it a reconnect after a Redis fault).
   */
  lateMs: number | null;
  /** The first process started after the fault ran the victim again (null: not a worker-loss fault). */
  firstNextRanIt: boolean | null;
  exitCodes: (number | string)[];
  durationMs: number;
}

/** @example const r = await runCell(ctx, 'exit', 'SIGKILL mid-job', 2); */
export async function runCell(
  ctx: ChaosContext,
  mode: Mode,
  fault: Fault,
  jobs: number,
): Promise<CellResult> {
  const started = Date.now();
  const pool = createWorkerPool({
    ...ctx.env,
    ...modeEnv[mode],
    LOCK_DURATION_MS: String(LOCK_MS),
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_MS),
    REDIS_DOWN_TIMEOUT_MS: '20000',
  });
  let jobSeq = 0;
  const jobName = () => `kq-worker-${++jobSeq}`;
  const owner = new Map<KqProcess, string>();
  const exitedAt = new Map<KqProcess, number>();
  const replaced = new Set<KqProcess>();
  const spawn = (name = jobName()) => {
    const p = pool.spawn(mode === 'one-per-pod' ? { K8S_JOB_NAME: name } : {});
    owner.set(p, name);
    p.exited.then(() => exitedAt.set(p, Date.now()));
    return p;
  };
  const victimData = {
    ms: VICTIM_MS,
    exitOnce: fault === 'process.exit in handler',
    ignoreSignal: fault === 'handler ignores signal',
  };
  const ids = await ctx.enqueue([
    { type: 'crash-work', data: victimData },
    ...Array.from({ length: jobs - 1 }, () => ({ type: 'crash-work', data: { ms: 100 } })),
  ]);
  const victimId = ids[0] as string;
  const first = spawn();
  let faultAt = 0;
  let stopMs: number | null = null;
  let redisBackAt = 0;
  try {
    // The victim's first run.
    let firstRunAt = 0;
    for (const end = Date.now() + 20_000; Date.now() < end && !firstRunAt; await sleep(25)) {
      const l = await readLedger(ctx.ledger, ctx.queue);
      firstRunAt = l.started.find((e) => e.id === victimId)?.at ?? 0;
    }
    await sleep(300);
    // A handler that exits its process is its own fault, at its start.
    faultAt = fault === 'process.exit in handler' ? firstRunAt : Date.now();
    stopMs = await inject(ctx, fault, first);
    // Redis restarted or frozen: nothing can run before it answers again.
    if (fault === 'Redis restarted' || fault === 'Redis frozen > lock') redisBackAt = Date.now();

    // Keep the mode's processes coming until every job settled (bounded).
    const cellEnd = Date.now() + 60_000;
    const notBefore = faultAt + LOCK_MS + 500;
    while (Date.now() < cellEnd) {
      const c = await ctx.counts().catch(() => undefined);
      if (c && c.completed + c.failed >= jobs) break;
      const live = pool.live();
      if (mode === 'one-per-pod') {
        // As the Job controller: a failed pod gets one replacement of the same Job, first.
        for (const p of pool.all)
          if (exitedAt.has(p) && p.proc.exitCode !== 0 && !replaced.has(p)) {
            replaced.add(p);
            spawn(owner.get(p));
          }
        // As KEDA: a new Job per remaining job, up to 3 at once once the victim runs again (before,
        // one at a time, so that the first pod after the fault is the one that must take it).
        const rerun = (await readLedger(ctx.ledger, ctx.queue)).started.some(
          (e) => e.id === victimId && e.at > faultAt,
        );
        const remaining = jobs - (c ? c.completed + c.failed : 0);
        if (pool.live().length < Math.min(rerun ? 3 : 1, remaining)) spawn();
      } else if (live.length === 0) {
        if (mode === 'always-on') spawn();
        else {
          const lastExit = Math.max(0, ...pool.all.map((p) => exitedAt.get(p) ?? 0));
          if (Date.now() >= notBefore && Date.now() - lastExit >= 1000) spawn();
        }
      }
      await sleep(50);
    }
  } finally {
    if (ctx.server.pid && !ctx.server.running) await ctx.server.start().catch(() => undefined);
    await pool.close(5000);
  }
  const counts = await ctx.counts();
  const ledger = await readLedger(ctx.ledger, ctx.queue);
  const done = new Map<string, number>();
  for (const e of ledger.done) done.set(e.id, (done.get(e.id) ?? 0) + 1);
  const again = ledger.started.find((e) => e.id === victimId && e.at > faultAt);
  const victimDoneFirst = ledger.done.some((e) => e.id === victimId && e.at < faultAt);
  const firstNext = pool.all[1];
  const runnerStartedAt = (pid: number) => {
    const runner = pool.all.find((p) => p.proc.pid === pid);
    const line = runner?.logs.find((l) => l.event === 'worker.started');
    return line ? logTime(line) : 0;
  };
  const workerLost = !fault.startsWith('Redis ') || fault === 'Redis unreachable at SIGTERM';
  return {
    mode,
    fault,
    submitted: jobs,
    completed: counts.completed,
    failed: counts.failed,
    runTwice: [...done.values()].filter((n) => n > 1).length,
    stranded: jobs - counts.completed - counts.failed,
    recoveryMs: victimDoneFirst ? null : again ? again.at - faultAt : null,
    stopMs,
    lateMs: again
      ? Math.max(0, again.at - Math.max(faultAt + LOCK_MS, redisBackAt, runnerStartedAt(again.pid)))
      : null,
    firstNextRanIt: workerLost ? again?.pid === firstNext?.proc.pid : null,
    exitCodes: pool.all.map((p) => p.proc.exitCode ?? p.proc.signalCode ?? '?'),
    durationMs: Date.now() - started,
  };
}

/** Applies the fault to `worker` (the victim's); resolves to SIGTERM -> exit in ms where there is one. */
async function inject(ctx: ChaosContext, fault: Fault, worker: KqProcess): Promise<number | null> {
  const redisPid = ctx.server.pid as number;
  const timeStop = async () => {
    const t0 = Date.now();
    worker.kill('SIGTERM');
    await worker.waitForExit(15_000).catch(() => worker.kill('SIGKILL'));
    return Date.now() - t0;
  };
  switch (fault) {
    case 'SIGKILL mid-job':
      worker.kill('SIGKILL');
      await worker.exited;
      return null;
    case 'process.exit in handler':
      await worker.exited;
      return null;
    case 'SIGTERM past deadline':
    case 'handler ignores signal':
      return timeStop();
    case 'Redis restarted':
      await ctx.server.stop();
      await sleep(LOCK_MS + 500);
      await ctx.server.start();
      return null;
    case 'Redis frozen > lock':
      process.kill(redisPid, 'SIGSTOP');
      await sleep(LOCK_MS + 1000);
      process.kill(redisPid, 'SIGCONT');
      return null;
    case 'Redis unreachable at SIGTERM': {
      process.kill(redisPid, 'SIGSTOP');
      try {
        return await timeStop();
      } finally {
        process.kill(redisPid, 'SIGCONT');
      }
    }
  }
}
