/**
 * Faults played during a run, at workload times fixed by the seed so every approach of a comparison
 * meets the same ones: pod kills (SIGKILL of a running worker, as an OOM kill or a crash; the pod's
 * restartPolicy and its controller decide what follows), node-drain style SIGTERM waves (the pods
 * get their grace period, their controllers replace them), and a restart of the lab's Redis.
 * A kill or a wave due while no pod runs waits for the next running pod, so the planned count is met.
 */
import type { LabClock } from './clock.js';
import type { LabPod, PodRunner } from './pod-runner.js';
import { seededRandom } from './workload.js';

export interface FaultPlan {
  /** SIGKILLs per workload minute (Poisson), over the arrival period. */
  killRatePerMinute: number;
  /** A SIGTERM wave every this many workload seconds; 0 = none. */
  drainEverySeconds: number;
  /** Pods terminated per wave. */
  drainPods: number;
  /** Workload second of a Redis restart; negative = none. */
  redisRestartAtSeconds: number;
  /** Workload second of a rolling restart of the worker Deployment; negative = none. */
  rolloutAtSeconds: number;
  seed: number;
}

export interface FaultEvent {
  kind: 'kill' | 'drain' | 'redis-restart' | 'rollout';
  /** Workload ms. */
  at: number;
  pod?: string;
  pid?: number;
  /** Redis restart: workload ms Redis was down. */
  downMs?: number;
}

export interface Faults {
  tick(now: number): void;
  events: FaultEvent[];
  /** Resolves when a Redis restart in progress is over. */
  settle(): Promise<void>;
}

export interface RestartableRedis {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** @example const faults = createFaults(plan, { runner, clock, redis, untilMs }); faults.tick(clock.now()); */
export function createFaults(
  plan: FaultPlan,
  deps: {
    runner: PodRunner;
    clock: LabClock;
    redis?: RestartableRedis;
    untilMs: number;
    /** Starts a rolling restart; false when the approach has no Deployment. */
    rollout?: () => boolean;
  },
): Faults {
  const rnd = seededRandom(plan.seed);
  const kills: number[] = [];
  if (plan.killRatePerMinute > 0) {
    for (let t = 0; ; ) {
      t += -Math.log(1 - rnd()) * (60_000 / plan.killRatePerMinute);
      if (t >= deps.untilMs) break;
      kills.push(t);
    }
  }
  const drains: number[] = [];
  if (plan.drainEverySeconds > 0) {
    for (let t = plan.drainEverySeconds * 1000; t < deps.untilMs; t += plan.drainEverySeconds * 1000)
      drains.push(t);
  }
  const events: FaultEvent[] = [];
  let restart: Promise<void> | undefined;
  let restarted = plan.redisRestartAtSeconds < 0;
  let rolled = plan.rolloutAtSeconds < 0;

  // A pod just killed is still Running until its process is gone: never pick it twice.
  const killed = new Set<number>();
  const running = (): LabPod[] =>
    deps.runner
      .active()
      .filter((p) => p.phase === 'Running' && p.ready && !p.terminating && !killed.has(p.pids.at(-1) ?? 0));
  const pick = (pods: LabPod[]) => pods[Math.floor(rnd() * pods.length)] as LabPod;

  return {
    events,
    tick(now) {
      while (kills.length && (kills[0] as number) <= now) {
        const pods = running();
        if (!pods.length) break;
        kills.shift();
        const pod = pick(pods);
        const pid = pod.pids.at(-1);
        if (pid !== undefined) killed.add(pid);
        if (deps.runner.kill(pod)) events.push({ kind: 'kill', at: now, pod: pod.name, pid });
      }
      while (drains.length && (drains[0] as number) <= now) {
        const pods = running();
        if (!pods.length) break;
        drains.shift();
        for (let i = 0; i < plan.drainPods && pods.length; i++) {
          const pod = pods.splice(Math.floor(rnd() * pods.length), 1)[0] as LabPod;
          events.push({ kind: 'drain', at: now, pod: pod.name, pid: pod.pids.at(-1) });
          deps.runner.terminate(pod, 'drain');
        }
      }
      if (!rolled && now >= plan.rolloutAtSeconds * 1000) {
        rolled = true;
        if (deps.rollout?.()) events.push({ kind: 'rollout', at: now });
      }
      if (!restarted && now >= plan.redisRestartAtSeconds * 1000) {
        restarted = true;
        const redis = deps.redis;
        if (!redis)
          throw new Error('kq lab: --redis-restart-at needs the lab’s own redis-server (no --redis-url)');
        const event: FaultEvent = { kind: 'redis-restart', at: now };
        events.push(event);
        restart = (async () => {
          await redis.stop();
          await redis.start();
          event.downMs = deps.clock.now() - now;
        })();
      }
    },
    settle: async () => {
      await restart;
    },
  };
}
