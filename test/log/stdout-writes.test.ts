/**
 * Lines reach stdout whole and in order when the reader is slow: a non-blocking pipe that fills up
 * (partial writes, EAGAIN) makes the writer wait, not drop or cut lines; a reader that went away
 * (EPIPE) does not stop the process. Runs the built `dist/log.js` in a child process.
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

  it('a busy process shares a write among the lines of ~10 ms; a quiet one writes at the end of the turn', async () => {
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
    // A reader may join writes into one chunk (fewer chunks), and a batch here (~5 KB) is too small for
    // the pipe to cut: more chunks than ~1 per 10 ms means lines were not batched. A 1 ms window, or one
    // write per turn, made ~300-400 here.
    const busyChunks = chunks.filter((c) => c.text.includes('"busy"')).length;
    expect(busyChunks).toBeLessThanOrEqual(60); // ~40 windows of 10 ms in 400 ms
    // The quiet line, 200 ms after the last busy one, came alone, in its own write.
    expect(chunks.at(-1)?.text).toMatch(/^\{"level":"info".*"msg":"quiet"\}\n$/);
  }, 15_000);

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
});
