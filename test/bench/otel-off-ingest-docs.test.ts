/**
 * docs/observability.md ("Traces") says tracing is free when off and cites the A/B count behind it: the
 * figures it quotes are the latest `otelOffIngest` run in bench/results.json (written by
 * `node bench/instructions-ab.mjs --script=ingest --save --key=otelOffIngest`), and what it says of the
 * difference (within or outside the A/A spread) is what those figures say.
 */
import { describe, expect, it } from 'vitest';
import { docSection, readRepo as read, shownCount as shown } from './doc-section.js';

interface Side {
  median: number;
  spreadPercent: number;
  runs: number[];
}
interface Run {
  script: string;
  a: Side;
  b: Side;
  bVsAPercent: number;
}

describe('tracing off, in instructions, in the docs', () => {
  it('quotes the saved A/B count of POST /jobs and reads it as the figures do', () => {
    const run = (
      JSON.parse(read('bench/results.json')) as { otelOffIngest?: { runs: Run[] } }
    ).otelOffIngest?.runs.at(-1);
    expect(run?.script).toBe('ingest-instructions.mjs');
    if (!run) return;
    const section = docSection(read('docs/observability.md'), 'Traces');
    const m =
      /([\d,]+) instructions per accepted `POST \/jobs` with tracing off \(median of (\d+) counts, spread ([\d.]+) %\) against ([\d,]+) with the tracing hooks compiled out \(median of (\d+), spread ([\d.]+) %\): ([+-][\d.]+) %, (within|outside) the spread/.exec(
        section.replace(/\s+/g, ' '),
      );
    expect(m, 'the sentence quoting the A/B count').not.toBeNull();
    if (!m) return;
    const [, offMedian, offRuns, offSpread, outMedian, outRuns, outSpread, diff, verdict] = m;
    expect(offMedian).toBe(shown(run.a.median));
    expect(Number(offRuns)).toBe(run.a.runs.length);
    expect(Number(offSpread)).toBe(run.a.spreadPercent);
    expect(outMedian).toBe(shown(run.b.median));
    expect(Number(outRuns)).toBe(run.b.runs.length);
    expect(Number(outSpread)).toBe(run.b.spreadPercent);
    // The text gives tracing-off against compiled-out: A against B.
    const offVsOut = ((run.a.median - run.b.median) / run.b.median) * 100;
    expect(Number(diff)).toBeCloseTo(offVsOut, 1);
    expect(verdict).toBe(Math.abs(offVsOut) <= run.a.spreadPercent ? 'within' : 'outside');
    expect(run.a.runs.length).toBeGreaterThanOrEqual(5);
  });
});
