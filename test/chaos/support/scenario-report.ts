/**
 * Short or full mode, and the counts row every scenario reports. `KQ_CHAOS=full` (set by `npm run chaos`)
 * selects the full sizes; anything else runs the short versions that `npm test` includes. Rows are printed
 * and, when `KQ_CHAOS_RESULTS` names a file, appended to it as JSON lines for the summary table
 * (appends of one short line are atomic, so scenario files running in parallel do not interleave).
 */
import { appendFileSync } from 'node:fs';
import { expect } from 'vitest';

export const FULL = process.env.KQ_CHAOS === 'full';

/** The short value in `npm test`, the full one under `npm run chaos`. */
export const size = <T>(short: T, full: T): T => (FULL ? full : short);

export interface ScenarioRow {
  scenario: string;
  jobsIn: number;
  completed: number;
  lost: number;
  duplicates: number;
  /** Worst recovery time in ms (what "recovery" means is stated per scenario in docs/reliability.md). */
  worstRecoveryMs: number | null;
  pass: boolean;
  /** Anything else measured: free text for the table's last column. */
  notes?: string;
  durationMs?: number;
}

export type Check = [description: string, ok: boolean];

/**
 * Prints the row, appends it to the results file, then fails the test with every check that did not hold.
 * The row is written first so a failing scenario still shows up in the summary.
 */
export function report(row: Omit<ScenarioRow, 'pass'>, checks: Check[]): void {
  const failed = checks.filter(([, ok]) => !ok).map(([what]) => what);
  const full: ScenarioRow = { ...row, pass: failed.length === 0 };
  const line = JSON.stringify({ mode: FULL ? 'full' : 'short', ...full });
  console.log(`chaos ${line}`);
  const file = process.env.KQ_CHAOS_RESULTS;
  if (file) appendFileSync(file, `${line}\n`);
  expect(failed, `${row.scenario}: checks that failed`).toEqual([]);
}
