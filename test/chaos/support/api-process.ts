/**
 * A real `kq api` process on a free loopback port, and two ways to talk to it: `call()` (fetch, bounded
 * by a timeout, never throws on a status) and `rawRequest()` (node:net, for requests fetch refuses to send:
 * broken framing, repeated or missing headers, invalid bytes, oversized headers).
 */
import { connect } from 'node:net';
import { type KqProcess, spawnKq } from '../../helpers/kq-process.js';

export interface ApiProcess {
  proc: KqProcess;
  port: number;
  base: string;
}

/** Stops it as Kubernetes would: SIGTERM, then SIGKILL if it is still running after `graceMs`. */
export async function stopApi(api: ApiProcess, graceMs = 10_000): Promise<void> {
  api.proc.kill('SIGTERM');
  await api.proc.waitForExit(graceMs).catch(() => api.proc.kill('SIGKILL'));
}

/** Starts `kq api` with PORT=0 and waits for its `api.listening` line. */
export async function startApi(env: Record<string, string>, name = 'kq api'): Promise<ApiProcess> {
  const proc = spawnKq(['api'], { HOST: '127.0.0.1', PORT: '0', ...env }, name);
  const line = await proc.waitForLog('api.listening', (l) => l.event === 'api.listening', 30_000);
  const port = Number(line.port);
  return { proc, port, base: `http://127.0.0.1:${port}` };
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** Parsed body when it is JSON. */
  json: unknown;
  ms: number;
  /** Set when no answer came (timeout, reset). */
  error?: string;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** @example const a = await call(api.base, 'POST', '/jobs', { body: { type: 'chaos-work' } }); */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer> {
  const t0 = Date.now();
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: Object.fromEntries(res.headers.entries()),
      text,
      json: parseJson(text),
      ms: Date.now() - t0,
    };
  } catch (err) {
    return { status: 0, headers: {}, text: '', json: undefined, ms: Date.now() - t0, error: String(err) };
  }
}

/**
 * Sends `request` as is over a fresh connection and reads until the server closes it, a full response
 * arrived (Content-Length satisfied), or `timeoutMs` passed.
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 10_000): Promise<Answer> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const h of headerLines) {
        const i = h.indexOf(':');
        if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
      }
      const text = Buffer.from(rest.join('\r\n\r\n'), 'latin1').toString('utf8');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({
        status,
        headers,
        text,
        json: parseJson(text),
        ms: Date.now() - t0,
        error: status ? undefined : (error ?? 'no answer'),
      });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(raw.slice(0, end))?.[1];
      if (end >= 0 && len !== undefined && Buffer.byteLength(raw, 'latin1') - end - 4 >= Number(len))
        finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (e) => finish(e.message));
    socket.write(request);
  });
}

/** True when `json` is kq's error shape: `{"error": {"code": string, "message": string, ...}}`. */
export function isErrorShape(json: unknown): boolean {
  const e = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.message === 'string';
}
