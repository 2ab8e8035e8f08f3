/**
 * What `kq lab tune` searches: per approach, the settings `kq manifests` renders, in two parts. The
 * capacity grid (replicas or min/max replicas, concurrency, target backlog, parallelism) is played whole;
 * the timing axes (KEDA's polling interval and cooldown, the HPA's stabilization windows, the CronJob's
 * schedule) refine the best of the grid one axis at a time (tune.ts), since their full product with the
 * grid would multiply the search many times over.
 */
import type { ApproachName } from '../k8s/render.js';
import type { LabOptions } from './options.js';

/** One setting of an approach: the `kq manifests` flags it sets (unset: the rendered default). */
export type Setting = Partial<
  Pick<
    LabOptions,
    | 'replicas'
    | 'parallelism'
    | 'minReplicas'
    | 'maxReplicas'
    | 'concurrency'
    | 'targetBacklog'
    | 'pollingIntervalSeconds'
    | 'cooldownPeriodSeconds'
    | 'scaleUpWindowSeconds'
    | 'scaleDownWindowSeconds'
    | 'schedule'
  >
>;

export type TimingKnob =
  | 'pollingIntervalSeconds'
  | 'cooldownPeriodSeconds'
  | 'scaleUpWindowSeconds'
  | 'scaleDownWindowSeconds'
  | 'schedule';

/** The flags in the order a command shows them. */
const FLAGS: Record<keyof Setting, string> = {
  replicas: '--replicas',
  parallelism: '--parallelism',
  minReplicas: '--min-replicas',
  maxReplicas: '--max-replicas',
  concurrency: '--concurrency',
  targetBacklog: '--target-backlog',
  pollingIntervalSeconds: '--polling-interval-seconds',
  cooldownPeriodSeconds: '--cooldown-period-seconds',
  scaleUpWindowSeconds: '--scale-up-window-seconds',
  scaleDownWindowSeconds: '--scale-down-window-seconds',
  schedule: '--schedule',
};

const product = <T extends Record<string, number[]>>(axes: T): { [K in keyof T]: number }[] =>
  Object.entries(axes).reduce<Record<string, number>[]>(
    (acc, [k, values]) => acc.flatMap((s) => values.map((v) => ({ ...s, [k]: v }))),
    [{}],
  ) as { [K in keyof T]: number }[];

/** The capacity settings searched for an approach, within `maxReplicas` when set (0 = no cap). */
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

export interface TimingAxis {
  knob: TimingKnob;
  /** What the approach renders without the flag. */
  rendered: number | string;
  /** The values tried, the rendered one among them. */
  values: readonly (number | string)[];
}

const EVERY_MINUTE = '* * * * *';

/** The timing axes of an approach, each with its rendered default (none for `deployment`). */
export function timingAxes(name: ApproachName): TimingAxis[] {
  const windows: TimingAxis[] = [
    { knob: 'scaleUpWindowSeconds', rendered: 0, values: [0, 30, 60] },
    { knob: 'scaleDownWindowSeconds', rendered: 600, values: [30, 60, 120, 300, 600] },
  ];
  const polling = (rendered: number): TimingAxis => ({
    knob: 'pollingIntervalSeconds',
    rendered,
    values: [...new Set([5, 10, 15, 30, rendered])].sort((a, b) => a - b),
  });
  switch (name) {
    case 'deployment':
      return [];
    case 'cronjob':
      return [
        {
          knob: 'schedule',
          rendered: EVERY_MINUTE,
          values: [EVERY_MINUTE, '*/2 * * * *', '*/5 * * * *', '*/10 * * * *'],
        },
      ];
    case 'keda-scaledjob':
      return [polling(15)];
    case 'keda-external-job':
      return [polling(5)];
    case 'hpa-prometheus':
    case 'hpa-adapter':
      return windows;
    case 'keda-scaledobject':
    case 'keda-external':
      return [
        polling(name === 'keda-external' ? 30 : 15),
        { knob: 'cooldownPeriodSeconds', rendered: 300, values: [30, 60, 120, 300] },
        ...windows,
      ];
  }
}

/** `s` with `knob` set to `value`, or without it when that is what the approach renders anyway. */
export function withTiming(s: Setting, axis: TimingAxis, value: number | string): Setting {
  const { [axis.knob]: _, ...rest } = s;
  return value === axis.rendered ? rest : { ...rest, [axis.knob]: value };
}

/** A stable key: the same setting, whatever the order its flags were set in. */
export const settingKey = (s: Setting): string =>
  (Object.keys(FLAGS) as (keyof Setting)[])
    .filter((k) => s[k] !== undefined)
    .map((k) => `${k}=${s[k]}`)
    .join(',');

const setFlags = (s: Setting) => (Object.keys(FLAGS) as (keyof Setting)[]).filter((k) => s[k] !== undefined);

/** A shell word: a schedule has spaces and `*`, so it is quoted. */
const shellWord = (v: number | string) => (/^[\w.-]+$/.test(String(v)) ? String(v) : `'${v}'`);

/**
 * The exact `kq manifests` command that renders an approach with a setting.
 * @example manifestsCommand('cronjob', { parallelism: 2 }) === 'kq manifests cronjob --parallelism 2'
 */
export function manifestsCommand(name: ApproachName, s: Setting): string {
  return [
    'kq manifests',
    name,
    ...setFlags(s).map((k) => `${FLAGS[k]} ${shellWord(s[k] as number | string)}`),
  ].join(' ');
}

/** The setting in words for the terminal: `replicas 2, concurrency 4`. */
export const describeSetting = (s: Setting): string =>
  setFlags(s)
    .map((k) => `${FLAGS[k].slice(2)} ${s[k]}`)
    .join(', ');
