/**
 * The picture of one job's trace in docs/observability.md, from a live run: a private redis-server,
 * `kq api` and `kq worker` (the built dist/) exporting OTLP/JSON to a receiver in this script, one
 * `POST /jobs` carrying a caller's `traceparent`, a job whose first attempt fails and whose retry
 * completes. The spans of that trace are drawn as a waterfall, one self-contained SVG. Its `<metadata>`
 * holds each span's service, kind, name, depth and attributes (ids and times left out), which
 * test/tracing/trace-picture.test.ts compares with a fresh run.
 *   npm run build && node scripts/trace-picture.mjs [docs/trace.svg]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRedisServer } from '../bench/redis-server.mjs';

const DIST = resolve(import.meta.dirname, '../dist');
const KIND = { 1: 'INTERNAL', 2: 'SERVER', 3: 'CLIENT', 4: 'PRODUCER', 5: 'CONSUMER' };
/** Attributes whose values change from run to run (ids, times): kept by name only in the metadata. */
const VARYING = /(\.id|timestamp|wait_ms)$|^url\.path$/;
/** Shown under each span's name, when present. */
const SHOWN = [
  'http.response.status_code',
  'kq.job.type',
  'kq.job.count',
  'kq.job.attempt',
  'kq.job.outcome',
  'kq.job.wait_ms',
];

const HANDLERS = `import { setTimeout as sleep } from 'node:timers/promises';
import { defineJob, z } from ${JSON.stringify(pathToFileURL(join(DIST, 'index.js')).href)};
// An SMTP server that times out once: the first attempt fails, the retry sends.
export const sendEmail = defineJob({
  name: 'send-email',
  queue: 'emails',
  schema: z.object({ to: z.string() }),
  options: { attempts: 3, backoff: { type: 'fixed', delay: 150 } },
  async handler(ctx) {
    await sleep(ctx.attempt === 1 ? 60 : 90);
    if (ctx.attempt === 1) throw new Error('SMTP timeout');
    return { sent: true };
  },
});
`;

/** An OTLP/HTTP JSON receiver: keeps every span with its resource's service name. */
async function startReceiver() {
  const spans = [];
  const value = (v) =>
    v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue);
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      for (const rs of JSON.parse(body).resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: KIND[s.kind] ?? String(s.kind),
              startMs: Number(BigInt(s.startTimeUnixNano) / 1000n) / 1000,
              endMs: Number(BigInt(s.endTimeUnixNano) / 1000n) / 1000,
              status: s.status?.code ?? 0,
              attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, value(a.value)])),
            });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, spans, close: () => server.close() };
}

function startKq(args, env) {
  const proc = spawn(process.execPath, [join(DIST, 'cli.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lines = [];
  const onData = (c) => {
    output += c;
    for (const l of String(c).split('\n'))
      try {
        lines.push(JSON.parse(l));
      } catch {
        /* not a log line */
      }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise((r) => proc.once('exit', r));
  return { proc, lines, output: () => output, exited };
}

async function until(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`trace-picture: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the scenario; resolves with the spans of the job's trace and the caller's span id. */
export async function captureTrace() {
  const dir = mkdtempSync(join(tmpdir(), 'kq-trace-picture-'));
  const handlers = join(dir, 'handlers.mjs');
  writeFileSync(handlers, HANDLERS);
  const redis = await startRedisServer();
  const otlp = await startReceiver();
  const token = randomBytes(16).toString('hex');
  const otel = {
    REDIS_URL: redis.url,
    HANDLERS: handlers,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  const procs = [];
  try {
    const worker = startKq(['worker'], { ...otel, QUEUE: 'emails', HEALTH_PORT: '0' });
    const api = startKq(['api'], { ...otel, PORT: '0', HOST: '127.0.0.1', API_TOKENS: token });
    procs.push(worker, api);
    const listening = await until('kq api', () => api.lines.find((l) => l.event === 'api.listening'));
    await until('kq worker', () => worker.lines.find((l) => l.event === 'worker.started'));
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const res = await fetch(`http://127.0.0.1:${listening.port}/jobs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpanId}-01`,
      },
      body: JSON.stringify({ type: 'send-email', data: { to: 'ada@example.com' } }),
    });
    if (res.status !== 202) throw new Error(`POST /jobs answered ${res.status}: ${await res.text()}`);
    await until('two attempt spans', () => otlp.spans.filter((s) => s.kind === 'CONSUMER').length >= 2);
    for (const p of procs) p.proc.kill('SIGTERM');
    for (const p of procs)
      if ((await p.exited) !== 0) throw new Error(`kq exited with an error:\n${p.output()}`);
    return { spans: otlp.spans.filter((s) => s.traceId === traceId), callerSpanId };
  } finally {
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    otlp.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Spans in tree order (children by start time), each with its depth under the caller's span. */
export function treeOrder(spans, callerSpanId) {
  const out = [];
  const visit = (parent, depth) => {
    const children = spans.filter((s) => s.parentSpanId === parent).sort((a, b) => a.startMs - b.startMs);
    for (const c of children) {
      out.push({ ...c, depth });
      visit(c.spanId, depth + 1);
    }
  };
  visit(callerSpanId, 1);
  return out;
}

/** What the picture shows and the test compares: no ids, no times. */
export function describeSpans(rows) {
  return rows.map((r) => ({
    service: r.service,
    kind: r.kind,
    name: r.name,
    depth: r.depth,
    error: r.status === 2,
    attributes: Object.fromEntries(
      Object.keys(r.attributes)
        .sort()
        .map((k) => [k, VARYING.test(k) ? '*' : r.attributes[k]]),
    ),
  }));
}

const esc = (s) =>
  String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);
const COLORS = { 'kq-api': '#2ca02c', 'kq-worker': '#1f77b4' };

/** The waterfall as SVG: a label column, then one bar per span on a shared time axis. */
export function renderSvg(rows) {
  const W = 980;
  const LABEL = 470;
  const ROW = 44;
  const TOP = 56;
  const right = 24;
  const t0 = Math.min(...rows.map((r) => r.startMs));
  const t1 = Math.max(...rows.map((r) => r.endMs));
  const totalMs = t1 - t0;
  const x = (m) => LABEL + (m / totalMs) * (W - LABEL - right);
  const H = TOP + (rows.length + 1) * ROW + 48;
  const step = [5, 10, 20, 25, 50, 100, 200, 250, 500, 1000].find((s) => totalMs / s <= 8) ?? 2000;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    "<title>One job's trace in kq: the API's request and enqueue spans, then one worker span per attempt</title>",
    `<metadata id="kq-trace">${esc(JSON.stringify(describeSpans(rows)))}</metadata>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="12" y="22" font-size="14" font-weight="bold">One job's trace: POST /jobs with a traceparent, one retry (${totalMs.toFixed(0)} ms)</text>`,
  ];
  for (let m = 0; m <= totalMs; m += step) {
    parts.push(
      `<line x1="${x(m).toFixed(1)}" y1="${TOP - 8}" x2="${x(m).toFixed(1)}" y2="${H - 48}" stroke="#e5e5e5"/>`,
      `<text x="${x(m).toFixed(1)}" y="${TOP - 12}" text-anchor="middle" fill="#666">${m} ms</text>`,
    );
  }
  const all = [{ caller: true, depth: 0 }, ...rows];
  all.forEach((r, i) => {
    const y = TOP + i * ROW;
    const indent = 12 + r.depth * 16;
    if (i % 2 === 1) parts.push(`<rect x="0" y="${y}" width="${W}" height="${ROW}" fill="#f7f7f7"/>`);
    if (r.caller) {
      parts.push(
        `<text x="${indent}" y="${y + 18}" font-weight="bold">caller's span</text>`,
        `<text x="${indent}" y="${y + 34}" fill="#666">from the request's traceparent header (not exported by kq)</text>`,
      );
      return;
    }
    const shown = SHOWN.filter((k) => k in r.attributes).map(
      (k) => `${k.replace(/^kq\./, '')}=${r.attributes[k]}`,
    );
    parts.push(
      `<text x="${indent}" y="${y + 18}"><tspan font-weight="bold">${esc(r.name)}</tspan><tspan fill="#666">  ${esc(r.kind)} · ${esc(r.service)}</tspan></text>`,
      `<text x="${indent}" y="${y + 34}" fill="#444" font-size="11">${esc(shown.join('  '))}</text>`,
    );
    const x0 = x(r.startMs - t0);
    const width = Math.max(2, x(r.endMs - t0) - x0);
    const dur = r.endMs - r.startMs;
    const fill = r.status === 2 ? '#d62728' : (COLORS[r.service] ?? '#7f7f7f');
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${y + 12}" width="${width.toFixed(1)}" height="20" rx="3" fill="${fill}"/>`,
    );
    const label = `${dur.toFixed(1)} ms`;
    const labelX = x0 + width + 4 + 60 > W ? x0 - 4 : x0 + width + 4;
    parts.push(
      `<text x="${labelX.toFixed(1)}" y="${y + 26}" text-anchor="${labelX < x0 ? 'end' : 'start'}" fill="#333">${label}</text>`,
    );
  });
  const ly = H - 12;
  parts.push(
    `<rect x="12" y="${ly - 10}" width="12" height="12" fill="${COLORS['kq-api']}"/><text x="30" y="${ly}">kq-api</text>`,
    `<rect x="90" y="${ly - 10}" width="12" height="12" fill="${COLORS['kq-worker']}"/><text x="108" y="${ly}">kq-worker</text>`,
    `<rect x="190" y="${ly - 10}" width="12" height="12" fill="#d62728"/><text x="208" y="${ly}">error status (a failed attempt)</text>`,
    `<text x="12" y="${ly - 22}" fill="#666">The gap between the enqueue and an attempt is the time the job waited in Redis (wait_ms counts from when it was due); between two attempts, the backoff.</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = resolve(process.argv[2] ?? 'docs/trace.svg');
  const { spans, callerSpanId } = await captureTrace();
  const rows = treeOrder(spans, callerSpanId);
  if (rows.length !== spans.length)
    throw new Error('trace-picture: a span of the trace is not under the caller');
  writeFileSync(out, renderSvg(rows));
  console.log(`${out}: ${rows.length} spans`);
  process.exit(0);
}
