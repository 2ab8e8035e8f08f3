/**
 * Scenario 8, auth: with API_TOKENS set, every protected route (`/ui` and `/metrics` included) refuses a
 * missing, empty, malformed, wrong or misplaced token with 401 in kq's error shape; a refused request
 * creates nothing in Redis; the right token works (so the refusals are not an accident of a broken route);
 * and no token, right or wrong, appears in the API's logs or in any answer.
 * "Worst recovery" here = the slowest answer.
 */
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { type Answer, call, isErrorShape, rawRequest, startApi, stopApi } from './support/api-process.js';
import { startChaosContext } from './support/chaos-context.js';
import { report, size } from './support/scenario-report.js';

const TOKEN = `kq-right-${randomBytes(16).toString('hex')}`;
const WRONG = `kq-wrong-${randomBytes(16).toString('hex')}`;
const NEAR = `${TOKEN.slice(0, -1)}${TOKEN.endsWith('0') ? '1' : '0'}`;
const ROUNDS = size(1, 5);

const routes = (queue: string): [string, string, string?][] => [
  ['POST', '/jobs', JSON.stringify({ type: 'chaos-work', queue })],
  ['POST', '/jobs/batch', JSON.stringify({ jobs: [{ type: 'chaos-work', queue }] })],
  ['POST', '/', ''],
  ['GET', '/jobs/1'],
  ['DELETE', '/jobs/1'],
  ['GET', '/queues'],
  ['GET', `/queues/${queue}`],
  ['POST', `/queues/${queue}/pause`, ''],
  ['POST', `/queues/${queue}/resume`, ''],
  ['GET', '/metrics'],
  ['GET', '/openapi.json'],
  ['GET', '/docs'],
  ['GET', '/docs/'],
  ['GET', '/ui'],
  ['GET', '/ui/'],
  ['GET', '/ui/api/queues'],
];

/** [name, extra header lines, query suffix]: every way of not presenting the right token. */
const variants: [string, string, string][] = [
  ['missing', '', ''],
  ['empty', 'Authorization: \r\n', ''],
  ['scheme only', 'Authorization: Bearer\r\n', ''],
  ['scheme and space', 'Authorization: Bearer \r\n', ''],
  ['no scheme', `Authorization: ${TOKEN}\r\n`, ''],
  ['no space', `Authorization: Bearer${TOKEN}\r\n`, ''],
  ['other scheme', `Authorization: Token ${TOKEN}\r\n`, ''],
  ['basic', `Authorization: Basic ${Buffer.from(`kq:${TOKEN}`).toString('base64')}\r\n`, ''],
  ['trailing junk', `Authorization: Bearer ${TOKEN} x\r\n`, ''],
  ['wrong', `Authorization: Bearer ${WRONG}\r\n`, ''],
  ['near miss', `Authorization: Bearer ${NEAR}\r\n`, ''],
  ['longer', `Authorization: Bearer ${TOKEN}0\r\n`, ''],
  ['prefix', `Authorization: Bearer ${TOKEN.slice(0, 16)}\r\n`, ''],
  ['upper case', `Authorization: Bearer ${TOKEN.toUpperCase()}\r\n`, ''],
  ['wrong then right', `Authorization: Bearer ${WRONG}\r\nAuthorization: Bearer ${TOKEN}\r\n`, ''],
  ['wrong token in query', '', `?token=${WRONG}`],
  ['forged dashboard cookie', `Cookie: kq_ui=${randomBytes(32).toString('hex')}\r\n`, ''],
];

function request(method: string, path: string, headers: string, body?: string): string {
  const b = body ?? '';
  const ct = body !== undefined && body !== '' ? 'Content-Type: application/json\r\n' : '';
  const cl = body !== undefined ? `Content-Length: ${Buffer.byteLength(b)}\r\n` : '';
  return `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}${ct}${cl}Connection: close\r\n\r\n${b}`;
}

describe('chaos: auth refusals', () => {
  it(`every protected route refuses ${variants.length} kinds of bad token x ${ROUNDS} round(s)`, {
    timeout: size(90_000, 180_000),
  }, async () => {
    const started = Date.now();
    const ctx = await startChaosContext('auth');
    const api = await startApi({ ...ctx.env, API_TOKENS: TOKEN, REQUEST_TIMEOUT_MS: '2000' });
    const answers: Answer[] = [];
    try {
      const keysBefore = (await ctx.client.keys('*')).sort();
      const problems: string[] = [];
      let worstMs = 0;
      for (let round = 0; round < ROUNDS; round++) {
        for (const [method, path, body] of routes(ctx.queue)) {
          const results = await Promise.all(
            variants.map(([, headers, query]) =>
              rawRequest(api.port, request(method, `${path}${query}`, headers, body)),
            ),
          );
          results.forEach((a, i) => {
            answers.push(a);
            worstMs = Math.max(worstMs, a.ms);
            const what = `${method} ${path} with ${variants[i]?.[0]} token: ${a.status || a.error} ${a.text.slice(0, 120)}`;
            if (a.status !== 401) problems.push(`not 401: ${what}`);
            else if (!isErrorShape(a.json)) problems.push(`not the error shape: ${what}`);
            else if (!/bearer/i.test(a.headers['www-authenticate'] ?? ''))
              problems.push(`no WWW-Authenticate: ${what}`);
          });
        }
      }
      const keysAfter = (await ctx.client.keys('*')).sort();
      const newKeys = keysAfter.filter((k) => !keysBefore.includes(k));

      // The right token opens each kind of route; /ui?token= swaps it for a cookie without echoing it.
      const auth = { authorization: `Bearer ${TOKEN}` };
      const controls = await Promise.all([
        call(api.base, 'GET', '/queues', { headers: auth }),
        call(api.base, 'GET', '/metrics', { headers: auth }),
        call(api.base, 'GET', '/openapi.json', { headers: auth }),
        call(api.base, 'GET', `/ui?token=${TOKEN}`),
        call(api.base, 'GET', '/healthz'),
      ]);
      answers.push(...controls);
      const [queues, metrics, openapi, uiLogin, healthz] = controls as Answer[];
      const cookie = (uiLogin?.headers['set-cookie'] ?? '').split(';')[0] ?? '';
      const ui = await call(api.base, 'GET', '/ui', { headers: { cookie } });
      answers.push(ui);

      const everything = [
        api.proc.output(),
        ...answers.map((a) => `${JSON.stringify(a.headers)}\n${a.text}`),
      ].join('\n');
      const leaked = [TOKEN, WRONG, NEAR].filter((t) => everything.includes(t));
      for (const p of problems.slice(0, 40)) console.log(`auth ${p}`);
      report(
        {
          scenario: '8 auth',
          jobsIn: answers.length,
          completed: newKeys.length,
          lost: 0,
          duplicates: 0,
          worstRecoveryMs: worstMs,
          notes: `${routes(ctx.queue).length} routes x ${variants.length} bad-token kinds; "completed" = Redis keys created by refused requests (must be 0)`,
          durationMs: Date.now() - started,
        },
        [
          [
            `every bad token refused with 401 in the error shape (${problems.length} problems)`,
            problems.length === 0,
          ],
          [`no key created by a refused request (${newKeys.slice(0, 5).join(', ')})`, newKeys.length === 0],
          [
            `the right token works (queues ${queues?.status}, metrics ${metrics?.status}, openapi ${openapi?.status})`,
            queues?.status === 200 && metrics?.status === 200 && openapi?.status === 200,
          ],
          [
            `/ui?token= gives a cookie that opens /ui (${uiLogin?.status}, ${ui.status})`,
            cookie !== '' && ui.status === 200,
          ],
          ['/healthz needs no token', healthz?.status === 200],
          [`no token in logs, headers or bodies (${leaked.length} leaked)`, leaked.length === 0],
        ],
      );
    } finally {
      await stopApi(api);
      await ctx.close();
    }
  });
});
