/**
 * Structured logs: one JSON line per event on stdout, with `queue`, `worker` (hostname) and, for job
 * events, `jobId`, `type` and `durationMs`. Secrets never go in here: Redis URLs are redacted.
 */
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

// One destination per process, so loggers sharing stdout (`kq dev`) never interleave partial lines.
// Synchronous writes, so in a quiet process a line is out as soon as the turn of the event loop that
// logged it ends, and under load within ~10 ms (a bound the code sets, not the scheduler); an
// asynchronous destination was tried and dropped: its lines trailed the events they report. Lines of one
// turn (of ~10 ms under load) share one write(2): one write per line cost ~13 µs a job (docs/performance.md). The batch goes to fd 1
// with `writeSync` (writeAll, below), not through pino's SonicBoom destination.
let stdout: DestinationStream | undefined;

let lastSecond = Number.NaN;
let secondPrefix = '';
/**
 * `new Date(ms).toISOString()` without a Date per call (~0.7 µs each, two per finished job): the part up
 * to the second is formatted once per second, the milliseconds appended.
 * @example isoTimeOf(0) === '1970-01-01T00:00:00.000Z'
 */
export function isoTimeOf(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    secondPrefix = new Date(second * 1000).toISOString().slice(0, -4);
  }
  const frac = ms - second * 1000;
  return `${secondPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

let lastMs = -1;
let lastTime = '';
/** pino's `isoTime`, formatted once per millisecond instead of once per line. */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${isoTimeOf(now)}"`;
  }
  return lastTime;
}

/** Marks loggers made by createLogger (children inherit it): their lines have the format infoLine writes. */
const KQ_FORMAT = Symbol('kq.logFormat');

const CENSOR = '[redacted]';
const NESTED_SECRETS = ['password', 'authorization'];

/**
 * Censors `password` and `authorization` one level down (`{ headers: { authorization } }`), as the
 * wildcard paths `*.password` / `*.authorization` would, without pino's wildcard redaction: that runs a
 * redactor over every key of every line and made each line ~40 % dearer (docs/performance.md). Copies
 * only what it censors; the caller's objects are never changed.
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

const busyWait = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text` to `fd` now, as SonicBoom's synchronous mode did, without its copies: a flush
 * through it encoded the batch three times (byteLength, write, a Buffer of the rest) and allocated that
 * Buffer, ~20-45 µs per ~9 KB flush in a busy worker against ~13-15 here (docs/performance.md). A reader
 * that is slow (EAGAIN on a non-blocking pipe) is waited for, as before; one that went away (EPIPE) or
 * any other error drops the batch: logs are dropped, work goes on.
 */
function writeAll(fd: number, text: string): void {
  let buf: Buffer | undefined;
  let at = 0;
  for (;;) {
    try {
      if (buf === undefined) {
        at = writeSync(fd, text);
        if (at === Buffer.byteLength(text)) return;
        buf = Buffer.from(text); // a partial write: go on from the byte it stopped at
      } else at += writeSync(fd, buf, at);
      if (at >= buf.length) return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      Atomics.wait(busyWait, 0, 0, 10);
    }
  }
}

/** Under load, lines wait up to this long to share one write(2) (see batchPerTurn). */
const LOG_BATCH_MS = 10;
/** A batch this long (UTF-16 units, ~64 KB of ASCII) is written at once, whatever the timer says. */
const LOG_BATCH_MAX = 64 * 1024;

/**
 * Collects the lines of one event-loop turn and writes them at its end, and on exit. Under load (the
 * last write less than `LOG_BATCH_MS` ago) the next write waits for a `LOG_BATCH_MS` timer instead, or
 * until `LOG_BATCH_MAX` is pending. Why: each write is a timer, a flush and a `write(2)` whose cost in a
 * busy process is mostly per write, not per byte. With one write per turn a busy API or worker wrote a
 * line or two at a time (~3 µs per request line); with a 1 ms window ~1,000 times a second, which cost a
 * no-op worker ~1 % more CPU than a 10 ms window, measured side by side (docs/performance.md, 2026-11-30
 * second session). So lines trail their events by at most ~10 ms under load, and at once (the end of the turn)
 * in a quiet process; a busy process writes at most ~100 times a second.
 */
function batchPerTurn(fd: number): DestinationStream {
  let pending = '';
  let scheduled = false;
  let lastWrite = Number.NEGATIVE_INFINITY;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const out = pending;
    pending = '';
    lastWrite = performance.now();
    writeAll(fd, out);
  };
  process.on('exit', flush);
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= LOG_BATCH_MAX) flush();
      else if (!scheduled) {
        scheduled = true;
        if (performance.now() - lastWrite < LOG_BATCH_MS) setTimeout(flush, LOG_BATCH_MS);
        else setImmediate(flush);
      }
    },
  };
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
  // A reader that went away (EPIPE: a parent killed, a closed pipe) must not turn every log line into
  // an error that keeps the process from shutting down: writeAll drops the lines, work goes on.
  if (!stdout && !dest) stdout = batchPerTurn(1);
  const logger = pino(
    {
      level,
      base: { worker: hostname(), pid: process.pid, ...bindings },
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }), log: censorNested, bindings: censorNested },
      // Top-level keys only: pino swaps their serializer, which costs nothing on other lines.
      redact: { paths: ['password', 'token', 'authorization'], censor: CENSOR },
    },
    dest ?? stdout,
  );
  (logger as unknown as Record<symbol, unknown>)[KQ_FORMAT] = true;
  // pino does not run the bindings formatter for children: censor their bindings on the way in. Set on
  // the root, the wrapper is inherited by every descendant (pino children are Object.create(parent)).
  const child = logger.child;
  logger.child = function (this: Logger, bindings: Record<string, unknown>, options?: object) {
    return child.call(this, censorNested(bindings), options);
  } as Logger['child'];
  return logger;
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

/**
 * A writer of one hot, fixed-shape `info` line (the worker's `job.completed`): the caller passes the
 * fields as JSON text (`,"event":"job.completed","jobId":"42",...`) and the line is built in one template
 * literal, with the logger's level check, time, bindings and destination, the same text pino writes for
 * `logger.info({...fields}, msg)` (test/log.test.ts). pino's generic path (a formatter, a serializer
 * lookup and several strings per key) made the line ~4-9 µs of a no-op job's CPU in a busy worker
 * (docs/performance.md). Only for fields the caller knows hold no secret: nothing here is redacted. A
 * logger not made by `createLogger` (a library user's own pino) gets the fields through its `info`.
 * @example const done = infoLine(log, 'job completed'); done(`,"event":"job.completed","jobId":${JSON.stringify(id)}`);
 */
export function infoLine(logger: Logger, msg: string): (fields: string) => void {
  const suffix = `,"msg":${JSON.stringify(msg)}}\n`;
  const target = logger as unknown as Record<symbol, unknown>;
  const stream = target[pino.symbols.streamSym] as DestinationStream;
  if (target[KQ_FORMAT] !== true) return (fields) => logger.info(JSON.parse(`{${fields.slice(1)}}`), msg);
  return (fields) => {
    if (!logger.isLevelEnabled('info')) return;
    stream.write(
      `{"level":"info"${isoTime()}${target[pino.symbols.chindingsSym] as string}${fields}${suffix}`,
    );
  };
}
