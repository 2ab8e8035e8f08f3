/**
 * tune.html: the trade-off `kq lab tune` searched, one self-contained page (inline SVG, no script): per
 * approach a scatter of pod-seconds against the objective's figure, one point per setting played, the
 * objective as a line and the approach's pick ringed.
 */
import type { TuneResult } from './tune.js';

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

const W = 360;
const H = 220;
const PAD = 40;

function scatter(r: TuneResult, approach: string): string {
  const mine = r.trials.filter((t) => t.approach === approach);
  const pick = r.best.find((b) => b.approach === approach)?.trial;
  const xs = mine.map((t) => t.figures.podSeconds);
  const ys = mine.map((t) => t.figures[r.slo.figure] / 1000);
  const xMax = Math.max(1, ...xs) * 1.05;
  const yMax = Math.max(r.slo.maxMs / 1000, ...ys) * 1.1;
  const px = (x: number) => PAD + (x / xMax) * (W - PAD - 10);
  const py = (y: number) => H - PAD - (y / yMax) * (H - PAD - 10);
  const points = mine
    .map((t) => {
      const x = px(t.figures.podSeconds).toFixed(1);
      const y = py(t.figures[r.slo.figure] / 1000).toFixed(1);
      const ring =
        t === pick ? `<circle cx="${x}" cy="${y}" r="7" fill="none" stroke="#d62728" stroke-width="2"/>` : '';
      return `<circle cx="${x}" cy="${y}" r="3" fill="${t.meets ? '#2ca02c' : '#999'}"><title>${esc(JSON.stringify(t.setting))}</title></circle>${ring}`;
    })
    .join('');
  const slo = py(r.slo.maxMs / 1000).toFixed(1);
  return `<figure class="tradeoff" data-approach="${esc(approach)}"><figcaption>${esc(approach)}</figcaption>
<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<line x1="${PAD}" y1="${H - PAD}" x2="${W - 10}" y2="${H - PAD}" stroke="#333"/><line x1="${PAD}" y1="10" x2="${PAD}" y2="${H - PAD}" stroke="#333"/>
<line x1="${PAD}" y1="${slo}" x2="${W - 10}" y2="${slo}" stroke="#d62728" stroke-dasharray="4 3"/>
<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">pod-seconds (0-${Math.round(xMax)})</text>
<text x="12" y="${H / 2}" font-size="11" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${esc(r.slo.figure)} s (0-${Math.round(yMax)})</text>
${points}</svg></figure>`;
}

export function tuneHtml(r: TuneResult): string {
  const approaches = [...new Set(r.trials.map((t) => t.approach))];
  const rec = r.recommendation;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kq lab tune</title>
<style>body{font:14px system-ui,sans-serif;margin:20px;color:#222}figure{display:inline-block;margin:8px}</style></head>
<body><h1>kq lab tune: ${esc(r.slo.label)}</h1>
<p>Engine: model. Green: meets the objective with no job lost; grey: does not; ringed: the approach's pick (cheapest meeting, or closest). Dashed: the objective.</p>
<p id="recommendation">${rec ? `Recommendation: <b>${esc(rec.approach)}</b>, ${esc(rec.reason)}. <code>${esc(rec.command)}</code>` : 'No setting meets the objective.'}</p>
${approaches.map((a) => scatter(r, a)).join('\n')}
</body></html>
`;
}
