/**
 * One cell of the crash matrix: a worker mode against a fault, with real processes and a private Redis.
 * The first job (the victim) is hit by the fault 300 ms after its handler started; the rest queue behind
 * it. After the fault, processes are started the way Kubernetes would for the mode:
 * - `always-on` (Deployment): a dead container is restarted;
 * - `exit` (CronJob, `EXIT=1`): a new run starts every second while none is running;
 * - `one-per-pod` (ScaledJob, `MAX_JOBS=1 EXIT=1`): a pod that failed is replaced by a pod of the same
 *   Job (same `K8S_JOB_NAME`, as `backoffLimit` does); one that exited 0 while work remains is followed by
 *   a new Job's pod.
 * The cell ends when every job completed or failed, or at its time bound.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KqProcess } from '../../helpers/kq-process.js';
import type { ChaosContext } from './chaos-context.js';
import { readLedger } from './ledger.js';
import { createWorkerPool } from './worker-pool.js';

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
  const spawn = (name = jobName()) => {
    const p = pool.spawn(mode === 'one-per-pod' ? { K8S_JOB_NAME: name } : {});
    owner.set(p, name);
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

    // Keep the mode's processes coming until every job settled (bounded).
    const cellEnd = Date.now() + 30_000;
    let lastCron = 0;
    while (Date.now() < cellEnd) {
      const c = await ctx.counts().catch(() => undefined);
      if (c && c.completed + c.failed >= jobs) break;
      const live = pool.live();
      if (live.length === 0) {
        const last = pool.all[pool.all.length - 1] as KqProcess;
        if (mode === 'always-on') spawn();
        else if (mode === 'exit') {
          if (Date.now() - lastCron >= 1000) {
            lastCron = Date.now();
            spawn();
          }
        } else spawn(last.proc.exitCode === 0 ? jobName() : owner.get(last));
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
