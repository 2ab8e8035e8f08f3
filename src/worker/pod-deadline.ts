/**
 * The pod's deadline. A Job's `activeDeadlineSeconds` ends its pod whatever runs in it; at that SIGTERM a
 * worker would hand its running job back, costing no attempt, so a job longer than the deadline ran again
 * in the next pod, and again, forever. Knowing the deadline (`ACTIVE_DEADLINE_SECONDS`, which the manifests
 * set next to `activeDeadlineSeconds`), the worker instead fails the running attempt shortly before it:
 * the attempt counts, with a reason naming the deadline, so retries run out as for any failure.
 *
 * Measured from process start: the Job's clock started earlier (scheduling, image pull, container start),
 * which the margin, min(30 s, a tenth of the deadline), is there to absorb.
 */
import { type LifecycleTimers, realTimers } from './lifecycle.js';

/** How long before the deadline running attempts are failed. */
export const deadlineMarginMs = (deadlineSeconds: number): number =>
  Math.min(30_000, Math.floor((deadlineSeconds * 1000) / 10));

export interface PodDeadline {
  /** Process uptime (ms) at which running attempts are failed. */
  failAtMs: number;
  close(): void;
}

/**
 * Calls `onNear` once, `deadlineMarginMs` before `deadlineSeconds` of process uptime; nothing when 0.
 * @example const d = watchPodDeadline({ deadlineSeconds: 3600, onNear: (why) => failRunning(why) });
 */
export function watchPodDeadline(o: {
  deadlineSeconds: number;
  onNear: (reason: string) => void;
  /** Process uptime in ms. @default process.uptime() * 1000 */
  uptimeMs?: () => number;
  /** @default realTimers */
  timers?: LifecycleTimers;
}): PodDeadline | undefined {
  if (o.deadlineSeconds <= 0) return undefined;
  const uptime = o.uptimeMs ?? (() => process.uptime() * 1000);
  const failAtMs = o.deadlineSeconds * 1000 - deadlineMarginMs(o.deadlineSeconds);
  const close = (o.timers ?? realTimers).after(
    Math.max(0, failAtMs - uptime()),
    () =>
      o.onNear(
        `the pod's deadline (ACTIVE_DEADLINE_SECONDS ${o.deadlineSeconds} s, the Job's activeDeadlineSeconds) is ${(o.deadlineSeconds * 1000 - failAtMs) / 1000} s away`,
      ),
    true,
  );
  return { failAtMs, close };
}
