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
/** Pending bytes that hand a batch over before the timer; under SonicBoom's `maxWrite`. */
const LOG_MIN_BYTES = 32 * 1024;
const LOG_MAX_WRITE = 64 * 1024;
/** The buffers lines collect in: room for `LOG_MIN_BYTES` and a line of up to ~10 K characters after them. */
const SLAB_BYTES = 64 * 1024;
/** Past this many pending bytes a batch goes to SonicBoom even while one is being written. */
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
 *
 * Pending lines are kept as UTF-8 bytes in a buffer outside the JavaScript heap, not as a string: each
 * line's string dies young, so a batch waiting for its timer is never copied by the young-generation GC
 * nor promoted to the old generation, and SonicBoom (in `buffer` mode) does not measure and re-encode the
 * whole batch on the way out. Two buffers take turns: one collects while the other is being written.
 */
function stdoutDestination(): DestinationStream {
  const sonic = pino.destination({ dest: 1, sync: false, maxWrite: LOG_MAX_WRITE, contentMode: 'buffer' });
  /** Collects lines; `used` bytes of it are pending. */
  let slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  let used = 0;
  /** Filled while a batch was being written: they go out, in order, before `slab`. */
  let full: Buffer[] = [];
  let fullBytes = 0;
  /** The buffer of the batch SonicBoom is writing, reused once it is written; and one ready for reuse. */
  let inFlight: Buffer | undefined;
  let spare: Buffer | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** A batch is in SonicBoom and not written yet (its `drain` not seen). */
  let writing = false;
  /** The reader went away (EPIPE): lines are dropped from now on, as pino's destination does. */
  let broken = false;
  // In `buffer` mode SonicBoom's write takes bytes; its type declares strings only.
  const send = (bytes: Buffer) => sonic.write(bytes as unknown as string);
  const nextSlab = () => {
    const next = spare ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
    spare = undefined;
    used = 0;
    return next;
  };
  const drop = () => {
    full = [];
    fullBytes = 0;
    used = 0;
  };
  const arm = () => {
    if (timer) return;
    timer = setTimeout(handOver, LOG_FLUSH_MS);
    timer.unref();
  };
  const handOver = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (broken) drop();
    const pending = fullBytes + used;
    if (pending === 0 || (writing && pending < LOG_MAX_PENDING)) return;
    // Past LOG_MAX_PENDING while a batch is in flight, SonicBoom queues this one: its buffer is not reused.
    const reusable = !writing;
    writing = true;
    for (const b of full) send(b);
    full = [];
    fullBytes = 0;
    if (used > 0) {
      send(slab.subarray(0, used));
      if (reusable) inFlight = slab;
      slab = nextSlab();
    }
  };
  sonic.on('drain', () => {
    writing = false;
    spare = inFlight;
    inFlight = undefined;
    if (fullBytes + used > 0) arm();
  });
  sonic.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') broken = true;
  });
  // Before pino's own handlers (registered with the destination above).
  process.prependListener('beforeExit', handOver);
  process.prependListener('exit', () => {
    if (timer) clearTimeout(timer);
    if (!broken && fullBytes + used > 0) writeAtExit(Buffer.concat([...full, slab.subarray(0, used)]));
    drop();
  });
  return {
    write(line: string) {
      // A UTF-16 code unit takes at most 3 bytes in UTF-8, so a line that passes this check fits.
      if (line.length * 3 > SLAB_BYTES - used) {
        if (used > 0) {
          full.push(slab.subarray(0, used));
          fullBytes += used;
          slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
          used = 0;
        }
        if (line.length * 3 > SLAB_BYTES) {
          const long = Buffer.from(line);
          full.push(long);
          fullBytes += long.length;
        } else used = slab.write(line, 0);
      } else used += slab.write(line, used);
      if (fullBytes + used >= LOG_MIN_BYTES) handOver();
      else arm();
    },
  };
}

/** Writes what is left at exit (no event loop any more): EPIPE drops it, EAGAIN is retried, bounded. */
function writeAtExit(bytes: Buffer): void {
  let buf = bytes;
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
