/**
 * What a worker's start costs before its first fetch, in what it loads and sends: no Node built-in that
 * the worker does not use (src/node-http.ts says why `node:http` is loaded with require()), and no
 * handshake commands on its Redis connections beyond the ready check (src/queue/connection.ts).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRedis } from '../../src/queue/connection.js';
import { useTestQueue } from '../helpers/context.js';
import { freePort } from '../helpers/redis-server.js';
import { spawnWorker } from './helpers.js';

const REPORT_BUILTINS = pathToFileURL(resolve(import.meta.dirname, '../fixtures/report-builtins.mjs')).href;

describe('worker start', () => {
  it('serves its health server without loading undici or http2', async () => {
    const t = useTestQueue();
    const port = await freePort();
    const w = spawnWorker(t, {
      HEALTH_PORT: String(port),
      NODE_OPTIONS: `--import=${REPORT_BUILTINS}`,
    });
    await w.waitForLog('started', (l) => l.event === 'worker.started');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    w.kill('SIGTERM');
    expect((await w.waitForExit(15_000)).code).toBe(0);
    const line = /KQTEST_BUILTINS (.*)/.exec(w.output())?.[1];
    expect(line, w.output().slice(-2000)).toBeDefined();
    const loaded = JSON.parse(line as string) as string[];
    // It did load node:http, for its health server: what an ES import of it would add is the point.
    expect(loaded).toContain('NativeModule http');
    expect(loaded.filter((m) => /undici|http2/.test(m))).toEqual([]);
  });

  it("opens connections, and BullMQ's duplicates of them, without ioredis' CLIENT SETINFO", async () => {
    const t = useTestQueue();
    for (const kind of ['blocking', 'fail-fast'] as const) {
      const redis = createRedis(t.redisUrl, { kind });
      const duplicate = redis.duplicate();
      try {
        expect(redis.options.disableClientInfo).toBe(true);
        expect(duplicate.options.disableClientInfo).toBe(true);
        await new Promise((ready) => duplicate.once('ready', ready));
        expect(await duplicate.ping()).toBe('PONG');
      } finally {
        redis.disconnect();
        duplicate.disconnect();
      }
    }
  });
});
