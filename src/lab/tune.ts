/**
 * `kq lab tune`: for a workload and an objective (`--slo wait-p95=60s`), plays each approach's settings
 * on the model engine and keeps, per approach, the cheapest setting (pod-seconds) that meets the
 * objective with no job lost; the recommendation is the cheapest of those. The settings searched are the
 * ones `kq manifests` renders (replicas or min/max replicas, concurrency, target backlog, parallelism),
 * so every answer comes with the exact command that renders it.
 */
import { ConfigError } from '../errors.js';
import type { ApproachName } from '../k8s/render.js';
import type { Figures } from './measure.js';
import type { LabOptions } from './options.js';
import { runLab } from './run-lab.js';

export interface Slo {
  /** The figure it bounds, e.g. `waitP95Ms`. */
  figure: 'waitP50Ms' | 'waitP95Ms' | 'waitP99Ms' | 'endToEndP95Ms';
  label: string;
  maxMs: number;
}

const SLO_FIGURES: Record<string, Slo['figure']> = {
  'wait-p50': 'waitP50Ms',
  'wait-p95': 'waitP95Ms',
  'wait-p99': 'waitP99Ms',
  'e2e-p95': 'endToEndP95Ms',
};

/** `wait-p95=60s` (also `ms`, `m`). @example parseSlo('wait-p95=60s').maxMs === 60_000 */
export function parseSlo(raw: string): Slo {
  const m = /^([a-z0-9-]+)=(\d+(?:\.\d+)?)(ms|s|m)$/.exec(raw.trim());
  const figure = m ? SLO_FIGURES[m[1] as string] : undefined;
  if (!m || !figure) {
    throw new ConfigError(
      `Invalid --slo ${JSON.stringify(raw)}: must be <figure>=<duration>, figure one of ${Object.keys(SLO_FIGURES).join(', ')}, duration like 60s, 500ms or 2m (e.g. --slo wait-p95=60s).`,
      { option: 'slo', value: raw },
    );
  }
  const n = Number(m[2]);
  const maxMs = m[3] === 'ms' ? n : m[3] === 's' ? n * 1000 : n * 60_000;
  return { figure, label: `${m[1]} <= ${m[2]}${m[3]}`, maxMs };
}

/** One setting of an approach: the `kq manifests` flags it sets. */
export type Setting = Partial<
  Pick<
    LabOptions,
    'replicas' | 'parallelism' | 'minReplicas' | 'maxReplicas' | 'concurrency' | 'targetBacklog'
  >
>;

const FLAGS: Record<keyof Setting, string> = {
  replicas: '--replicas',
  parallelism: '--parallelism',
  minReplicas: '--min-replicas',
  maxReplicas: '--max-replicas',
  concurrency: '--concurrency',
  targetBacklog: '--target-backlog',
};

const product = <T extends Record<string, number[]>>(axes: T): { [K in keyof T]: number }[] =>
  Object.entries(axes).reduce<Record<string, number>[]>(
    (acc, [k, values]) => acc.flatMap((s) => values.map((v) => ({ ...s, [k]: v }))),
    [{}],
  ) as { [K in keyof T]: number }[];

/** The settings searched for an approach, within `maxReplicas` when set (0 = no cap). */
export function searchSpace(name: ApproachName, maxReplicas: number): Setting[] {
  const cap = (xs: number[]) => (maxReplicas > 0 ? xs.filter((x) => x <= maxReplicas) : xs);
  const concurrency = [1, 2, 4];
  switch (name) {
    case 'deployment':
      return product({ replicas: cap([1, 2, 3, 4, 6, 8, 12, 16, 24]), concurrency });
    case 'cronjob':
      return product({ parallelism: cap([1, 2, 3, 5, 8, 12, 20]), concurrency });
    case 'keda-scaledjob':
    case 'keda-external-job':
      return product({
        maxReplicas: cap([2, 5, 10, 20, 30, 50]),
        concurrency: [1, 2],
        targetBacklog: [1, 2, 5],
      });
    case 'hpa-prometheus':
    case 'hpa-adapter':
      return product({
        minReplicas: [1],
        maxReplicas: cap([2, 4, 8, 16, 30]),
        concurrency,
        targetBacklog: [1, 2, 5],
      });
    case 'keda-scaledobject':
    case 'keda-external':
      return product({
        minReplicas: [0, 1],
        maxReplicas: cap([2, 4, 8, 16, 30]),
        concurrency,
        targetBacklog: [1, 2, 5],
      });
  }
}

export interface Trial {
  approach: ApproachName;
  setting: Setting;
  figures: Figures;
  meets: boolean;
}

export interface TuneResult {
  slo: Slo;
  /** Most pod-seconds per job-second allowed (0 = no budget). */
  budget: number;
  trials: Trial[];
  /** Per approach: its cheapest setting meeting the objective, or its closest one. */
  best: { approach: ApproachName; trial: Trial; meets: boolean; command: string }[];
  recommendation?: { approach: ApproachName; trial: Trial; reason: string; command: string };
  wallMs: number;
}

/** The exact `kq manifests` command that renders an approach with a setting. */
export function manifestsCommand(name: ApproachName, s: Setting): string {
  const flags = (Object.keys(FLAGS) as (keyof Setting)[])
    .filter((k) => s[k] !== undefined)
    .map((k) => `${FLAGS[k]} ${s[k]}`);
  return ['kq manifests', name, ...flags].join(' ');
}

const describe = (s: Setting) =>
  (Object.keys(FLAGS) as (keyof Setting)[])
    .filter((k) => s[k] !== undefined)
    .map((k) => `${FLAGS[k].slice(2)} ${s[k]}`)
    .join(', ');

const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * `maxReplicas`: the most pods (or Jobs) any setting may use, 0 = the search's own range.
 * @example const r = await tune(['deployment', 'cronjob'], options, parseSlo('wait-p95=60s'), 0, 0);
 */
export async function tune(
  approaches: readonly ApproachName[],
  o: LabOptions,
  slo: Slo,
  budget: number,
  maxReplicas: number,
  progress: (line: string) => void = () => undefined,
): Promise<TuneResult> {
  const started = Date.now();
  const trials: Trial[] = [];
  const best: TuneResult['best'] = [];
  const ok = (f: Figures) =>
    f.lost === 0 && f[slo.figure] <= slo.maxMs && (budget <= 0 || f.podSecondsPerJobSecond <= budget);
  for (const name of approaches) {
    const mine: Trial[] = [];
    for (const setting of searchSpace(name, maxReplicas)) {
      const run = await runLab([name], { ...o, ...setting, engine: 'model' });
      const figures = (run.results[0] as { figures: Figures }).figures;
      mine.push({ approach: name, setting, figures, meets: ok(figures) });
    }
    trials.push(...mine);
    const meeting = mine
      .filter((t) => t.meets)
      .sort(
        (a, b) =>
          a.figures.podSeconds - b.figures.podSeconds || a.figures[slo.figure] - b.figures[slo.figure],
      );
    const closest = [...mine].sort(
      (a, b) => a.figures.lost - b.figures.lost || a.figures[slo.figure] - b.figures[slo.figure],
    );
    const pick = (meeting[0] ?? closest[0]) as Trial;
    best.push({
      approach: name,
      trial: pick,
      meets: pick.meets,
      command: manifestsCommand(name, pick.setting),
    });
    progress(
      `kq lab tune: ${name}: ${mine.length} settings, ${meeting.length} meet ${slo.label}; ${pick.meets ? 'cheapest' : 'closest'}: ${describe(pick.setting)} (${slo.figure} ${fmtS(pick.figures[slo.figure])}, ${pick.figures.podSeconds} pod-s)`,
    );
  }
  const winners = best
    .filter((b) => b.meets)
    .sort((a, b) => a.trial.figures.podSeconds - b.trial.figures.podSeconds);
  const w = winners[0];
  const runnerUp = winners[1];
  return {
    slo,
    budget,
    trials,
    best,
    ...(w
      ? {
          recommendation: {
            approach: w.approach,
            trial: w.trial,
            command: w.command,
            reason: `the cheapest setting meeting ${slo.label} with no job lost: ${w.trial.figures.podSeconds} pod-s (${w.trial.figures.podSecondsPerJobSecond} pod-s per job-second), ${slo.figure} ${fmtS(w.trial.figures[slo.figure])}${runnerUp ? `; next: ${runnerUp.approach} at ${runnerUp.trial.figures.podSeconds} pod-s` : ''}`,
          },
        }
      : {}),
    wallMs: Date.now() - started,
  };
}

/** The answer for the terminal: per approach its pick, then the recommendation and its command. */
export function tuneText(r: TuneResult): string {
  const head = `| approach | setting | ${r.slo.label.split(' ')[0]} s | pod-s | pod-s per job-s | lost | meets ${r.slo.label} |`;
  const sep = '| --- | --- | ---: | ---: | ---: | ---: | --- |';
  const rows = r.best.map(
    (b) =>
      `| ${b.approach} | ${describe(b.trial.setting)} | ${(b.trial.figures[r.slo.figure] / 1000).toFixed(1)} | ${b.trial.figures.podSeconds} | ${b.trial.figures.podSecondsPerJobSecond} | ${b.trial.figures.lost} | ${b.meets ? 'yes (cheapest)' : `no (closest: ${fmtS(b.trial.figures[r.slo.figure] - r.slo.maxMs)} over)`} |`,
  );
  const tail = r.recommendation
    ? [
        `Recommendation: ${r.recommendation.approach}, ${describe(r.recommendation.trial.setting)}: ${r.recommendation.reason}.`,
        `Render it: ${r.recommendation.command}`,
      ]
    : [
        `No approach meets ${r.slo.label}${r.budget > 0 ? ` within ${r.budget} pod-s per job-second` : ''}: the closest settings are shown above.`,
      ];
  return [
    head,
    sep,
    ...rows,
    '',
    ...tail,
    '',
    `Engine: model; ${r.trials.length} settings played in ${fmtS(r.wallMs)}.`,
  ].join('\n');
}
