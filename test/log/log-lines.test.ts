/** The lines kq's logger writes: their fields, ISO times and redaction. */
import { describe, expect, it } from 'vitest';
import { createLogger, isoTimeOf } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (s: string) => lines.push(s) } };
}

describe('log lines', () => {
  it('one JSON line per event: level label, ISO time, bindings, child bindings, fields and message', () => {
    const { lines, stream } = capture();
    const log = createLogger({ component: 'worker' }, 'info', stream).child({ queue: 'q "x"' });
    const before = Date.now();
    log.info({ event: 'job.completed', jobId: 'a"b\\c', type: 'tÿpe', durationMs: 7 }, 'job completed');
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    expect(line.endsWith('}\n')).toBe(true);
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({
      level: 'info',
      component: 'worker',
      queue: 'q "x"',
      event: 'job.completed',
      jobId: 'a"b\\c',
      type: 'tÿpe',
      durationMs: 7,
      msg: 'job completed',
      pid: process.pid,
    });
    expect(parsed.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(parsed.time)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(parsed.time)).toBeLessThanOrEqual(Date.now());
  });

  it('follows the level: nothing below it is written', () => {
    const { lines, stream } = capture();
    const log = createLogger({}, 'warn', stream);
    log.info({ event: 'job.completed' }, 'job completed');
    expect(lines).toHaveLength(0);
    log.level = 'info';
    log.info({ event: 'job.completed' }, 'job completed');
    expect(lines).toHaveLength(1);
  });

  it('redacts secrets at the top level (lines, bindings, child bindings) and one level down', () => {
    const { lines, stream } = capture();
    const root = createLogger({ auth: { password: 'root-secret' } }, 'info', stream);
    const child = root.child({ token: 'child-secret' });
    const err = Object.assign(new Error('boom'), { password: 'err-secret' });
    child.info(
      { password: 'p1', headers: { authorization: 'Bearer a1', accept: 'x' }, err, keep: { n: 1 } },
      'm',
    );
    const text = lines.join('');
    for (const secret of ['root-secret', 'child-secret', 'err-secret', 'p1', 'Bearer a1']) {
      expect(text).not.toContain(secret);
    }
    const parsed = JSON.parse(lines[0] as string);
    expect(parsed.headers).toEqual({ authorization: '[redacted]', accept: 'x' });
    expect(parsed.token).toBe('[redacted]');
    expect(parsed.err.message).toBe('boom');
    expect(parsed.keep).toEqual({ n: 1 });
  });

  it('isoTimeOf equals toISOString across seconds, millisecond padding and before 1970', () => {
    for (const ms of [0, 1, 9, 10, 99, 100, 999, 1000, 1001, -1, -999, -1000, 1_764_460_800_007, 8.64e15]) {
      expect(isoTimeOf(ms), String(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
