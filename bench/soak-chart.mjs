/**
 * The soak's chart: three small panels over time (Redis used_memory, Redis keys, process RSS), kq
 * against plain BullMQ, as one self-contained SVG (no fonts or scripts to load).
 */

const W = 720;
const PANEL_H = 170;
const PAD = { left: 64, right: 150, top: 28, bottom: 34 };
const COLORS = {
  kq: '#1f77b4',
  bullmq: '#d62728',
  kqApi: '#2ca02c',
  kqWorker: '#1f77b4',
  bullWorker: '#d62728',
};

const esc = (s) =>
  String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);

/** Rounds `max` up to a "nice" axis top (1, 2, 2.5 or 5 times a power of ten). */
function niceTop(max) {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

const fmt = (v) => (v >= 10_000 ? `${Math.round(v / 1000)}k` : `${Math.round(v * 10) / 10}`);

function panel(y0, title, unit, lines, maxT) {
  const h = PANEL_H - PAD.top - PAD.bottom;
  const w = W - PAD.left - PAD.right;
  const maxV = niceTop(Math.max(...lines.flatMap((l) => l.points.map((p) => p[1])).filter(Number.isFinite)));
  const x = (t) => PAD.left + (t / maxT) * w;
  const y = (v) => y0 + PAD.top + h - (v / maxV) * h;
  const out = [`<text x="${PAD.left}" y="${y0 + 18}" font-weight="bold">${esc(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (maxV * i) / 4;
    out.push(
      `<line x1="${PAD.left}" x2="${PAD.left + w}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const t = (maxT * i) / 4;
    out.push(`<text x="${x(t)}" y="${y0 + PANEL_H - 14}" text-anchor="middle">${Math.round(t)} s</text>`);
  }
  out.push(
    `<text x="12" y="${y0 + PAD.top + h / 2}" transform="rotate(-90 12 ${y0 + PAD.top + h / 2})" text-anchor="middle">${esc(unit)}</text>`,
  );
  lines.forEach((l, i) => {
    const pts = l.points.filter((p) => Number.isFinite(p[1]));
    if (!pts.length) return;
    out.push(
      `<polyline fill="none" stroke="${l.color}" stroke-width="1.6"${l.dash ? ' stroke-dasharray="5 3"' : ''} points="${pts.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`,
      `<line x1="${W - PAD.right + 12}" x2="${W - PAD.right + 32}" y1="${y0 + PAD.top + 8 + i * 18}" y2="${y0 + PAD.top + 8 + i * 18}" stroke="${l.color}" stroke-width="2"${l.dash ? ' stroke-dasharray="5 3"' : ''}/>`,
      `<text x="${W - PAD.right + 38}" y="${y0 + PAD.top + 12 + i * 18}">${esc(l.name)}</text>`,
    );
  });
  return out.join('\n');
}

/** @param o { kq, bullmq: samples[], jobs, rate } */
export function soakChart({ kq, bullmq, jobs, rate }) {
  const maxT = Math.max(kq.at(-1)?.t ?? 1, bullmq.at(-1)?.t ?? 1);
  const series = (samples, pick) => samples.map((s) => [s.t, pick(s)]);
  const maxOf = (s) => Math.max(...s.workerRssMiB.filter(Number.isFinite));
  const panels = [
    panel(
      30,
      'Redis used_memory',
      'MiB',
      [
        { name: 'kq', color: COLORS.kq, points: series(kq, (s) => s.usedMemoryMiB) },
        { name: 'BullMQ', color: COLORS.bullmq, dash: true, points: series(bullmq, (s) => s.usedMemoryMiB) },
      ],
      maxT,
    ),
    panel(
      30 + PANEL_H,
      'Redis keys (DBSIZE)',
      'keys',
      [
        { name: 'kq', color: COLORS.kq, points: series(kq, (s) => s.keys) },
        { name: 'BullMQ', color: COLORS.bullmq, dash: true, points: series(bullmq, (s) => s.keys) },
      ],
      maxT,
    ),
    panel(
      30 + 2 * PANEL_H,
      'Process RSS',
      'MiB',
      [
        { name: 'kq api', color: COLORS.kqApi, points: series(kq, (s) => s.apiRssMiB) },
        { name: 'kq worker (max)', color: COLORS.kqWorker, points: series(kq, maxOf) },
        { name: 'BullMQ worker (max)', color: COLORS.bullWorker, dash: true, points: series(bullmq, maxOf) },
      ],
      maxT,
    ),
  ];
  const H = 30 + 3 * PANEL_H;
  const title = `Soak: ${jobs.toLocaleString('en-US')} jobs at ${rate} jobs/s, default job options (samples over time)`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<title>${esc(title)}</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>
${panels.join('\n')}
</svg>
`;
}
