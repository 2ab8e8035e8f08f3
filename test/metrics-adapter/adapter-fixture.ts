/** Starts the adapter in-process over real HTTPS, with a captured log; closed when the test finishes. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { onTestFinished } from 'vitest';
import { createMetricsAdapter, type MetricsAdapter } from '../../src/metrics/adapter/server.js';
import { closeRedis, createRedis } from '../../src/queue/connection.js';
import { testPki } from './certs.js';

export interface RunningAdapter {
  adapter: MetricsAdapter;
  port: number;
  logs: Record<string, unknown>[];
}

export async function startAdapter(
  redisUrl: string,
  o: { prefix?: string; allowedNames?: string[]; redisTimeoutMs?: number } = {},
): Promise<RunningAdapter> {
  const pki = testPki();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  // Closed by onTestFinished, which runs after the leak guard's afterEach, so not tracked.
  const redis = createRedis(redisUrl, { kind: 'fail-fast', commandTimeoutMs: o.redisTimeoutMs ?? 1000 });
  const adapter = await createMetricsAdapter({
    port: 0,
    host: '127.0.0.1',
    cert: pki.server.cert,
    key: pki.server.key,
    requestheaderCa: pki.requestheaderCa.cert,
    requestheaderAllowedNames: o.allowedNames,
    redis,
    prefix: o.prefix ?? 'bull',
    redisTimeoutMs: o.redisTimeoutMs,
    log: pino({ level: 'info' }, sink),
  });
  onTestFinished(async () => {
    await adapter.close(1000);
    await closeRedis(redis);
  });
  return { adapter, port: adapter.port, logs };
}
