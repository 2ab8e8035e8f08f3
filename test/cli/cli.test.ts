import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { FIXTURES } from '../worker/helpers.js';

async function run(args: string[], env: Record<string, string> = {}) {
  const p = spawnKq(args, env);
  const { code } = await p.waitForExit(15_000);
  return { code, out: p.output() };
}

describe('kq CLI', () => {
  it('kq --help lists the commands; every command has --help with its env names', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['worker', 'enqueue', 'status', 'api', 'dev', 'manifests', 'metrics-adapter'])
      expect(top.out).toContain(c);
    const worker = await run(['worker', '--help']);
    expect(worker.code).toBe(0);
    for (const env of [
      'REDIS_URL',
      'REDIS_CONNECTION_URL',
      'QUEUE',
      'KQ_PREFIX',
      'CONCURRENCY',
      'EXIT',
      'MAX_JOBS',
    ]) {
      expect(worker.out).toContain(env);
    }
    for (const env of ['SHUTDOWN_TIMEOUT_MS', 'LOCK_DURATION_MS', 'HEALTH_PORT', 'HANDLERS'])
      expect(worker.out).toContain(env);
    for (const c of ['enqueue', 'status']) expect((await run([c, '--help'])).code).toBe(0);
  });

  it('invalid values fail fast naming the option, the value and the rule', async () => {
    const bad = await run(['worker'], { CONCURRENCY: 'abc' });
    expect(bad.code).toBe(2);
    expect(bad.out).toContain(
      'Invalid CONCURRENCY (flag --concurrency): "abc" must be a whole number from 1 to 1000',
    );
    const flag = await run(['worker', '--health-port', '70000']);
    expect(flag.code).toBe(2);
    expect(flag.out).toMatch(/--health-port .*"70000" must be a whole number from 0 to 65535/);
    const url = await run(['worker'], { REDIS_URL: 'localhost:6379' });
    expect(url.code).toBe(2);
    expect(url.out).toMatch(
      /REDIS_URL .*"localhost:6379" \(no scheme: .*\) must be redis:\/\/\[user:pass@\]host:port/,
    );
    const unknown = await run(['worker', '--concurency', '2']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(/Unknown option --concurency\. Known options: .*--concurrency/);
    const cmd = await run(['wrker']);
    expect(cmd.code).toBe(2);
    expect(cmd.out).toContain('unknown command "wrker"');
    const handlers = await run(['worker'], { HANDLERS: './does-not-exist.js' });
    expect(handlers.code).toBe(2);
    expect(handlers.out).toMatch(/HANDLERS \(--handlers\) ".\/does-not-exist.js": there is no file at/);
  });

  it('seed compatibility: `kq` with WORKER=1, EXIT=1 and REDIS_CONNECTION_URL runs an exit-mode worker', async () => {
    const t = useTestQueue();
    await t.bull.add('sleep', { seconds: 0 });
    const res = await run([], {
      WORKER: '1',
      EXIT: '1',
      REDIS_CONNECTION_URL: t.redisUrl,
      QUEUE: t.queue,
      HEALTH_PORT: '0',
    });
    expect(res.code).toBe(0);
    expect(await t.bull.getCompletedCount()).toBe(1);
  });

  it('kq enqueue validates against the schema, stores, and prints the id; kq status counts it', async () => {
    const t = useTestQueue();
    const env = { REDIS_URL: t.redisUrl, HANDLERS: FIXTURES };
    const ok = await run(['enqueue', 'work', '{"ms":5}', '--queue', t.queue, '--priority', '3'], env);
    expect(ok.code).toBe(0);
    const id = ok.out.trim();
    expect((await t.bull.getJob(id))?.data).toEqual({ ms: 5, ignoreSignal: false });
    expect(await t.bull.getJobState(id)).toBe('prioritized');

    const invalid = await run(['enqueue', 'work', '{"ms":"x"}', '--queue', t.queue], env);
    expect(invalid.code).toBe(2);
    expect(invalid.out).toMatch(/Payload for job type "work" is invalid: data\.ms: /);
    const unknown = await run(['enqueue', 'nope', '--queue', t.queue], env);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(
      /Unknown job type "nope"\. Known types: boom, context-async, context-sync, flaky, hang, progress, stubborn, throw-later, work\./,
    );
    const json = await run(['enqueue', 'work', '{ms:1}', '--queue', t.queue], env);
    expect(json.code).toBe(2);
    expect(json.out).toContain('is not valid JSON');
    expect(await t.bull.count()).toBe(1);

    const status = await run(['status', '--queue', t.queue, '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ queue: t.queue, prioritized: 1, waiting: 0, backlog: 1 });
  });

  it('kq queues registers, lists, forgets and discovers queues (the registry by hand)', async () => {
    const t = useTestQueue();
    const prefix = `p${t.queue}`;
    const env = { REDIS_URL: t.redisUrl, KQ_PREFIX: prefix };
    try {
      expect((await run(['queues', 'register', 'alpha', 'beta'], env)).out).toContain('2 new of 2');
      const onCluster = await run(['queues', 'discover'], { REDIS_URL: 'redis+cluster://127.0.0.1:1' });
      expect(onCluster.code).toBe(2);
      expect(onCluster.out).toMatch(/discover does not work on a Redis Cluster yet/);
      expect((await run(['queues', 'list'], env)).out.trim().split('\n')).toEqual(['alpha', 'beta']);
      expect((await run(['queues', 'forget', 'beta'], env)).out).toContain('1 removed');
      await t.redis.hset(`${prefix}:outside:meta`, 'paused', '0');
      expect((await run(['queues', 'discover'], env)).out).toContain('1 found, 1 new: outside');
      expect((await run(['queues', 'list'], env)).out.trim().split('\n')).toEqual(['alpha', 'outside']);
      const bad = await run(['queues', 'register', 'a:b'], env);
      expect(bad.code).toBe(2);
      expect(bad.out).toMatch(/Invalid queue name "a:b"/);
      expect((await run(['queues', 'drop'], env)).out).toMatch(
        /must be one of list, register, forget, discover/,
      );
    } finally {
      const keys = await t.redis.keys(`${prefix}:*`);
      if (keys.length) await t.redis.del(...keys);
    }
  });

  it('kq status fails with exit 1 and a hint when Redis does not answer', async () => {
    const res = await run(['status'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(res.code).toBe(1);
    expect(res.out).toContain('cannot reach Redis at redis://127.0.0.1:1');
    expect(res.out).toContain('set REDIS_URL (--redis-url)');
  });
});
