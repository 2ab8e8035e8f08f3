import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../src/dev/log-format.js';

describe('kq dev log lines', () => {
  it('shows a request line with method, URL, status and duration', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-11-28T00:40:52.123Z',
      event: 'http.request',
      method: 'POST',
      url: '/jobs',
      status: 202,
      durationMs: 3.2,
      msg: 'request',
    });
    expect(formatLogLine('api', line)).toBe('[api] 00:40:52 info  POST /jobs -> 202 durationMs=3.2');
  });

  it('shows job lines with their fields, and passes non-JSON through', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-11-28T00:40:53.000Z',
      msg: 'job completed',
      jobId: 'a',
      type: 'sleep',
      durationMs: 5,
    });
    expect(formatLogLine('worker-1', line)).toBe(
      '[worker-1] 00:40:53 info  job completed jobId=a type=sleep durationMs=5',
    );
    expect(formatLogLine('worker-1', 'plain text')).toBe('[worker-1] plain text');
  });
});
