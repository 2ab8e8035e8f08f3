/**
 * Scenario 7, hostile HTTP input: every case of the corpus (support/hostile-corpus.ts) must get a 4xx in
 * kq's error shape within a bound, the server must stay up and keep serving, no rejected request may create
 * anything in Redis (the key set before and after must match), and every line the API logged must still be
 * one JSON object (no payload breaks out of its field into a forged line).
 * "Worst recovery" here = the slowest answer.
 */
import { describe, it } from 'vitest';
import { type Answer, call, isErrorShape, rawRequest, startApi, stopApi } from './support/api-process.js';
import { startChaosContext } from './support/chaos-context.js';
import { HOSTILE_CASES, type HostileCase } from './support/hostile-corpus.js';
import { report, size } from './support/scenario-report.js';

const ROUNDS = size(1, 3);
const PARALLEL = size(1, 8);
const ANSWER_BOUND_MS = 10_000;

async function send(port: number, base: string, c: HostileCase): Promise<Answer> {
  if (c.raw !== undefined) return rawRequest(port, c.raw, ANSWER_BOUND_MS);
  return call(base, c.method ?? 'GET', c.path ?? '/', {
    body: c.body,
    headers: c.headers,
    timeoutMs: ANSWER_BOUND_MS,
  });
}

describe('chaos: hostile HTTP input', () => {
  it(`${HOSTILE_CASES.length} hostile requests x ${ROUNDS} round(s), ${PARALLEL} at a time`, {
    timeout: size(90_000, 180_000),
  }, async () => {
    const started = Date.now();
    const ctx = await startChaosContext('hostile');
    const api = await startApi({ ...ctx.env, AUTH: 'none', REQUEST_TIMEOUT_MS: '2000' });
    try {
      // Warm up (first request compiles schemas), then snapshot every key in the scenario's Redis.
      await call(api.base, 'GET', '/queues');
      const keysBefore = (await ctx.client.keys('*')).sort();
      const problems: string[] = [];
      const statuses = new Map<number, number>();
      let worstMs = 0;
      let sent = 0;
      let downAfter: string | undefined;
      for (let round = 0; round < ROUNDS && !downAfter; round++) {
        for (let i = 0; i < HOSTILE_CASES.length && !downAfter; i += PARALLEL) {
          const slice = HOSTILE_CASES.slice(i, i + PARALLEL);
          const answers = await Promise.all(slice.map((c) => send(api.port, api.base, c)));
          sent += slice.length;
          slice.forEach((c, k) => {
            const a = answers[k] as Answer;
            statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
            worstMs = Math.max(worstMs, a.ms);
            const what = `${c.name}: ${a.status || a.error} ${a.text.slice(0, 160)}`;
            if (a.status < 400 || a.status > 499) problems.push(`not a 4xx: ${what}`);
            else if (c.status !== undefined && a.status !== c.status)
              problems.push(`expected ${c.status}: ${what}`);
            if (a.status >= 400 && !isErrorShape(a.json)) problems.push(`not the error shape: ${what}`);
            if (a.headers['set-cookie']?.includes('forged')) problems.push(`header injection: ${c.name}`);
          });
          const health = await call(api.base, 'GET', '/healthz', { timeoutMs: 5000 });
          if (health.status !== 200) downAfter = slice.map((c) => c.name).join(' | ');
        }
      }
      const keysAfter = (await ctx.client.keys('*')).sort();
      const newKeys = keysAfter.filter((k) => !keysBefore.includes(k));
      const valid = await call(api.base, 'POST', '/jobs', { body: { type: 'chaos-work', data: { ms: 1 } } });
      const lines = api.proc
        .output()
        .split('\n')
        .filter((l) => l.trim());
      const notJson = lines.filter((l) => {
        try {
          return typeof JSON.parse(l) !== 'object';
        } catch {
          return true;
        }
      });
      const forged = api.proc.logs.filter((l) => l.event === 'kq-forged');
      for (const p of problems) console.log(`hostile ${p}`);
      report(
        {
          scenario: '7 hostile HTTP input',
          jobsIn: sent,
          completed: newKeys.length,
          lost: 0,
          duplicates: 0,
          worstRecoveryMs: worstMs,
          notes: `${HOSTILE_CASES.length} cases; statuses ${[...statuses].map(([s, n]) => `${s}x${n}`).join(' ')}; "completed" = Redis keys created (must be 0)`,
          durationMs: Date.now() - started,
        },
        [
          [`at least 60 cases (${HOSTILE_CASES.length})`, HOSTILE_CASES.length >= 60],
          [
            `every answer a 4xx in the error shape (${problems.length} problems, listed above)`,
            problems.length === 0,
          ],
          [`server stayed up${downAfter ? ` (down after: ${downAfter})` : ''}`, downAfter === undefined],
          [`no key created by a rejected request (${newKeys.slice(0, 5).join(', ')})`, newKeys.length === 0],
          [`answers within ${ANSWER_BOUND_MS} ms (worst ${worstMs})`, worstMs < ANSWER_BOUND_MS],
          [`a valid request still gets 202 (${valid.status})`, valid.status === 202],
          [
            `every log line is one JSON object (${notJson.length} are not: ${notJson[0]?.slice(0, 120)})`,
            notJson.length === 0,
          ],
          ['no forged log line', forged.length === 0],
        ],
      );
    } finally {
      await stopApi(api);
      await ctx.close();
    }
  });
});
