/**
 * WRITE_REPLICAS: 202 only once that many replicas hold the job (Redis WAIT after the write). Real
 * redis-servers: a primary alone (WAIT returns 0: 503 naming the job, which is on the primary) and a
 * primary with one replica (202, and the replica has the job when the 202 arrives).
 */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createRegistry } from '../../src/jobs/registry.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { AUTH, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

describe('WRITE_REPLICAS', () => {
  it('is refused at start-up on a Cluster URL, naming the option', async () => {
    await expect(
      buildApp({
        redisUrl: 'redis+cluster://127.0.0.1:7000',
        jobs: createRegistry([]),
        tokens: null,
        writeReplicas: 1,
      }),
    ).rejects.toThrow(
      /WRITE_REPLICAS \(flag --write-replicas\): 1 is not supported with a redis\+cluster:\/\//,
    );
  });

  it('answers 503 with the job id when no replica confirms, 202 once one does', async () => {
    const primary = await startRedisServer();
    onTestFinished(() => primary.remove());
    const app = await testApp({
      redisUrl: primary.url,
      queue: 'jobs',
      requestTimeoutMs: 3000,
      writeReplicas: 1,
    });
    const post = () =>
      app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { type: 'work', data: { ms: 1 } } });

    // A generous deadline (3 s): on a loaded 2-core machine a replica's ack can take over 0.5 s.
    const alone = await post();
    expect(alone.statusCode).toBe(503);
    const error = alone.json().error;
    expect(error.code).toBe('REDIS_UNAVAILABLE');
    expect(error.stored).toBe('unknown');
    expect(error.message).toMatch(/only 0 of 1 replicas \(WRITE_REPLICAS\)/);
    expect(typeof error.jobId).toBe('string');
    // The primary has it: the id resolves the doubt.
    const lookup = await app.inject({ method: 'GET', url: `/jobs/${error.jobId}`, headers: AUTH });
    expect(lookup.statusCode).toBe(200);

    const replica = await startRedisServer({ extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    onTestFinished(() => replica.remove());
    const r = new Redis(replica.port, '127.0.0.1', { maxRetriesPerRequest: null });
    onTestFinished(() => r.disconnect());
    await waitFor('replica in sync', async () => /master_link_status:up/.test(await r.info('replication')), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const ok = await post();
    expect(ok.statusCode).toBe(202);
    const id = ok.json().id as string;
    expect(await r.exists(`bull:jobs:${id}`)).toBe(1);
    await app.close();
  });
});
