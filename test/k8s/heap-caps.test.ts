/**
 * Every Node.js container kq renders (API, workers, sweeper, metrics adapter, KEDA scaler), in every
 * approach, caps V8's heap under its memory limit: left alone, V8 sizes the heap from the node's memory,
 * not the container's, and a busy process runs into the OOM killer instead of collecting.
 */
import { describe, expect, it } from 'vitest';
import { APPROACH_NAMES } from '../../src/k8s/render.js';
import { kqContainers, render } from './manifest-fixture.js';

const MEBI: Record<string, number> = { Mi: 1, Gi: 1024 };

function limitMi(limit: string | undefined): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(limit ?? '');
  if (!m) throw new Error(`unexpected memory limit ${limit}`);
  return Number(m[1]) * (MEBI[m[2] as string] as number);
}

describe('heap caps under the memory limit', () => {
  for (const approach of APPROACH_NAMES) {
    it(approach, () => {
      const found = kqContainers(render(approach));
      expect(found.length).toBeGreaterThan(0);
      for (const { obj, container } of found) {
        const where = `${obj.kind}/${obj.metadata.name}`;
        const options = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
        const heap = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
        const limit = limitMi(container.resources?.limits?.memory as string | undefined);
        expect(heap, `${where}: NODE_OPTIONS ${JSON.stringify(options)}`).toBeGreaterThan(0);
        // Room above the old space for the young generation, code and buffers.
        expect(heap, where).toBeLessThanOrEqual(limit / 2);
      }
      const names = found.map((f) => f.container.name);
      if (approach === 'hpa-adapter') expect(names).toContain('metrics-adapter');
      if (approach.startsWith('keda-external')) expect(names).toContain('keda-scaler');
    });
  }
});
