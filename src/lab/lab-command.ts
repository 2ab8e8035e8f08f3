/**
 * `kq lab run <approach>` / `kq lab compare [approaches...]`: plays approaches against a workload on the
 * model engine, or with real `kq worker` processes (`--engine real`; docs/lab.md). Options are parsed here, from `src/lab/options.ts`. Loaded by
 * `src/cli/lab.ts` only when the command runs: it needs the manifest renderer (kubernetes-models), which
 * the container image leaves out.
 */
import { resolve } from 'node:path';
import { formatHelp, parseOptions } from '../config.js';
import { ConfigError } from '../errors.js';
import { APPROACH_NAMES, type ApproachName, isApproachName } from '../k8s/render.js';
import { labOptionSpecs } from './options.js';
import { PRESETS } from './presets.js';
import { runRecordCommand } from './record-command.js';
import { writeReports } from './report.js';
import { markdownTable } from './report-table.js';
import { LabWorkerStartError } from './run-approach.js';
import { runLab } from './run-lab.js';
import { LAB_SUMMARY as summary } from './summary.js';
import { runTuneCommand } from './tune-command.js';

function help(): string {
  const presets = Object.values(PRESETS)
    .map((p) => `  ${p.name.padEnd(14)} ${p.description}`)
    .join('\n');
  return `${formatHelp('Usage: kq lab run <approach> [options]\n       kq lab compare [approaches...] [options]\n       kq lab tune [approaches...] --slo wait-p95=60s [--budget N] [--max-replicas N] [--verify]\n       kq lab record --redis-url <url> --queue <name> [--since 24h] [--out workload.json]', summary, labOptionSpecs)}\nApproaches: ${APPROACH_NAMES.join(', ')}\n\nWorkload presets:\n${presets}\n`;
}

function approachesOf(mode: string, names: string[]): ApproachName[] {
  for (const n of names) {
    if (!isApproachName(n)) {
      throw new ConfigError(
        `Unknown approach ${JSON.stringify(n)}: must be one of ${APPROACH_NAMES.join(', ')}.`,
        {
          option: 'approach',
          value: n,
        },
      );
    }
  }
  if (mode === 'run' && names.length !== 1) {
    throw new ConfigError(
      `\`kq lab run\` takes exactly one approach (${APPROACH_NAMES.join(', ')}); to play several, use \`kq lab compare\`.`,
      {
        option: 'approach',
      },
    );
  }
  return names.length ? (names as ApproachName[]) : APPROACH_NAMES;
}

/** Runs `kq lab` with its arguments after `lab`; resolves to the exit code. */
export async function runLabCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  {
    const {
      values,
      positionals,
      help: wantsHelp,
      given,
    } = parseOptions(labOptionSpecs, argv, env, 1 + APPROACH_NAMES.length);
    const [mode, ...names] = positionals;
    if (wantsHelp || mode === undefined) {
      process.stdout.write(help());
      return wantsHelp ? 0 : 2;
    }
    if (mode === 'tune') return runTuneCommand(approachesOf(mode, names), values, given);
    if (mode === 'record') return runRecordCommand(values);
    if (mode !== 'run' && mode !== 'compare') {
      throw new ConfigError(
        `Unknown \`kq lab\` mode ${JSON.stringify(mode)}: use \`kq lab run <approach>\`, \`kq lab compare [approaches...]\`, \`kq lab tune [approaches...]\` or \`kq lab record --queue <name>\`.`,
        {
          option: 'mode',
          value: mode,
        },
      );
    }
    const approaches = approachesOf(mode, names);
    if (values.engine === 'model' && given.has('speed')) {
      throw new ConfigError(
        `--speed ${values.speed} compresses a real run in wall time: use it with --engine real (the model engine, the default, plays the whole workload at once).`,
        { option: 'speed', value: String(values.speed) },
      );
    }
    const run = await runLab(approaches, values, (line) => process.stderr.write(`${line}\n`)).catch(
      (err: unknown) => {
        if (err instanceof LabWorkerStartError) return err;
        throw err;
      },
    );
    if (run instanceof LabWorkerStartError) {
      process.stderr.write(`${run.message}\n`);
      return 1;
    }
    process.stdout.write(`${markdownTable(run)}\n`);
    if (run.engine === 'model')
      process.stderr.write(
        'kq lab: played on the model engine (a simulation of the rendered controllers); --engine real plays real kq worker processes\n',
      );
    if (values.report) {
      for (const file of writeReports(resolve(values.report), run)) process.stderr.write(`wrote ${file}\n`);
    }
    const leftover = run.results.filter((r) => r.processesLeft > 0);
    if (leftover.length) {
      process.stderr.write(
        `kq lab: worker processes left running after ${leftover.map((r) => r.approach).join(', ')}\n`,
      );
      return 1;
    }
    return 0;
  }
}
