/**
 * Structured logs: one JSON line per event on stdout, with `queue`, `worker` (hostname) and, for job
 * events, `jobId`, `type` and `durationMs`. Secrets never go in here: Redis URLs are redacted.
 */
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * Lines collect in memory here until `LOG_MIN_BYTES` are pending or a `LOG_FLUSH_MS` timer, started by
 * the first line after a hand-over, fires; then the batch goes to pino's standard destination (SonicBoom)
 * in one `write()`, which writes it asynchronously. A busy process writes a batch at a time instead of a
 * line at a time, an idle one not at all, and a slow reader (EAGAIN) is retried by SonicBoom on a timer,
 * never waited for on the event loop. So a line trails its event by about `LOG_FLUSH_MS` while the reader
 * keeps up. The batch is made here rather than with SonicBoom's `minLength` because SonicBoom's `write()`
 * measures its whole pending chunk in UTF-8 bytes on every call, so collecting there costs time that
 * grows with the batch, per line (docs/performance.md). At exit what is pending is handed over first,
 * and pino's destination writes it synchronously (`process.exit` after SIGTERM, a fatal error, the end of
 * work), so a normal exit loses no line.
 *
 * At most one batch is in SonicBoom at a time: while it is being written (until its `drain`), new lines
 * keep collecting here (up to `LOG_MAX_PENDING`). So at exit SonicBoom has nothing queued, and what is
 * pending here is written by `writeAtExit`, which drops it on EPIPE and gives up after bounded retries on
 * EAGAIN. SonicBoom's own `flushSync`, which pino calls at exit, retries every other error for ever: with
 * a reader gone (EPIPE) and nothing queued in SonicBoom it has nothing to write and returns.
 */
const LOG_FLUSH_MS = 10;
/** Pending characters that hand a batch over before the timer; under SonicBoom's `maxWrite`. */
const LOG_MIN_BYTES = 32 * 1024;
const LOG_MAX_WRITE = 64 * 1024;
/** Past this many pending characters a batch goes to SonicBoom even while one is being written. */
const LOG_MAX_PENDING = 1024 * 1024;
/** At exit, a reader that is not reading (EAGAIN) gets this many more tries, then the rest is dropped. */
const EXIT_EAGAIN_TRIES = 10_000;

/** @example isoTimeOf(0) === '1970-01-01T00:00:00.000Z' */
export function isoTimeOf(ms: number): string {
  return new Date(ms).toISOString();
}

const CENSOR = '[redacted]';
const NESTED_SECRETS = ['password', 'authorization'];

/**
 * Censors `password` and `authorization` one level down (`{ headers: { authorization } }`), as the
 * wildcard paths `*.password` / `*.authorization` would, without pino's wildcard redaction, which runs a
 * redactor over every key of every line (its cost: docs/performance.md). Copies only what it censors;
 * the caller's objects are never changed.
 */
function censorNested(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const key in obj) {
    const inner = obj[key];
    if (inner === null || typeof inner !== 'object') continue;
    const hits = NESTED_SECRETS.filter((k) => Object.hasOwn(inner, k));
    if (hits.length === 0) continue;
    // A full copy (prototype, non-enumerable `message` / `stack` included) so an Error still serializes.
    const copy = Object.create(Object.getPrototypeOf(inner), Object.getOwnPropertyDescriptors(inner));
    for (const k of hits) copy[k] = CENSOR;
    if (out === obj) out = { ...obj };
    out[key] = copy;
  }
  return out;
}

// One destination per process, so loggers sharing stdout (`kq dev`) never interleave partial lines.
let stdout: DestinationStream | undefined;

/**
 * stdout through pino's own destination; a reader that went away (EPIPE) silences it, work goes on.
 * SonicBoom starts a write for each batch at once (no `minLength`), or queues it behind the write in
 * flight and starts it when that one is done.
 */
function stdoutDestination(): DestinationStream {
  const sonic = pino.destination({ dest: 1, sync: false, maxWrite: LOG_MAX_WRITE });
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  /** A batch is in SonicBoom and not written yet (its `drain` not seen). */
  let writing = false;
  /** The reader went away (EPIPE): lines are dropped from now on, as pino's destination does. */
  let broken = false;
  const arm = () => {
    if (timer) return;
    timer = setTimeout(handOver, LOG_FLUSH_MS);
    timer.unref();
  };
  const handOver = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (broken) pending = '';
    if (pending === '' || (writing && pending.length < LOG_MAX_PENDING)) return;
    const batch = pending;
    pending = '';
    writing = true;
    sonic.write(batch);
  };
  sonic.on('drain', () => {
    writing = false;
    if (pending !== '') arm();
  });
  sonic.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') broken = true;
  });
  // Before pino's own handlers (registered with the destination above).
  process.prependListener('beforeExit', handOver);
  process.prependListener('exit', () => {
    if (timer) clearTimeout(timer);
    if (!broken && pending !== '') writeAtExit(pending);
    pending = '';
  });
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= LOG_MIN_BYTES) handOver();
      else arm();
    },
  };
}

/** Writes what is left at exit (no event loop any more): EPIPE drops it, EAGAIN is retried, bounded. */
function writeAtExit(text: string): void {
  let buf = Buffer.from(text);
  let tries = 0;
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(1, buf));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++tries > EXIT_EAGAIN_TRIES) return;
    }
  }
}

/**
 * @param dest where lines go (tests); by default stdout, shared by every logger of the process.
 * @example const log = createLogger({ component: 'worker', queue: 'jobs' });
 */
export function createLogger(
  bindings: Record<string, unknown> = {},
  level = process.env.LOG_LEVEL ?? 'info',
  dest?: DestinationStream,
): Logger {
  if (!stdout && !dest) stdout = stdoutDestination();
  return pino(
    {
      level,
      base: { worker: hostname(), pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Child bindings skip the bindings formatter (pino applies it to the root's only); their top-level
      // secrets are still redacted below, and kq's own children bind ids only.
      formatters: { level: (label) => ({ level: label }), log: censorNested, bindings: censorNested },
      // Top-level keys only: pino swaps their serializer, which costs nothing on other lines.
      redact: { paths: ['password', 'token', 'authorization'], censor: CENSOR },
    },
    dest ?? stdout,
  );
}

/** `redis://user:secret@host:6379/0` -> `redis://user:***@host:6379/0`, for logs and error messages. */
export function redactUrl(url: string): string {
  // No `scheme://` (`127.0.0.1:6379`, or `u:secret@h:1`, which WHATWG reads as scheme `u:` with the
  // password in its path): shown as given, so the user sees what they typed, with anything before an `@`
  // blanked in case it holds a password.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    const at = url.lastIndexOf('@');
    return at === -1 ? url : `***@${url.slice(at + 1)}`;
  }
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    // Host lists (redis+sentinel://h1,h2/m) are not WHATWG URLs: blank the password by hand.
    const m = /^([a-z+]+:\/\/)([^@/]*@)?(.*)$/i.exec(url);
    if (!m) return '[invalid url]';
    const userinfo = m[2] ?? '';
    const colon = userinfo.indexOf(':');
    return `${m[1]}${colon === -1 ? userinfo : `${userinfo.slice(0, colon)}:***@`}${m[3]}`;
  }
}
