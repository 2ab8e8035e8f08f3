/**
 * Time compression. Everything the lab plays (arrivals, job durations, controller intervals and
 * windows, grace periods, start latency) is in workload time; the clock runs `speed` workload
 * milliseconds per wall millisecond, so an hour of traffic at `--speed 60` takes a minute.
 */
export interface LabClock {
  readonly speed: number;
  /** Workload milliseconds since the run started. */
  now(): number;
  /** Wall milliseconds for a workload duration. */
  toWall(workloadMs: number): number;
  /** Workload milliseconds for a wall duration. */
  toWorkload(wallMs: number): number;
  /** Workload time of a wall timestamp (Date.now() style). */
  at(wallEpochMs: number): number;
  /** Starts the workload clock; until then `now()` is 0 (the cluster at rest, before traffic). */
  start(): void;
}

/** @example const clock = createClock(60); setTimeout(f, clock.toWall(30_000)); // 0.5 s of wall time */
export function createClock(speed: number): LabClock {
  let startWallMs: number | undefined;
  return {
    speed,
    now: () => (startWallMs === undefined ? 0 : (Date.now() - startWallMs) * speed),
    toWall: (ms) => ms / speed,
    toWorkload: (ms) => ms * speed,
    at: (wall) => (startWallMs === undefined ? 0 : Math.max(0, wall - startWallMs) * speed),
    start() {
      startWallMs ??= Date.now();
    },
  };
}
