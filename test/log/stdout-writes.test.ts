/**
 * Lines reach stdout whole and in order when the reader is slow: a non-blocking pipe that fills up
 * (partial writes, EAGAIN) makes the writer retry, not drop or cut lines; a reader that went away
 * (EPIPE) does not stop the process; lines logged just before an exit (process.exit, SIGTERM, a fatal
 * error) are out. Runs the built `dist/log.js` in a child process.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LOG = resolve(import.meta.dirname, '../../dist/log.js');

/** A child that touches process.stdout (libuv makes a pipe non-blocking) and logs `n` lines in one turn. */
function logLines(n: number) {
  const script = `
    import { createLogger } from ${JSON.stringify(LOG)};
    process.stdout;
    const log = createLogger({ component: 'test' }, 'info');
    const pad = 'x'.repeat(200);
    for (let i = 0; i < ${n}; i++) log.info({ i, pad }, 'line ' + i);
    setTimeout(() => log.info({ i: ${n}, pad }, 'after a turn'), 5);`;
  return spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('stdout writes', () => {
  it('a slow reader gets every line whole and in order (partial writes, EAGAIN)', async () => {
    const child = logLines(5000); // ~1.4 MB in one turn (written 64 KB at a time), many times a pipe's buffer
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 300));
    let text = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdout.resume();
    const code = await new Promise((r) => child.once('close', r));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l).i)).toEqual(Array.from({ length: 5001 }, (_, i) => i));
  }, 15_000);

  it('a busy process shares a write among many lines; a quiet one writes its line alone, soon', async () => {
    // Five lines a turn, a turn every ~1 ms for 400 ms (a busy worker or API), then one line after a pause.
    const script = `
      import { createLogger } from ${JSON.stringify(LOG)};
      const log = createLogger({ component: 'test' }, 'info');
      const until = performance.now() + 400;
      let i = 0;
      const busy = () => {
        for (let k = 0; k < 5; k++) log.info({ i: i++ }, 'busy');
        if (performance.now() < until) setTimeout(busy, 0);
        else setTimeout(() => log.info({ i: -1 }, 'quiet'), 200);
      };
      busy();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const chunks: { text: string }[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push({ text: c.toString() }));
    const code = await new Promise((r) => child.once('close', r));
    expect(code).toBe(0);
    const lines = chunks.flatMap((c) =>
      c.text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    );
    const busy = lines.filter((l) => l.msg === 'busy');
    expect(busy.length).toBeGreaterThan(200);
    expect(busy.map((l) => l.i)).toEqual(busy.map((_, i) => i));
    // A reader may join writes into one chunk (fewer chunks), and a batch here (under 16 KB) is too small
    // for the pipe to cut: more chunks than ~1 per flush interval (10 ms) means lines were not batched.
    // One write per line or per turn makes hundreds here.
    const busyChunks = chunks.filter((c) => c.text.includes('"busy"')).length;
    expect(busyChunks).toBeLessThanOrEqual(60); // ~40 intervals of 10 ms in 400 ms
    // The quiet line, 200 ms after the last busy one, came alone, in its own write (the timer's flush).
    expect(chunks.at(-1)?.text).toMatch(/^\{"level":"info".*"msg":"quiet"\}\n$/);
  }, 15_000);

  it('long lines and multi-byte characters come out whole, exact and in order', async () => {
    // Lines kept as UTF-8 bytes: short ones, ones longer than the 64 KB buffer, and 2-, 3- and 4-byte
    // characters, mixed in one turn and across turns, read slowly.
    const script = `
      import { createLogger } from ${JSON.stringify(LOG)};
      process.stdout;
      const log = createLogger({ component: 'test' }, 'info');
      const text = (i) => ['é', '€', '𝄞', 'x'][i % 4].repeat([10, 9000, 30000, 70000][i % 4] + i);
      for (let i = 0; i < 40; i++) log.info({ i, text: text(i) }, 'mixed');
      setTimeout(() => { for (let i = 40; i < 80; i++) log.info({ i, text: text(i) }, 'mixed'); }, 5);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 300));
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.resume();
    child.stdout.resume();
    const code = await new Promise((r) => child.once('close', r));
    expect(code).toBe(0);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.map((l) => l.i)).toEqual(Array.from({ length: 80 }, (_, i) => i));
    const chars = ['é', '€', '𝄞', 'x'];
    const sizes = [10, 9000, 30000, 70000];
    for (const l of parsed) expect(l.text).toBe((chars[l.i % 4] ?? '').repeat((sizes[l.i % 4] ?? 0) + l.i));
  }, 20_000);

  it('a reader that went away (EPIPE) neither crashes nor holds the process', async () => {
    const child = logLines(2000);
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise((r) => child.once('close', r));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 15_000);

  it.each([
    ['process.exit', 'process.exit(3);', 3],
    [
      'a SIGTERM handler that exits',
      "process.on('SIGTERM', () => { log.info({ i: -1 }, 'stopping'); process.exit(0); }); process.kill(process.pid, 'SIGTERM');",
      0,
    ],
    ['an uncaught exception', "setImmediate(() => { throw new Error('fatal'); });", 1],
  ])(
    'lines logged just before %s are all out',
    async (_, ending, exitCode) => {
      // A few lines, well under the batch size: only the flush at exit can write them.
      const script = `
      import { createLogger } from ${JSON.stringify(LOG)};
      const log = createLogger({ component: 'test' }, 'info');
      for (let i = 0; i < 5; i++) log.info({ i }, 'before exit');
      ${ending}`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
      });
      child.stderr.resume();
      const code = await new Promise((r) => child.once('close', r));
      expect(code).toBe(exitCode);
      const lines = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.msg === 'before exit').map((l) => l.i)).toEqual([0, 1, 2, 3, 4]);
    },
    15_000,
  );
});
