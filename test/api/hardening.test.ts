/** Requests that never reach a route still get a 4xx in kq's error shape (src/api/hardening.ts). */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { jsonTooDeep } from '../../src/api/hardening.js';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, expectError, testApp } from './app-fixture.js';

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let out = '';
    socket.on('data', (d) => {
      out += d.toString();
    });
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
  });
}

describe('request hardening', () => {
  it('jsonTooDeep counts nesting outside strings only', () => {
    expect(jsonTooDeep('{"a":[[1]]}', 3)).toBe(false);
    expect(jsonTooDeep('{"a":[[[1]]]}', 3)).toBe(true);
    expect(jsonTooDeep('{"a":"[[[[[[\\"{{{{"}', 1)).toBe(false);
  });

  it('415 for text/plain and for a non-UTF-8 charset; 400 for JSON nested too deep; nothing stored', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const body = JSON.stringify({ type: 'work', queue: t.queue });
    expectError(
      await app.inject({
        method: 'POST',
        url: '/jobs',
        headers: { ...AUTH, 'content-type': 'text/plain' },
        payload: body,
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: '/jobs',
        headers: { ...AUTH, 'content-type': 'application/json; charset=utf-16' },
        payload: body,
      }),
      415,
      'UNSUPPORTED_CHARSET',
    );
    const deep = `{"type":"work","queue":"${t.queue}","data":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    expectError(
      await app.inject({
        method: 'POST',
        url: '/jobs',
        headers: { ...AUTH, 'content-type': 'application/json' },
        payload: deep,
      }),
      400,
      'JSON_TOO_DEEP',
    );
    expect(await t.bull.count()).toBe(0);
    await app.close();
  });

  it('malformed HTTP, huge headers, a missing Host and broken URLs are answered in the error shape', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const cases: [string, number, string][] = [
      ['GET /healthz HTTP/1.1\r\n\r\n', 400, 'MISSING_HOST'],
      [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      [
        'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
        400,
        'MALFORMED_HTTP',
      ],
      [
        `GET /jobs/%ff%fe HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\n\r\n`,
        400,
        'BAD_URL',
      ],
      [
        `GET /jobs/${'d'.repeat(300)} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\n\r\n`,
        414,
        'URI_TOO_LONG',
      ],
    ];
    for (const [request, status, code] of cases) {
      const response = await rawRequest(port, request);
      expect(response.startsWith(`HTTP/1.1 ${status} `), code).toBe(true);
      const json = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as {
        error: { code: string; message: string };
      };
      expect(json.error.code).toBe(code);
      expect(json.error.message.length).toBeGreaterThan(10);
    }
    await app.close();
  });
});
