/**
 * Runs the built `kq lab compare` as a real process (its own private redis-server, real `kq worker`
 * processes as pods) and returns its report.json, with checks every approach must pass whatever it is.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { pidAlive, spawnKq } from '../helpers/kq-process.js';

export interface ApproachReport {
  submitted: number;
  completed: number;
  failed: number;
  lost: number;
  lostJobs: { id: string; leftIn: string }[];
  failedJobs: { id: string; reason: string }[];
  stranded: number;
  runTwice: number;
  waitP50Ms: number;
  waitP95Ms: number;
  waitP99Ms: number;
  podsStarted: number;
  podSeconds: number;
  podsAtEnd: number;
  processesLeft: number;
  workerPids: number[];
  containerRestarts: number;
  interruptedByScaleIn: number;
  idleWhenInterrupted: number;
  podsWithDeletionCost: number;
  exits: Record<string, number>;
  faults: { kind: string; at: number; recoverMs: number | null }[];
  controller: Record<string, number>;
  series: { t: number[]; queued: number[]; runningJobs: number[]; pods: number[]; readyPods: number[] };
}

export interface LabReport {
  settings: { jobs: number };
  approaches: Record<string, ApproachReport>;
}

/** `kq lab compare --engine real`. @example const { report, dir } = await labCompare(['deployment', '--speed', '100']); */
export async function labCompare(
  args: string[],
  timeoutMs = 150_000,
): Promise<{ report: LabReport; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kq-lab-test-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const lab = spawnKq(
    ['lab', 'compare', '--engine', 'real', ...args, '--report', dir],
    {},
    `kq lab compare --engine real ${args.join(' ')}`,
  );
  const { code } = await lab.waitForExit(timeoutMs);
  expect(code, lab.output()).toBe(0);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as LabReport;
  return { report, dir };
}

/** What holds whatever the approach: every job accounted for, faults played, no worker left. */
export function expectCommonInvariants(name: string, a: ApproachReport, jobs: number): void {
  expect(a.submitted, name).toBe(jobs);
  expect(a.completed + a.failed + a.lost, name).toBe(jobs);
  expect(a.faults.filter((f) => f.kind === 'kill').length, `${name}: pod kills played`).toBeGreaterThan(0);
  expect(a.processesLeft, name).toBe(0);
  expect(a.workerPids.length, name).toBeGreaterThan(0);
  expect(a.workerPids.filter(pidAlive), `${name}: worker processes still running`).toEqual([]);
  expect(a.podSeconds, name).toBeGreaterThan(0);
  expect(a.waitP50Ms, name).toBeLessThanOrEqual(a.waitP95Ms);
  expect(a.waitP95Ms, name).toBeLessThanOrEqual(a.waitP99Ms);
  expect(a.series.t.length, `${name}: time series sampled`).toBeGreaterThan(5);
}

/** Nothing lost: every job completed (the smoke workload has no job that fails for good). */
export function expectNothingLost(name: string, a: ApproachReport): void {
  expect(a.lostJobs, name).toEqual([]);
  expect(a.completed, name).toBe(a.submitted);
}
