/**
 * The soak's figures in docs/performance.md are the ones bench/results.json holds (written by
 * bench/soak.mjs or a full `npm run bench`), and its chart is the one the bench draws from those series.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the bench, without types
import { soakChart } from '../../bench/soak-chart.mjs';
import { docSection, readRepo as read } from './doc-section.js';

interface SoakSample {
  t: number;
  usedMemoryMiB: number;
  keys: number;
  apiRssMiB: number | null;
  workerRssMiB: number[];
}
interface Soak {
  options: { jobs: number; rate: number };
  figures: Record<'kq' | 'bullmq', Record<string, number | null>>;
  series: Record<'kq' | 'bullmq', SoakSample[]>;
  earlierRuns?: { figures: Record<'kq' | 'bullmq', Record<string, number | null>> }[];
}

const soak = (JSON.parse(read('bench/results.json')) as { soak?: Soak }).soak;

describe('soak figures in the docs', () => {
  it('each row of the soak table in performance.md matches bench/results.json', () => {
    expect(soak).toBeDefined();
    const doc = read('docs/performance.md');
    const section = docSection(doc, 'Memory over time (soak)');
    expect(section).toContain('](soak.svg)');
    const rows = [...section.matchAll(/^\| [^|]+\| `(\w+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const shown = (v: number | null | undefined) =>
      v === null || v === undefined ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: 2 });
    for (const [, figure, kq, bullmq, ratio] of rows) {
      const k = soak?.figures.kq[figure as string];
      const b = soak?.figures.bullmq[figure as string];
      expect(kq?.trim(), figure).toBe(shown(k));
      expect(bullmq?.trim(), figure).toBe(shown(b));
      expect(ratio?.trim(), figure).toBe(typeof k === 'number' && b ? `${(k / b).toFixed(3)}x` : '-');
    }
    expect(section).toContain(`${soak?.options.jobs.toLocaleString('en-US')} jobs`);
  });

  it('the range quoted for the earlier runs is theirs', () => {
    const ratios = (soak?.earlierRuns ?? []).map(
      (r) => (r.figures.kq.redisMemoryMiBEnd as number) / (r.figures.bullmq.redisMemoryMiBEnd as number),
    );
    expect(ratios.length).toBeGreaterThan(0);
    const range = `${Math.min(...ratios).toFixed(3)}x-${Math.max(...ratios).toFixed(3)}x after the drain`;
    expect(read('docs/performance.md')).toContain(range);
  });

  it('docs/soak.svg is the chart of those series', () => {
    const s = soak as Soak;
    const chart = soakChart({
      kq: s.series.kq,
      bullmq: s.series.bullmq,
      jobs: s.options.jobs,
      rate: s.options.rate,
    });
    expect(chart.match(/<polyline/g)).toHaveLength(7);
    expect(read('docs/soak.svg')).toBe(chart);
  });
});
