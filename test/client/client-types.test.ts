/**
 * `createClient<typeof jobs>`: a wrong payload or an unknown type does not compile. tsc (the compiler
 * API) checks a fixture with intentional errors and must report exactly those; a correct call compiles.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const here = import.meta.dirname;

const sources = new Map<string, string>();
let diagnosed: Map<string, string[]> | undefined;

/**
 * The diagnostics of `name`'s source (see `sources`), by line. One compiler program checks every source
 * at once: each is a module of its own, and most of a program's cost is checking what they import.
 */
function diagnose(name: string): string[] {
  if (!diagnosed) {
    // Next to the fixtures, so the relative imports resolve; removed afterwards.
    const dir = mkdtempSync(resolve(here, 'fixtures/tmp-'));
    try {
      const files = new Map([...sources.keys()].map((n) => [resolve(dir, `${n}.ts`), n]));
      for (const [file, n] of files) writeFileSync(file, sources.get(n) as string);
      const program = ts.createProgram([...files.keys()], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        skipLibCheck: true,
        types: ['node'],
      });
      const found = new Map<string, string[]>([...sources.keys()].map((n) => [n, []]));
      for (const d of ts.getPreEmitDiagnostics(program)) {
        const n = d.file && files.get(d.file.fileName);
        if (!n) continue;
        const line = d.file?.getLineAndCharacterOfPosition(d.start ?? 0).line ?? -1;
        found.get(n)?.push(`${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      }
      for (const errors of found.values())
        errors.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
      diagnosed = found;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return diagnosed.get(name) ?? [];
}

const header = `import { createClient } from '../../../../src/client/client.js';
import type * as jobs from '../jobs.js';
const kq = createClient<typeof jobs>({ url: 'http://127.0.0.1:1', token: 't' });
`;

sources.set(
  'ok',
  `${header}
export async function f() {
  const id: string = await kq.enqueue('report', { month: '2026-11' });
  await kq.enqueue('work', {});
  await kq.enqueue('work', { ms: 5 }, { queue: 'other', priority: 1 });
  const job = await kq.wait(id, { timeoutMs: 1000 });
  await kq.schedules.set({ id: 'n', type: 'report', data: { month: '2026-11' }, cron: '0 3 * * *', tz: 'UTC' });
  const s = await kq.schedules.set({ id: 'w', type: 'work', data: {}, every: 5000, queue: 'other' });
  const next: string | null = s.nextRunAt;
  const tree = await kq.flow({
    type: 'report',
    data: { month: '2026-11' },
    children: [{ type: 'work', data: { ms: 1 }, opts: { ignoreDependencyOnFailure: true }, children: [{ type: 'report', data: { month: '2026-10' } }] }],
  });
  const childId: string | undefined = tree.children?.[0]?.id;
  return [job.status, next, childId];
}
`,
);
sources.set(
  'bad-enqueue',
  `${header}
export async function f() {
  await kq.enqueue('report', { month: 202611 });
  await kq.enqueue('report', {});
  await kq.enqueue('nope', {});
  await kq.enqueue('helper', {});
}
`,
);
sources.set(
  'bad-schedule',
  `${header}
export async function f() {
  await kq.schedules.set({ id: 'n', type: 'report', data: { month: 202611 }, cron: '0 3 * * *' });
  await kq.schedules.set({ id: 'n', type: 'report', data: {}, every: 5000 });
  await kq.schedules.set({ id: 'n', type: 'nope', data: {}, every: 5000 });
  await kq.schedules.set({ id: 'n', type: 'work', data: {}, every: 5000, cron: '* * * * *' });
  await kq.flow({ type: 'report', data: { month: 1 } });
  await kq.flow({ type: 'work', data: {}, children: [{ type: 'report', data: { month: '2026-11' }, children: [{ type: 'report', data: { month: 3 } }] }] });
  await kq.flow({ type: 'work', data: {}, children: [{ type: 'nope', data: {} }] });
  await kq.schedules.set({ id: 'n', type: 'work', data: {}, cron: '* * * * *' });
}
`,
);

describe('typed client', () => {
  it('accepts payloads the schemas accept', () => {
    expect(diagnose('ok')).toEqual([]);
  }, 60_000);

  it('rejects a wrong payload, a missing field and an unknown type, each on its line', () => {
    const errors = diagnose('bad-enqueue');
    const lines = errors.map((e) => Number(e.split(':')[0]));
    expect(lines).toEqual([6, 7, 8, 9]);
    expect(errors[0]).toMatch(/number.*not assignable.*string/s);
    expect(errors[1]).toMatch(/month/);
    expect(errors[2]).toMatch(/"nope"/);
  }, 60_000);

  it('rejects a wrong schedule or flow payload, at any depth, and a schedule with both cron and every', () => {
    const errors = diagnose('bad-schedule');
    const lines = errors.map((e) => Number(e.split(':')[0]));
    expect(lines).toEqual([6, 7, 8, 9, 10, 11, 12]);
    expect(errors[0]).toMatch(/number.*not assignable.*string/s);
    expect(errors[1]).toMatch(/month/);
    expect(errors[2]).toMatch(/"nope"/);
    expect(errors[3]).toMatch(/every|cron/);
    expect(errors[4]).toMatch(/number.*not assignable.*string/s);
    expect(errors[5]).toMatch(/number.*not assignable.*string/s);
    expect(errors[6]).toMatch(/"nope"/);
  }, 60_000);
});
