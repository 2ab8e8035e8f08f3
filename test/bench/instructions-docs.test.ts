/**
 * The instruction counts in docs/performance.md ("Worker: instructions per job (callgrind)") are the ones
 * bench/results.json holds (written by `node bench/instructions.mjs --save`), and each ratio is the
 * quotient of its counts.
 */
import { describe, expect, it } from 'vitest';
import { docSection, readRepo as read, shownCount as shown } from './doc-section.js';

interface Run {
  label: string;
  kqInstructionsPerJob: number;
  bullmqInstructionsPerJob: number;
  ratio: number;
}

describe('instructions per job in the docs', () => {
  it('each row of the table matches a run in bench/results.json', () => {
    const runs = (JSON.parse(read('bench/results.json')) as { instructionsPerJob?: { runs: Run[] } })
      .instructionsPerJob?.runs;
    expect(runs?.length).toBeGreaterThanOrEqual(2);
    const doc = read('docs/performance.md');
    const section = docSection(doc, 'Worker: instructions per job (callgrind)');
    expect(section).not.toBe('');
    const rows = [...section.matchAll(/^\| (before|after)[^|]*\| ([\d,]+) \| ([\d,]+) \| ([\d.]+) \|$/gm)];
    expect(rows.length).toBe(runs?.length);
    for (const [i, [, phase, kq, bullmq, ratio]] of rows.entries()) {
      const run = runs?.[i] as Run;
      expect(run.label.startsWith(phase as string)).toBe(true);
      expect(kq).toBe(shown(run.kqInstructionsPerJob));
      expect(bullmq).toBe(shown(run.bullmqInstructionsPerJob));
      expect(Number(ratio)).toBe(run.ratio);
      expect(run.ratio).toBeCloseTo(run.kqInstructionsPerJob / run.bullmqInstructionsPerJob, 2);
    }
  });
});
