/**
 * The `burst` table of docs/lab.md is what the model engine produces: every approach with the default
 * manifests, and the setting `kq lab tune --workload burst --slo wait-p95=60s` picks for it. The model
 * columns of the agreement tables (model beside real, `smoke` and `burst`) are too, and their differences
 * are the real columns against them. The model is deterministic, so the figures must match exactly.
 * Slow tier (the tune plays 506 settings).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseOptions } from '../../src/config.js';
import type { ApproachName } from '../../src/k8s/render.js';
import { labOptionSpecs } from '../../src/lab/options.js';
import { runLab } from '../../src/lab/run-lab.js';
import { spawnKq } from '../helpers/kq-process.js';

const dir = mkdtempSync(join(tmpdir(), 'kq-lab-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function kq(args: string[]) {
  const p = spawnKq(args, {});
  const { code } = await p.waitForExit(240_000);
  expect(code, p.output()).toBe(0);
  return p.output();
}

function docRows(marker = 'burst-tune-table'): string[][] {
  const doc = readFileSync(resolve(import.meta.dirname, '../../docs/lab.md'), 'utf8');
  const table = new RegExp(`<!-- ${marker} -->\\n([\\s\\S]*?)<!-- /${marker} -->`).exec(doc)?.[1] ?? '';
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

const pct = (model: string, real: string) => {
  const d = Math.round((Number(real) / Number(model) - 1) * 100);
  return `${d >= 0 ? '+' : '-'}${Math.abs(d)} %`;
};

/**
 * An agreement table's model columns are what the model produces for the row's options, and its
 * differences are the real columns against them. `setting`: the row's manifest flags (`defaults`: none).
 */
async function checkAgreementRow(workload: string, row: string[], setting = 'defaults') {
  const [approach, , podStart, , , mWait, rWait, dWait, mPodS, rPodS, dPodS] = row as string[];
  const flags = setting === 'defaults' ? [] : setting.replaceAll('`', '').split(' ');
  const o = parseOptions(
    labOptionSpecs,
    ['--engine', 'model', '--workload', workload, '--pod-start-seconds', podStart as string, ...flags],
    {},
  ).values;
  const m = (await runLab([approach as ApproachName], o)).results[0]?.figures;
  expect([(Number(m?.waitP95Ms) / 1000).toFixed(1), String(m?.podSeconds)], row.join(' | ')).toEqual([
    mWait,
    mPodS,
  ]);
  expect([pct(mWait as string, rWait as string), pct(mPodS as string, rPodS as string)]).toEqual([
    dWait,
    dPodS,
  ]);
}

it('docs/lab.md: the model columns of the smoke agreement table are what the model produces', async () => {
  const rows = docRows('smoke-agreement-table');
  expect(rows.length).toBeGreaterThanOrEqual(3);
  for (const row of rows) await checkAgreementRow('smoke', row);
});

it('docs/lab.md: the model columns of the burst agreement table are what the model produces', async () => {
  const rows = docRows('burst-agreement-table');
  expect(rows.length).toBeGreaterThanOrEqual(8);
  // Its second column is the setting: the rest is the smoke table's.
  for (const [approach, setting, ...rest] of rows)
    await checkAgreementRow('burst', [approach as string, ...rest], setting);
}, 120_000);
