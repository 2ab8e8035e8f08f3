/** Turns per-variant summaries into table rows (figure vs baseline vs target) and the Markdown table. */
import { round, summarize } from './stats.mjs';

/**
 * One row: the kq figure, its baseline, their ratio and whether the target is met. `stat`: 'median'
 * (the default: the ratio of the medians), 'mean', or 'paired': the median of the per-run ratios
 * (run i of kq against run i of the baseline, which ran next to it), with their min-max. Paired ratios
 * cancel drift that hits both variants of a round alike; on a noisy machine they are the better estimate.
 */
export function judge(row, summaries) {
  const stat = row.stat ?? 'median';
  const pick = (variant) => {
    const s = summaries[variant]?.[row.figure];
    if (!s) return undefined;
    const value =
      stat === 'mean'
        ? s.runs.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) / s.runs.length
        : s.median;
    return { value, min: s.min, max: s.max, runs: s.runs };
  };
  const kq = pick(row.variant ?? 'kq');
  const baseline = pick(row.baseline ?? 'bullmq');
  let ratio = kq && baseline?.value ? kq.value / baseline.value : null;
  let ratioRange;
  if (stat === 'paired' && kq && baseline) {
    const paired = summarize(kq.runs.map((k, i) => k / baseline.runs[i]));
    ratio = paired.median;
    ratioRange = paired.median === null ? undefined : [round(paired.min, 3), round(paired.max, 3)];
  }
  const usable = ratio !== null && Number.isFinite(ratio);
  const met =
    row.met && kq && Number.isFinite(kq.value)
      ? row.met(kq.value, baseline?.value, usable ? ratio : null)
      : null;
  return {
    scenario: row.scenario,
    stat,
    kq,
    baseline,
    baselineName: row.baselineName,
    ratio: usable ? round(ratio, 3) : null,
    ...(ratioRange ? { ratioRange } : {}),
    target: row.target,
    met,
  };
}

function cell(x, stat) {
  if (!x) return '-';
  if (!Number.isFinite(x.value)) return 'n/a';
  const v = round(x.value, x.value >= 100 ? 0 : x.value >= 10 ? 1 : 2);
  if (stat === 'mean' || x.runs.length < 2) return String(v);
  const r = (y) => round(y, y >= 100 ? 0 : y >= 10 ? 1 : 2);
  return `${v} (${r(x.min)}-${r(x.max)})`;
}

export function formatTable(results) {
  const lines = [
    `kq benchmark, ${results.mode} mode, ${results.runs} run(s) per variant (processing and cold start: more, see results.json), ${results.date}`,
    `machine: ${results.machine.cpus} x ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, load ${results.machine.loadAverageAtStart.join(' ')} -> ${results.machine.loadAverageAtEnd?.join(' ')}; node ${results.versions.node}, redis ${results.versions.redis}, bullmq ${results.versions.bullmq}`,
    '',
    '| scenario | kq | baseline | kq / baseline | target | met |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results.rows) {
    const met = r.met === null ? '-' : r.met ? 'yes' : '**no**';
    const ratio = r.ratioRange ? `${r.ratio} (${r.ratioRange.join('-')}), paired` : (r.ratio ?? '-');
    lines.push(
      `| ${r.scenario} | ${cell(r.kq, r.stat)} | ${cell(r.baseline, r.stat)} ${r.baselineName ? `(${r.baselineName})` : ''} | ${ratio} | ${r.target} | ${met} |`,
    );
  }
  lines.push(
    '',
    'Figures are medians over the runs (min-max in brackets); "share" rows are means; a "paired" ratio is the median of the per-run ratios (run i against the baseline run next to it), with their min-max.',
    '',
  );
  return lines.join('\n');
}
