/**
 * The cold-start instruction counts in docs/performance.md ("Cold start") are the ones bench/results.json
 * holds (written by `node bench/cold-start-instructions.mjs --save --label=...`), each ratio is the
 * quotient of its medians, and every quoted run counted kq with a warm compile cache, as the text says.
 */
import { describe, expect, it } from 'vitest';
import { docSection, readRepo as read } from './doc-section.js';

interface Counts {
  median: number;
  min: number;
  max: number;
  runs: number[];
}
interface Run {
  label: string;
  rounds: number;
  kq: Counts;
  bullmq: Counts;
  ratio: number;
  compileCache: string;
  kqColdCache: number;
}

/** `676.3 (666.1-769.9)`: median (min-max), in millions of instructions, as the script rounds them. */
const shown = (c: Counts) => `${c.median.toFixed(1)} (${c.min.toFixed(1)}-${c.max.toFixed(1)})`;

describe('cold-start instructions in the docs', () => {
  it('each row of the table matches the run of its label in bench/results.json', () => {
    const runs = (JSON.parse(read('bench/results.json')) as { coldStartInstructions?: { runs: Run[] } })
      .coldStartInstructions?.runs;
    expect(runs?.length).toBeGreaterThanOrEqual(1);
    const section = docSection(read('docs/performance.md'), 'Cold start');
    expect(section).not.toBe('');
    const rows = [
      ...section.matchAll(
        /^\| (\w+): [^|]*\| ([\d.]+ \([\d.-]+\)) \| ([\d.]+ \([\d.-]+\)) \| ([\d.]+) \| ([\d.]+) \|$/gm,
      ),
    ];
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const [, label, kq, bullmq, ratio, cold] of rows) {
      const run = runs?.findLast((r) => r.label === label);
      expect(run, `a run labelled ${label}`).toBeDefined();
      if (!run) continue;
      expect(kq).toBe(shown(run.kq));
      expect(bullmq).toBe(shown(run.bullmq));
      expect(Number(ratio)).toBe(run.ratio);
      expect(run.ratio).toBeCloseTo(run.kq.median / run.bullmq.median, 2);
      expect(Number(cold)).toBe(run.kqColdCache);
      expect(run.compileCache).toBe('warm');
      expect(run.kq.runs.length).toBe(run.rounds);
    }
  });
});
