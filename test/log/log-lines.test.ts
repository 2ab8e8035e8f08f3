/** The worker's hand-built `job.completed` line and the cached ISO times write what pino would. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, infoLine, isoTimeOf } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (s: string) => lines.push(s) } };
}

describe('log lines', () => {
  it('infoLine writes the text pino writes for the same fields, bindings and message', () => {
    const { lines, stream } = capture();
    const log = createLogger({ component: 'worker' }, 'info', stream).child({ queue: 'q "x"' });
    const fields = {
      event: 'job.completed',
      jobId: 'a"b\\c',
      type: 'tÿpe',
      startedAt: isoTimeOf(1),
      durationMs: 7,
    };
    log.info(fields, 'job completed');
    infoLine(
      log,
      'job completed',
    )(
      `,"event":"job.completed","jobId":${JSON.stringify(fields.jobId)},"type":${JSON.stringify(fields.type)},"startedAt":"${fields.startedAt}","durationMs":7`,
    );
    expect(lines).toHaveLength(2);
    // Same text apart from the time (the two lines may straddle a millisecond).
    const [viaPino, viaLine] = lines.map((l) => l.replace(/"time":"[^"]+"/, '"time":"T"'));
    expect(viaLine).toBe(viaPino);
    expect(JSON.parse(lines[1] as string)).toMatchObject({ ...fields, queue: 'q "x"', level: 'info' });
  });

  it('infoLine follows the level: nothing below info is configured, nothing is written', () => {
    const { lines, stream } = capture();
    const log = createLogger({}, 'warn', stream);
    infoLine(log, 'job completed')(',"event":"job.completed"');
    expect(lines).toHaveLength(0);
    log.level = 'info';
    infoLine(log, 'job completed')(',"event":"job.completed"');
    expect(lines).toHaveLength(1);
  });

  it('infoLine on a logger kq did not make writes in the format of that logger', () => {
    const { lines, stream } = capture();
    const own = pino({ base: null, timestamp: false }, stream);
    infoLine(own, 'request')(',"event":"http.request","status":202');
    expect(JSON.parse(lines[0] as string)).toEqual({
      level: 30,
      event: 'http.request',
      status: 202,
      msg: 'request',
    });
  });

  it('isoTimeOf equals toISOString across seconds, millisecond padding and before 1970', () => {
    for (const ms of [0, 1, 9, 10, 99, 100, 999, 1000, 1001, -1, -999, -1000, 1_764_460_800_007, 8.64e15]) {
      expect(isoTimeOf(ms), String(ms)).toBe(new Date(ms).toISOString());
    }
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(Math.random() * 4e12);
      expect(isoTimeOf(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
