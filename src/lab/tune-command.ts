/**
 * `kq lab tune [approaches...]`: the search (tune.ts) on the model engine, its answer on stdout, with
 * `--verify` the recommended setting replayed on the real engine beside the model's figures, and with
 * `--report` tune.json and tune.html (the cost / objective trade-off, one point per setting played, the
 * winners marked). Exit 0 with a recommendation, 3 when no setting meets the objective.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ApproachName } from '../k8s/render.js';
import type { LabOptions } from './options.js';
import { runLab } from './run-lab.js';
import { parseSlo, settingOptions, type TuneResult, tune, tuneText } from './tune.js';
import { tuneHtml } from './tune-html.js';

/** Exit code of a tune that found no setting meeting the objective. */
export const NO_SETTING_MEETS = 3;

/** @example await runTuneCommand(['keda-scaledobject'], values, given) */
export async function runTuneCommand(
  approaches: readonly ApproachName[],
  values: LabOptions,
  given: ReadonlySet<keyof LabOptions>,
): Promise<number> {
  if (values.engine !== 'model') {
    throw new ConfigError(
      '`kq lab tune` searches on the model engine (--engine model); to check its answer on the real engine, add --verify.',
      { option: 'engine', value: values.engine },
    );
  }
  const slo = parseSlo(values.slo);
  // --max-replicas caps the search only when given (its manifest default, 10, is not a cap).
  const cap = given.has('maxReplicas') ? values.maxReplicas : 0;
  const result = await tune(approaches, values, slo, values.budget, cap, (line) =>
    process.stderr.write(`${line}\n`),
  );
  process.stdout.write(`${tuneText(result)}\n`);
  if (values.report) writeTuneReport(resolve(values.report), result);
  const rec = result.recommendation;
  if (!rec) return NO_SETTING_MEETS;
  if (values.verify) {
    process.stderr.write(`kq lab tune: replaying ${rec.command} on the real engine\n`);
    // The same span as the model played, so the two cost the same stretch of time.
    const span = result.best.find((b) => b.approach === rec.approach)?.spanTailSeconds ?? 0;
    const real = await runLab(
      [rec.approach],
      { ...settingOptions(values, rec.trial.setting), engine: 'real' },
      (line) => process.stderr.write(`${line}\n`),
      span * 1000,
    );
    const r = real.results[0];
    if (r) {
      const m = rec.trial.figures;
      const rows = (
        [
          [`${slo.figure} s`, m[slo.figure] / 1000, r.figures[slo.figure] / 1000],
          ['pod-s', m.podSeconds, r.figures.podSeconds],
          ['pod-s per job-s', m.podSecondsPerJobSecond, r.figures.podSecondsPerJobSecond],
          ['completed', m.completed, r.figures.completed],
          ['lost', m.lost, r.figures.lost],
        ] as const
      ).map(([k, a, b]) => `| ${k} | ${a} | ${b} |`);
      process.stdout.write(
        `\nVerify (speed ${real.speed}, pod start ${values.podStartSeconds} s):\n| figure | model | real |\n| --- | ---: | ---: |\n${rows.join('\n')}\n${
          r.reliability.reliable
            ? 'The real run is reliable at this speed.'
            : `The real run is not reliable: ${r.reliability.reasons.join('; ')}`
        }\n`,
      );
    }
  }
  return 0;
}

function writeTuneReport(dir: string, r: TuneResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'tune.json'),
    `${JSON.stringify({ engine: 'model', ...r, wallMs: undefined }, null, 2)}\n`,
  );
  writeFileSync(join(dir, 'tune.html'), tuneHtml(r));
  process.stderr.write(`wrote ${join(dir, 'tune.json')}\nwrote ${join(dir, 'tune.html')}\n`);
}
