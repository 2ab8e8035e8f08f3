/**
 * `kq lab tune`: for a workload and an objective (`--slo wait-p95=60s`), plays each approach's settings
 * on the model engine and keeps, per approach, the cheapest setting (pod-seconds) that meets the
 * objective with no job lost; the recommendation is the cheapest of those. The settings searched are the
 * ones `kq manifests` renders (tune-space.ts: a capacity grid played whole, then timing axes refining its
 * best settings), so every answer comes with the exact command that renders it.
 */
import { ConfigError } from '../errors.js';
import { parseCron } from '../k8s/cron-schedule.js';
import type { ApproachName } from '../k8s/render.js';
import type { Figures } from './measure.js';
import type { LabOptions } from './options.js';
import { approachTailMs } from './run-approach.js';
import { labManifest, runLab } from './run-lab.js';
import {
  describeSetting as describe,
  manifestsCommand,
  type Setting,
  searchSpace,
  settingKey,
  type TimingAxis,
  timingAxes,
  withTiming,
} from './tune-space.js';

export { manifestsCommand, type Setting, searchSpace, timingAxes } from './tune-space.js';

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
  best: {
    approach: ApproachName;
    trial: Trial;
    meets: boolean;
    command: string;
    /** Every setting of the approach was played until this long after the last job was due. */
    spanTailSeconds: number;
  }[];
  recommendation?: { approach: ApproachName; trial: Trial; reason: string; command: string };
  wallMs: number;
}

const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** How many of the grid's best settings the timing search starts from, and its passes over the axes. */
const SEEDS = 2;
const PASSES = 2;

/**
 * A CronJob schedule less often than the objective's bound meets it only when the workload's arrivals
 * happen to fall just before a run (a preset's bursts on the ten-minute marks, a schedule every ten
 * minutes): any other arrival waits up to a whole period. Such schedules are not tried; the rendered one always is.
 */
function withinObjective(axis: TimingAxis, slo: Slo): TimingAxis {
  if (axis.knob !== 'schedule') return axis;
  const period = (v: string | number) => {
    const c = parseCron(String(v));
    const first = c.next(0);
    return c.next(first) - first;
  };
  return { ...axis, values: axis.values.filter((v) => v === axis.rendered || period(v) <= slo.maxMs) };
}

/**
 * The span every setting of an approach is played over after the last job is due: the longest tail any
 * timing value searched gives (a cooldown, a scale-down window, a CronJob period), so an always-on pod
 * costs the same time whichever setting is played, and a shorter window is not cheaper by ending sooner.
 * Each tail is a sum of one term per knob, so the longest is each knob at its own longest.
 */
function spanTailMs(name: ApproachName, o: LabOptions, axes: readonly TimingAxis[]): number {
  const tail = (s: Setting) => approachTailMs(name, labManifest({ ...o, ...s }));
  const longest: Setting = {};
  for (const axis of axes) {
    const values = axis.values.map((v) => ({ v, ms: tail(withTiming({}, axis, v)) }));
    const top = values.reduce((a, b) => (b.ms > a.ms ? b : a));
    Object.assign(longest, withTiming({}, axis, top.v));
  }
  return tail(longest);
}

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
  // Meeting before not; among meeting the cheaper (then the faster), among the rest the closer.
  const rank = (t: Trial) =>
    t.meets ? [0, t.figures.podSeconds, t.figures[slo.figure]] : [1, t.figures.lost, t.figures[slo.figure]];
  const before = (a: Trial, b: Trial) => {
    const [ra, rb] = [rank(a), rank(b)];
    const i = ra.findIndex((x, j) => x !== rb[j]);
    return i >= 0 && (ra[i] as number) < (rb[i] as number);
  };
  for (const name of approaches) {
    const axes = timingAxes(name).map((axis) => withinObjective(axis, slo));
    const tailMs = spanTailMs(name, o, axes);
    const played = new Map<string, Trial>();
    const play = async (setting: Setting): Promise<Trial> => {
      const key = settingKey(setting);
      const seen = played.get(key);
      if (seen) return seen;
      const run = await runLab([name], { ...o, ...setting, engine: 'model' }, undefined, tailMs);
      const figures = (run.results[0] as { figures: Figures }).figures;
      const trial: Trial = { approach: name, setting, figures, meets: ok(figures) };
      played.set(key, trial);
      return trial;
    };
    const grid: Trial[] = [];
    for (const setting of searchSpace(name, maxReplicas)) grid.push(await play(setting));
    // The timing axes refine the best of the grid, one axis at a time, at most twice over.
    for (const seed of [...grid].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0)).slice(0, SEEDS)) {
      let current = seed;
      for (let pass = 0; pass < PASSES; pass++) {
        const from = current;
        for (const axis of axes) {
          for (const value of axis.values) {
            const t = await play(withTiming(current.setting, axis, value));
            if (before(t, current)) current = t;
          }
        }
        if (current === from) break;
      }
    }
    const mine = [...played.values()];
    trials.push(...mine);
    const pick = mine.reduce((a, b) => (before(b, a) ? b : a));
    const meeting = mine.filter((t) => t.meets).length;
    best.push({
      approach: name,
      trial: pick,
      meets: pick.meets,
      command: manifestsCommand(name, pick.setting),
      spanTailSeconds: tailMs / 1000,
    });
    progress(
      `kq lab tune: ${name}: ${mine.length} settings (${grid.length} in the grid, ${mine.length - grid.length} refining timing), ${meeting} meet ${slo.label}; ${pick.meets ? 'cheapest' : 'closest'}: ${describe(pick.setting)} (${slo.figure} ${fmtS(pick.figures[slo.figure])}, ${pick.figures.podSeconds} pod-s)`,
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
