/**
 * KEDA's arithmetic (v2.x `pkg/scaling`): a ScaledJob's per-poll count of new Jobs under each scaling
 * strategy, how several triggers combine, and `scalingModifiers` formulas that are sums of trigger names.
 */

/** One trigger's reading: the metric and its per-replica target (`listLength`). */
export interface TriggerReading {
  name: string;
  value: number;
  target: number;
}

/**
 * maxScale of a ScaledJob: per trigger min(ceil(value / target), max), combined across triggers by
 * `multipleScalersCalculation` (max by default), capped at maxReplicaCount.
 * @example scaledJobMaxScale([{ name: 'wait', value: 7, target: 1 }], 'max', 5) // 5
 */
export function scaledJobMaxScale(
  readings: readonly TriggerReading[],
  calculation: string,
  max: number,
): number {
  const per = readings.map((r) => Math.min(Math.ceil(r.value / r.target), max));
  if (per.length === 0) return 0;
  let combined: number;
  if (calculation === 'sum') combined = per.reduce((a, b) => a + b, 0);
  else if (calculation === 'min') combined = Math.min(...per);
  else if (calculation === 'avg') combined = Math.ceil(per.reduce((a, b) => a + b, 0) / per.length);
  else combined = Math.max(...per);
  return Math.min(combined, max);
}

/**
 * Jobs a ScaledJob creates on this poll. `running` = unfinished Jobs, `pending` = those whose pod is not
 * running yet. Unknown strategies (`custom` needs its own parameters) fall back to `default`.
 * @example scaledJobNewJobs({ strategy: 'accurate', maxScale: 3, running: 2, pending: 1, max: 10 }) // 2
 */
export function scaledJobNewJobs(o: {
  strategy: string;
  maxScale: number;
  running: number;
  pending: number;
  max: number;
}): number {
  let n: number;
  if (o.strategy === 'accurate') {
    n = o.maxScale + o.running - o.pending > o.max ? o.max - o.running : o.maxScale - o.pending;
  } else if (o.strategy === 'eager') {
    n = Math.min(o.max - o.running - o.pending, o.maxScale);
  } else {
    n = o.maxScale - o.running;
  }
  return Math.max(0, n);
}

/**
 * Evaluates a `scalingModifiers.formula` made of trigger names joined by `+` (the only form kq renders);
 * anything else is refused with the formula in the message rather than guessed.
 */
export function sumFormula(formula: string, values: Readonly<Record<string, number>>): number {
  const names = formula.split('+').map((s) => s.trim());
  let total = 0;
  for (const name of names) {
    const v = values[name];
    if (v === undefined || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
      throw new Error(
        `kq lab plays scalingModifiers formulas that add trigger names ("a + b"); cannot evaluate ${JSON.stringify(formula)} (known triggers: ${Object.keys(values).join(', ')})`,
      );
    }
    total += v;
  }
  return total;
}
