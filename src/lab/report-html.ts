/**
 * report.html: one self-contained page (no network): uPlot's minified script and stylesheet are inlined
 * from node_modules, the report's data is embedded as JSON, and three charts (jobs queued, running pods,
 * running jobs over workload time, one line per approach) sit above the comparison table.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { reportJson } from './report.js';
import { cell, NOT_PLAYED, TABLE_COLUMNS, UNRELIABLE_MARK } from './report-table.js';

const require = createRequire(import.meta.url);

function uplotAssets(): { js: string; css: string } {
  const dist = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return {
    js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'),
  };
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

const CHART_SCRIPT = `
const data = JSON.parse(document.getElementById('lab-data').textContent);
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const names = Object.keys(data.approaches);
// One shared time axis: every approach's samples on the union of sample times (null where it has none).
function merged(field) {
  const times = [...new Set(names.flatMap((n) => data.approaches[n].series.t))].sort((a, b) => a - b);
  const cols = names.map((n) => {
    const s = data.approaches[n].series;
    const byT = new Map(s.t.map((t, i) => [t, s[field][i]]));
    return times.map((t) => (byT.has(t) && Number.isFinite(byT.get(t)) ? byT.get(t) : null));
  });
  return [times, ...cols];
}
for (const [field, title] of [['queued', 'jobs queued (waiting)'], ['pods', 'pods (running or starting)'], ['runningJobs', 'jobs running']]) {
  const el = document.createElement('div');
  el.className = 'chart';
  el.dataset.field = field;
  document.getElementById('charts').appendChild(el);
  new uPlot({
    title, width: Math.min(1100, window.innerWidth - 40), height: 220,
    scales: { x: { time: false } },
    axes: [{ label: 'workload seconds' }, { label: title }],
    series: [{ label: 't (s)' }, ...names.map((n, i) => ({ label: n, stroke: colors[i % colors.length], width: 1.5, spanGaps: true }))],
  }, merged(field), el);
}
`;

export function renderReportHtml(report: ReturnType<typeof reportJson>): string {
  const { js, css } = uplotAssets();
  const rows = Object.entries(report.approaches)
    .map(
      ([name, a]) =>
        `<tr><th>${esc(name)}</th>${TABLE_COLUMNS.map(([key]) => {
          const why = a.reliability.unreliableFigures[key];
          const value = esc(cell(key, (a as Record<string, unknown>)[key]));
          return why
            ? `<td class="unreliable" title="${esc(why)}">${value}${esc(UNRELIABLE_MARK)}</td>`
            : `<td>${value}</td>`;
        }).join('')}</tr>`,
    )
    .join('\n');
  const banner = report.reliable
    ? ''
    : `<div id="unreliable" class="banner"><b>Unreliable run:</b> what was played strayed from what was asked; figures marked ${esc(UNRELIABLE_MARK)} are not to be trusted.<ul>${report.unreliable
        .flatMap((u) => u.reasons.map((r) => `<li><b>${esc(u.approach)}</b>: ${esc(r)}</li>`))
        .join('')}</ul></div>`;
  const played = Object.entries(report.approaches)
    .map(([name, a]) => `<li><b>${esc(name)}</b>: ${a.played.map(esc).join('; ')}</li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kq lab: ${esc(report.workload.name)}</title>
<style>${css}
body{font:14px system-ui,sans-serif;margin:20px;color:#222}table{border-collapse:collapse;margin:12px 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child{text-align:left}
thead th{background:#f3f3f3}.chart{margin:8px 0}td.unreliable{color:#a00;background:#fff3f3}
.banner{border:2px solid #c00;background:#fff3f3;padding:8px 12px;margin:12px 0}</style></head>
<body>
<h1>kq lab: workload <code>${esc(report.workload.name)}</code></h1>
${banner}
<p>Engine: ${esc(report.engine)}. ${esc(report.workload.description)}. ${report.engine === 'real' ? `Speed ${esc(String(report.settings.speed))}x, ` : ''}${esc(String(report.settings.jobs))} jobs, kill rate ${esc(String(report.settings.killRatePerMinute))}/min. All times are workload time.</p>
<div id="charts"></div>
<h2>Comparison</h2>
<table id="comparison"><thead><tr><th>approach</th>${TABLE_COLUMNS.map(([, label]) => `<th>${esc(label)}</th>`).join('')}</tr></thead>
<tbody>${rows}</tbody></table>
<h2>What was played</h2><ul>${played}</ul>
<h2>What was not played</h2><ul>${NOT_PLAYED.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<script id="lab-data" type="application/json">${scriptJson(report)}</script>
<script>${js}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}
