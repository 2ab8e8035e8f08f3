/**
 * The two latest full `npm run bench` tables in docs/performance.md are the ones bench/results.json holds:
 * "Latest full run" is the file's own run, "The full run before it" is `earlierFullRuns[0]` (bench/run.mjs
 * keeps the run a full run replaces), each as bench/report.mjs prints it.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the bench, without types
import { formatTable } from '../../bench/report.mjs';
import { docSection, readRepo as read } from './doc-section.js';

interface FullRun {
  date: string;
  mode: string;
  rows: unknown[];
  versions: { commit: string };
  machine: { loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
}
const results = JSON.parse(read('bench/results.json')) as FullRun & { earlierFullRuns?: FullRun[] };
const doc = read('docs/performance.md');
/** The `| ... |` lines of a table, as printed by the bench. */
const tableRows = (text: string) => text.split('\n').filter((l) => l.startsWith('| '));

describe('full benchmark runs in the docs', () => {
  const cases: [string, FullRun | undefined][] = [
    ['Latest full run', results],
    ['The full run before it', results.earlierFullRuns?.[0]],
  ];
  it.each(cases)(
    '"%s" shows its run’s table, date, commit and load as bench/results.json holds them',
    (heading, run) => {
      expect(run?.mode).toBe('full');
      const section = docSection(doc, heading);
      expect(section).not.toBe('');
      const printed = tableRows(formatTable(run) as string);
      expect(printed.length).toBeGreaterThan(10);
      expect(tableRows(section).filter((l) => !l.startsWith('| ---'))).toEqual(
        printed.filter((l) => !l.startsWith('| ---')),
      );
      const r = run as FullRun;
      expect(section).toContain(`\`${r.versions.commit}\``);
      expect(section).toContain(r.date.slice(0, 16).replace('T', ' '));
      expect(section).toContain(r.machine.loadAverageAtStart.join(' / '));
      expect(section).toContain(r.machine.loadAverageAtEnd.join(' / '));
    },
  );
});
