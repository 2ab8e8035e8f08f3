/**
 * The `burst` table of docs/lab.md is what the model engine produces: every approach with the default
 * manifests, and the setting `kq lab tune --workload burst --slo wait-p95=60s` picks for it. The model is
 * deterministic, so the figures must match exactly. Slow tier (the tune plays 506 settings).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { spawnKq } from '../helpers/kq-process.js';

const dir = mkdtempSync(join(tmpdir(), 'kq-lab-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function kq(args: string[]) {
  const p = spawnKq(args, {});
  const { code } = await p.waitForExit(240_000);
  expect(code, p.output()).toBe(0);
  return p.output();
}

function docRows(): string[][] {
  const doc = readFileSync(resolve(import.meta.dirname, '../../docs/lab.md'), 'utf8');
  const table = /<!-- burst-tune-table -->\n([\s\S]*?)<!-- \/burst-tune-table -->/.exec(doc)?.[1] ?? '';
  return table
    .trim()
    .split('\n')
    .slice(2)
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

interface Figures {
  waitP95Ms: number;
  podSeconds: number;
  podSecondsPerJobSecond: number;
}

it('docs/lab.md: the burst table, defaults and tuned, is what the model produces', async () => {
  const rows = docRows();
  expect(rows).toHaveLength(8);
  await kq(['lab', 'tune', '--workload', 'burst', '--slo', 'wait-p95=60s', '--report', join(dir, 'tune')]);
  const tuned = JSON.parse(readFileSync(join(dir, 'tune', 'tune.json'), 'utf8')) as {
    best: { approach: string; command: string; trial: { figures: Figures } }[];
  };
  for (const row of rows) {
    const [approach, dWait, dPodS, dPer, setting, tWait, tPodS, tPer] = row as [string, ...string[]];
    await kq([
      'lab',
      'run',
      approach,
      '--engine',
      'model',
      '--workload',
      'burst',
      '--report',
      join(dir, approach),
    ]);
    const d = JSON.parse(readFileSync(join(dir, approach, 'report.json'), 'utf8')).approaches[
      approach
    ] as Figures;
    expect(
      [(d.waitP95Ms / 1000).toFixed(1), String(d.podSeconds), String(d.podSecondsPerJobSecond)],
      approach,
    ).toEqual([dWait, dPodS, dPer]);
    const best = tuned.best.find((b) => b.approach === approach);
    const flags = best?.command.replace(`kq manifests ${approach} `, '');
    const t = best?.trial.figures as Figures;
    expect(
      [
        `\`${flags}\``,
        (t.waitP95Ms / 1000).toFixed(1),
        String(t.podSeconds),
        String(t.podSecondsPerJobSecond),
      ],
      approach,
    ).toEqual([setting, tWait, tPodS, tPer]);
  }
}, 300_000);
