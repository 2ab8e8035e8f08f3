/**
 * Structured logs: one JSON line per event on stdout, with `queue`, `worker` (hostname) and, for job
 * events, `jobId`, `type` and `durationMs`. Secrets never go in here: Redis URLs are redacted.
 */
import { hostname } from 'node:os';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

// A busy worker writes two lines per job. Written synchronously that is one write(2) per line, the
// largest cost in a no-op job's profile (docs/performance.md); asynchronously, lines logged while a
// write is in flight go out together. pino flushes what is pending synchronously on process exit. One
// destination per process, so loggers sharing stdout (`kq dev`) never interleave partial lines.
let stdout: DestinationStream | undefined;

let lastMs = -1;
let lastTime = '';
/** pino's `isoTime`, formatted once per millisecond instead of once per line. */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/** @example const log = createLogger({ component: 'worker', queue: 'jobs' }); */
export function createLogger(
  bindings: Record<string, unknown> = {},
  level = process.env.LOG_LEVEL ?? 'info',
): Logger {
  if (!stdout) {
    const dest = pino.destination({ dest: 1, sync: false });
    // A reader that went away (EPIPE: a parent killed, a closed pipe) must not turn every log line into
    // an error that keeps the process from shutting down: logs are dropped, work goes on.
    (dest as unknown as NodeJS.EventEmitter).on('error', () => undefined);
    stdout = dest;
  }
  return pino(
    {
      level,
      base: { worker: hostname(), pid: process.pid, ...bindings },
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['password', 'token', 'authorization', '*.authorization', '*.password'],
        censor: '[redacted]',
      },
    },
    stdout,
  );
}

/** `redis://user:secret@host:6379/0` -> `redis://user:***@host:6379/0`, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[invalid url]';
  }
}
