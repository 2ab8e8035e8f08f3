/**
 * Structured logs: one JSON line per event on stdout, with `queue`, `worker` (hostname) and, for job
 * events, `jobId`, `type` and `durationMs`. Secrets never go in here: Redis URLs are redacted.
 */
import { hostname } from 'node:os';
import { type Logger, pino } from 'pino';

export type { Logger };

/** @example const log = createLogger({ component: 'worker', queue: 'jobs' }); */
export function createLogger(
  bindings: Record<string, unknown> = {},
  level = process.env.LOG_LEVEL ?? 'info',
): Logger {
  return pino({
    level,
    base: { worker: hostname(), pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['password', 'token', 'authorization', '*.authorization', '*.password'],
      censor: '[redacted]',
    },
  });
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
