/**
 * Liveness that knows about Redis: the safety net under every reconnect path (connection.ts,
 * ioredis-internals.ts). Readiness says "Redis is unusable now" (503 at once, the pod leaves its
 * Service); liveness says "it has been unusable for too long": past `timeoutMs` the process' `/healthz`
 * answers 503, and Kubernetes restarts it. So a connection that never comes back, whatever the cause
 * (an ioredis state machine that ended, a lookup that hangs), costs a restart, not a process that stays
 * alive-but-stuck.
 *
 * Usable = every connection the process works with is `ready` and a PING on the first answered within
 * `pingTimeoutMs`. Checked in the background every `everyMs` (an unref'd timer) and on each `state()`
 * (connection states only), so `/healthz` reads a number and never waits on Redis. The clock runs from
 * the first check that found Redis unusable (so liveness fails `timeoutMs` to `timeoutMs + everyMs`
 * after the fault, never before), and from creation for a Redis never reached.
 */
import type { Redis } from 'ioredis';
import { withDeadline } from './deadline.js';

export interface RedisLivenessOptions {
  /** The connections the process works with; the first one is PINGed (a fail-fast one). */
  connections: readonly Redis[];
  /** Unusable this long = not alive; 0 turns the check off (always alive). */
  timeoutMs: number;
  /** @default 1000 */
  everyMs?: number;
  /** @default 1000 */
  pingTimeoutMs?: number;
  /** The clock, in ms (tests pass their own). @default Date.now */
  now?: () => number;
}

export interface LivenessState {
  alive: boolean;
  /** 0 while usable. */
  unusableForMs: number;
  /** Why Redis is unusable, while it is. */
  reason?: string;
}

export interface RedisLiveness {
  state(): LivenessState;
  close(): void;
}

/** @example const liveness = watchRedisLiveness({ connections: [redis], timeoutMs: 30_000 }); liveness.state().alive */
export function watchRedisLiveness(o: RedisLivenessOptions): RedisLiveness {
  /** When Redis was first seen unusable since it last worked; undefined while it works. */
  const now = o.now ?? (() => Date.now());
  let unusableSince: number | undefined = now();
  let reason = 'not connected yet';
  const unusable = (why: string) => {
    unusableSince ??= now();
    reason = why;
  };
  let busy = false;
  const pingTimeoutMs = o.pingTimeoutMs ?? 1000;
  const check = async () => {
    if (busy) return;
    busy = true;
    try {
      const down = o.connections.find((c) => c.status !== 'ready');
      if (down) return unusable(`a Redis connection is ${down.status}`);
      await withDeadline(
        () => (o.connections[0] as Redis).ping(),
        pingTimeoutMs,
        () => new Error(`PING unanswered after ${pingTimeoutMs} ms`),
      );
      unusableSince = undefined;
    } catch (err) {
      unusable((err as Error).message);
    } finally {
      busy = false;
    }
  };
  const timer = o.timeoutMs > 0 ? setInterval(check, o.everyMs ?? 1000) : undefined;
  timer?.unref();
  // A connection that becomes ready is checked at once, not at the next tick.
  const onReady = () => void check();
  if (timer) for (const c of o.connections) c.on('ready', onReady);
  if (timer) void check();
  return {
    state() {
      if (!timer) return { alive: true, unusableForMs: 0 };
      const down = o.connections.find((c) => c.status !== 'ready');
      if (down) unusable(`a Redis connection is ${down.status}`);
      if (unusableSince === undefined) return { alive: true, unusableForMs: 0 };
      const unusableForMs = now() - unusableSince;
      return { alive: unusableForMs <= o.timeoutMs, unusableForMs, reason };
    },
    close() {
      clearInterval(timer);
      for (const c of o.connections) c.off('ready', onReady);
    },
  };
}

/** The message a failing `/healthz` gives, naming the option. */
export const livenessMessage = (s: LivenessState, timeoutMs: number): string =>
  `Redis unusable for ${s.unusableForMs} ms (${s.reason}), longer than REDIS_LIVENESS_TIMEOUT_MS=${timeoutMs}: restart me`;
