/** The waiters' figures in docs/performance.md are the ones bench/results.json holds (bench/waiters.mjs). */
import { describe, expect, it } from 'vitest';
import { docSection, readRepo as read } from './doc-section.js';

interface Waiters {
  date: string;
  loadAverage: number[];
  figures: Record<string, number>;
}

describe('waiters figures in the docs', () => {
  it('each figure of "Waiting for jobs" matches bench/results.json', () => {
    const w = (JSON.parse(read('bench/results.json')) as { waiters?: Waiters }).waiters;
    expect(w).toBeDefined();
    const f = (w as Waiters).figures;
    const doc = read('docs/performance.md');
    const section = docSection(doc, 'Waiting for jobs');
    expect(section).not.toBe('');
    const n = (v: number | undefined) =>
      (v ?? Number.NaN).toLocaleString('en-US', { maximumFractionDigits: 2 });
    const row = (label: string) => section.split('\n').find((l) => l.startsWith(`| ${label}`)) ?? '';
    expect(row('waiters answered')).toContain(`${n(f.completed)} of ${n(f.waiters)}`);
    expect(row('waiters answered')).toContain(`${n((f.answeredAllMs ?? 0) / 1000)} s`);
    expect(row('API RSS, idle')).toContain(`${n(f.rssIdleMiB)} MiB`);
    expect(row('API RSS with')).toContain(`${n(f.rssHeldMiB)} MiB (+${n(f.rssGrowthMiB)} MiB`);
    expect(row('API CPU, 2,000 waiters arriving')).toContain(`${n(f.cpuMsArrival)} ms`);
    expect(row('API CPU while they are held')).toContain(`${n(f.cpuMsPerSecondHeld)} ms per second`);
    expect(row('API CPU answering')).toContain(`${n(f.cpuMsAnswering)} ms`);
    expect(row('Redis clients')).toContain(`${n(f.redisClientsIdle)} / ${n(f.redisClientsHeld)}`);
    expect(section).toContain(`load average ${n((w as Waiters).loadAverage[0])}`);
    expect(section).toContain(`${n(f.waiters)} concurrent`);
  });
});
