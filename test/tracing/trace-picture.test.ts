/**
 * The picture of one job's trace in docs/observability.md (docs/trace.svg) shows what kq exports: the
 * script that draws it (scripts/trace-picture.mjs) runs its live scenario again, and the spans it
 * captures (services, kinds, names, nesting, attribute names and their stable values) are the ones the
 * committed picture describes in its metadata and draws.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, without types
import { captureTrace, describeSpans, renderSvg, treeOrder } from '../../scripts/trace-picture.mjs';

const root = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(resolve(root, p), 'utf8');

interface Described {
  service: string;
  kind: string;
  name: string;
  depth: number;
  error: boolean;
  attributes: Record<string, string | number | boolean>;
}

const unescapeXml = (s: string) =>
  s.replace(/&(quot|lt|gt|amp);/g, (_, e: string) => ({ quot: '"', lt: '<', gt: '>', amp: '&' })[e] ?? '');

function metadata(svg: string): Described[] {
  const m = /<metadata id="kq-trace">([^<]*)<\/metadata>/.exec(svg);
  if (!m?.[1]) throw new Error('no kq-trace metadata in the SVG');
  return JSON.parse(unescapeXml(m[1])) as Described[];
}

describe("the picture of one job's trace", () => {
  it('matches the spans a live API and worker export for a retried job, and the doc shows it', async () => {
    expect(read('docs/observability.md')).toContain('](trace.svg)');
    const { spans, callerSpanId } = await captureTrace();
    const rows = treeOrder(spans, callerSpanId);
    // Every span of the trace hangs under the caller's span.
    expect(rows).toHaveLength(spans.length);
    const fresh = describeSpans(rows) as Described[];
    expect(fresh.map((s) => [s.depth, s.kind, s.service, s.name])).toEqual([
      [1, 'SERVER', 'kq-api', 'POST /jobs'],
      [2, 'PRODUCER', 'kq-api', 'enqueue emails'],
      [3, 'CONSUMER', 'kq-worker', 'process emails'],
      [3, 'CONSUMER', 'kq-worker', 'process emails'],
    ]);
    expect(fresh[2]).toMatchObject({
      error: true,
      attributes: { 'kq.job.attempt': 1, 'kq.job.outcome': 'retried', 'kq.job.wait_ms': '*' },
    });
    expect(fresh[3]).toMatchObject({
      error: false,
      attributes: { 'kq.job.attempt': 2, 'kq.job.outcome': 'completed' },
    });
    const committed = read('docs/trace.svg');
    expect(metadata(committed)).toEqual(fresh);
    // What the picture draws is what its metadata says.
    expect(metadata(renderSvg(rows) as string)).toEqual(fresh);
    for (const s of fresh) {
      expect(committed).toContain(`<tspan font-weight="bold">${s.name}</tspan>`);
      expect(committed).toContain(`${s.kind} · ${s.service}`);
    }
    expect(committed).toContain('job.attempt=1  job.outcome=retried');
    expect(committed).toContain('job.attempt=2  job.outcome=completed');
  });
});
