/** Bearer tokens on every route but the probes; the /ui cookie login; tokens never logged. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { readTokens } from '../../src/api/auth.js';
import { ConfigError } from '../../src/errors.js';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, expectError, TOKEN, testApp } from './app-fixture.js';

describe('auth', () => {
  it('401 without or with a wrong token on every route but /healthz and /readyz', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    for (const [method, url] of [
      ['POST', '/jobs'],
      ['POST', '/jobs/batch'],
      ['POST', '/'],
      ['GET', '/jobs/1'],
      ['DELETE', '/jobs/1'],
      ['GET', '/queues'],
      ['GET', `/queues/${t.queue}`],
      ['POST', `/queues/${t.queue}/pause`],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
      ['GET', '/docs'],
      ['GET', '/ui'],
      ['GET', '/nowhere'],
    ] as const) {
      const none = await app.inject({ method, url });
      expectError(none, 401, 'UNAUTHORIZED');
      expect(none.headers['www-authenticate']).toBe('Bearer realm="kq"');
      const wrong = await app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}x` } });
      expectError(wrong, 401, 'UNAUTHORIZED');
    }
    expect(await t.bull.getWaitingCount()).toBe(0);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    await app.close();
  });

  it('with tokens of different lengths, accepts each exactly: not a prefix, an extension or a padded one', async () => {
    const t = useTestQueue();
    const short = 'short-token-0123';
    const long = `${'L'.repeat(60)}-long-token`;
    const app = await testApp({ ...t, tokens: [long, short] });
    const status = async (token: string) =>
      (await app.inject({ method: 'GET', url: '/queues', headers: { authorization: `Bearer ${token}` } }))
        .statusCode;
    expect(await status(short)).toBe(200);
    expect(await status(long)).toBe(200);
    for (const wrong of [
      short.slice(0, -1),
      `${short}x`,
      long.slice(0, -1),
      `${long}x`,
      long.slice(0, short.length),
      `${long}${long}`,
      'é'.repeat(short.length),
      'x',
    ]) {
      expect(await status(wrong), JSON.stringify(wrong)).toBe(401);
    }
    await app.close();
  });

  it('/ui?token= sets an HttpOnly SameSite=Strict cookie that opens /ui but not the API', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const bad = await app.inject({ method: 'GET', url: '/ui?token=wrong-token-000000000' });
    expectError(bad, 401, 'UNAUTHORIZED');
    const login = await app.inject({ method: 'GET', url: `/ui?token=${TOKEN}` });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/ui');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/^kq_ui=\d+\.[0-9a-f]{64}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(TOKEN);
    const pair = cookie.split(';')[0] as string;
    const ui = await app.inject({ method: 'GET', url: '/ui', headers: { cookie: pair } });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
    const api = await app.inject({ method: 'GET', url: '/queues', headers: { cookie: pair } });
    expectError(api, 401, 'UNAUTHORIZED');
    await app.close();
  });

  it('never logs a token', async () => {
    const t = useTestQueue();
    let logged = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logged += chunk.toString();
        cb();
      },
    });
    const app = await testApp({ ...t, logger: pino({ level: 'debug' }, sink) });
    await app.inject({ method: 'GET', url: '/queues', headers: AUTH });
    await app.inject({ method: 'GET', url: `/ui?token=${TOKEN}` });
    await app.inject({
      method: 'GET',
      url: '/queues',
      headers: { authorization: 'Bearer wrong-token-000000000' },
    });
    await app.close();
    expect(logged).toContain('/ui?token=[redacted]');
    expect(logged).toContain('"reqId"');
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain('wrong-token');
  });
});

describe('tokens', () => {
  it('reads API_TOKENS and API_TOKENS_FILE (comments and blank lines skipped); refuses short ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kq-tokens-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, '# ops team\nfile-token-0123456789abcdef\n\n');
    expect(readTokens(' env-token-0123456789abcdef , ', file)).toEqual([
      'env-token-0123456789abcdef',
      'file-token-0123456789abcdef',
    ]);
    expect(() => readTokens('short', '')).toThrow(ConfigError);
    expect(() => readTokens('short', '')).toThrow(/at least 16 characters/);
    expect(() => readTokens('', join(dir, 'missing'))).toThrow(/API_TOKENS_FILE/);
  });
});
