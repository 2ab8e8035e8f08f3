/**
 * The ingest instruction counts in docs/performance.md ("Ingest") are the ones bench/results.json holds
 * (written by `node bench/ingest-instructions.mjs --save --label=...`), each ratio is the quotient of its
 * counts, and the runs were made with the warm-up, request and connection numbers the text gives.
 */
import { describe, expect, it } from 'vitest';
import { docSection, readRepo as read, shownCount as shown } from './doc-section.js';

interface Figures {
  accepted: number;
  perRequest: number;
}
interface Run {
  label: string;
  requests: number;
  warmupRequests: number;
  connections: number;
  figures: { kq: Figures; fastify: Figures };
  ratios: { kq: number; fastify: number };
}

describe('ingest instructions in the docs', () => {
  it('each row of the table matches the run of its label in bench/results.json', () => {
    const runs = (JSON.parse(read('bench/results.json')) as { ingestInstructions?: { runs: Run[] } })
      .ingestInstructions?.runs;
    expect(runs?.length).toBeGreaterThanOrEqual(1);
    const section = docSection(read('docs/performance.md'), 'Ingest');
    expect(section).not.toBe('');
    // | `9ed2ba0`, run 1 (2026-12-07) | 700,493 | 449,632 | 1.558 |
    const rows = [
      ...section.matchAll(/^\| `(\w+)`, run (\d+)[^|]*\| ([\d,]+) \| ([\d,]+) \| ([\d.]+) \|$/gm),
    ];
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const [, commit, n, kq, fastify, ratio] of rows) {
      const label = `${commit} run ${n}`;
      const run = runs?.findLast((r) => r.label === label);
      expect(run, `a run labelled ${label}`).toBeDefined();
      if (!run) continue;
      expect(kq).toBe(shown(run.figures.kq.perRequest));
      expect(fastify).toBe(shown(run.figures.fastify.perRequest));
      expect(Number(ratio)).toBe(run.ratios.kq);
      expect(run.ratios.kq).toBeCloseTo(run.figures.kq.perRequest / run.figures.fastify.perRequest, 2);
      // Every measured request was answered (the script tolerates 1 % of errors; these runs had none).
      expect(run.figures.kq.accepted).toBe(run.requests);
      expect(run.figures.fastify.accepted).toBe(run.requests);
      expect(section).toContain(
        `${run.warmupRequests} warm-up and ${run.requests} measured requests at ${run.connections} connections`,
      );
    }
  });
});
