/**
 * OpenTelemetry traces end to end: `kq api` and `kq worker` as real processes on the test Redis, exporting
 * to an in-test OTLP/HTTP receiver (JSON and protobuf). One job's trace runs from the caller's
 * `traceparent` through the API's request and enqueue spans to one worker span per attempt.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDLERS, TOKEN } from '../api/app-fixture.js';
import { useTestQueue } from '../helpers/context.js';
import { CLI, type KqProcess, spawnKq } from '../helpers/kq-process.js';
import { track, trackProcess } from '../helpers/leak-guard.js';
import { type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const auth = { authorization: `Bearer ${TOKEN}` };
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

async function startApi(env: Record<string, string>): Promise<{ api: KqProcess; base: string }> {
  const api = spawnKq(['api'], { PORT: '0', HOST: '127.0.0.1', API_TOKENS: TOKEN, HANDLERS, ...env });
  const line = await api.waitForLog('api.listening', (l) => l.event === 'api.listening', 20_000);
  return { api, base: `http://127.0.0.1:${line.port}` };
}

async function postJob(base: string, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${base}/jobs`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function stop(...procs: KqProcess[]): Promise<void> {
  for (const p of procs) p.kill('SIGTERM');
  for (const p of procs) expect((await p.waitForExit(20_000)).code).toBe(0);
}

const traceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
};

const attemptsOf = (spans: ReceivedSpan[], id: string) =>
  spans
    .filter((s) => s.kind === CONSUMER && s.attributes['kq.job.id'] === id)
    .sort((a, b) => Number(a.attributes['kq.job.attempt']) - Number(b.attributes['kq.job.attempt']));

describe('OpenTelemetry traces', () => {
  it('one trace from the caller through the API request and enqueue to the worker attempt (OTLP/JSON)', async () => {
    const t = useTestQueue();
    const otlp = await startOtlpReceiver();
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    };
    const worker = spawnKq(['worker'], {
      REDIS_URL: t.redisUrl,
      QUEUE: t.queue,
      HEALTH_PORT: '0',
      HANDLERS,
      ...otel,
    });
    const { api, base } = await startApi({ REDIS_URL: t.redisUrl, ...otel, OTEL_SERVICE_NAME: 'my-api' });
    const tp = traceparent();
    const id = await postJob(
      base,
      { type: 'work', queue: t.queue, data: { ms: 10 } },
      { traceparent: tp.header },
    );
    await otlp.waitForSpans(
      'the API request span and the attempt span',
      (spans) =>
        attemptsOf(spans, id).length === 1 &&
        spans.some((s) => s.kind === SERVER && s.traceId === tp.traceId),
    );
    const inTrace = otlp.spans.filter((s) => s.traceId === tp.traceId);
    const request = inTrace.find((s) => s.kind === SERVER);
    const enqueue = inTrace.find((s) => s.kind === PRODUCER);
    const [attempt] = attemptsOf(otlp.spans, id);
    // The caller's span -> the API's request span -> the enqueue span -> the worker's attempt span.
    expect(request).toMatchObject({ service: 'my-api', parentSpanId: tp.parentId, name: 'POST /jobs' });
    expect(request?.attributes['http.response.status_code']).toBe(202);
    expect(enqueue).toMatchObject({
      service: 'my-api',
      parentSpanId: request?.spanId,
      name: `enqueue ${t.queue}`,
    });
    expect(enqueue?.attributes).toMatchObject({
      'kq.queue': t.queue,
      'kq.job.type': 'work',
      'kq.job.id': id,
    });
    expect(attempt).toMatchObject({
      service: 'kq-worker',
      traceId: tp.traceId,
      parentSpanId: enqueue?.spanId,
    });
    expect(attempt?.attributes).toMatchObject({
      'kq.queue': t.queue,
      'kq.job.type': 'work',
      'kq.job.id': id,
      'kq.job.attempt': 1,
      'kq.job.outcome': 'completed',
    });
    expect(attempt?.attributes['kq.job.wait_ms']).toBeGreaterThanOrEqual(0);
    // A batch: one enqueue span, each job's attempt its child.
    const batch = traceparent();
    const res = await fetch(`${base}/jobs/batch`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', traceparent: batch.header },
      body: JSON.stringify({ jobs: [1, 2].map(() => ({ type: 'work', queue: t.queue, data: { ms: 1 } })) }),
    });
    expect(res.status).toBe(202);
    const { ids } = (await res.json()) as { ids: string[] };
    // The API and the worker export on their own schedules: either may arrive first.
    await otlp.waitForSpans(
      'both batch attempts and the batch enqueue span',
      (spans) =>
        ids.every((i) => attemptsOf(spans, i).length === 1) &&
        spans.some((s) => s.kind === PRODUCER && s.traceId === batch.traceId),
    );
    const batchEnqueue = otlp.spans.find((s) => s.kind === PRODUCER && s.traceId === batch.traceId);
    expect(batchEnqueue?.attributes['kq.job.count']).toBe(2);
    for (const i of ids) expect(attemptsOf(otlp.spans, i)[0]?.parentSpanId).toBe(batchEnqueue?.spanId);
    // Probes are not traced; of BullMQ's worker, only the attempts are recorded (not its fetch loop).
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await stop(api, worker);
    expect(otlp.spans.some((s) => s.attributes['url.path'] === '/healthz')).toBe(false);
    expect(otlp.spans.filter((s) => s.service === 'kq-worker').every((s) => s.kind === CONSUMER)).toBe(true);
    expect(otlp.contentTypes.every((c) => c.includes('json'))).toBe(true);
    await otlp.close();
  });

  it('a retried job shows one attempt span per attempt, in the same trace (OTLP/protobuf)', async () => {
    const t = useTestQueue();
    const otlp = await startOtlpReceiver();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '50' };
    const worker = spawnKq(['worker'], {
      REDIS_URL: t.redisUrl,
      QUEUE: t.queue,
      HEALTH_PORT: '0',
      HANDLERS,
      ...otel,
    });
    const { api, base } = await startApi({ REDIS_URL: t.redisUrl, ...otel });
    const tp = traceparent();
    const id = await postJob(
      base,
      { type: 'flaky', queue: t.queue, data: { succeedOn: 2 } },
      { traceparent: tp.header },
    );
    await otlp.waitForSpans('two attempt spans', (spans) => attemptsOf(spans, id).length === 2);
    const [first, second] = attemptsOf(otlp.spans, id);
    const enqueue = otlp.spans.find((s) => s.kind === PRODUCER && s.traceId === tp.traceId);
    expect(enqueue?.service).toBe('kq-api');
    for (const a of [first, second])
      expect(a).toMatchObject({ traceId: tp.traceId, parentSpanId: enqueue?.spanId });
    expect(first?.attributes).toMatchObject({
      'kq.job.attempt': 1,
      'kq.job.outcome': 'retried',
      'kq.job.type': 'flaky',
    });
    expect(second?.attributes).toMatchObject({ 'kq.job.attempt': 2, 'kq.job.outcome': 'completed' });
    expect(otlp.contentTypes.every((c) => c === 'application/x-protobuf')).toBe(true);
    await stop(api, worker);
    await otlp.close();
  });

  it("a job handed back at shutdown shows the handed-back attempt and the next worker's attempt", async () => {
    const t = useTestQueue();
    const otlp = await startOtlpReceiver();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '50' };
    const env = { REDIS_URL: t.redisUrl, QUEUE: t.queue, HEALTH_PORT: '0', HANDLERS, ...otel };
    const first = spawnKq(['worker'], { ...env, SHUTDOWN_TIMEOUT_MS: '1000' });
    const { api, base } = await startApi({ REDIS_URL: t.redisUrl, ...otel });
    const tp = traceparent();
    const id = await postJob(
      base,
      { type: 'work', queue: t.queue, data: { ms: 2000 } },
      { traceparent: tp.header },
    );
    await waitFor('the job started', async () => (await t.redis.llen(`kqtest:${t.queue}:started`)) === 1, {
      timeoutMs: 20_000,
    });
    first.kill('SIGTERM');
    await first.waitForExit(20_000);
    const second = spawnKq(['worker'], env);
    await otlp.waitForSpans('two attempt spans', (spans) => attemptsOf(spans, id).length === 2);
    const spans = otlp.spans.filter((s) => s.kind === CONSUMER && s.attributes['kq.job.id'] === id);
    const handedBack = spans.find((s) => s.attributes['kq.job.outcome'] === 'handed-back');
    const completed = spans.find((s) => s.attributes['kq.job.outcome'] === 'completed');
    const enqueue = otlp.spans.find((s) => s.kind === PRODUCER && s.traceId === tp.traceId);
    // A hand-back does not use up an attempt: both spans say attempt 1.
    for (const a of [handedBack, completed])
      expect(a).toMatchObject({
        traceId: tp.traceId,
        parentSpanId: enqueue?.spanId,
        attributes: { 'kq.job.attempt': 1 },
      });
    expect(handedBack?.spanId).not.toBe(completed?.spanId);
    await stop(api, second);
    await otlp.close();
  });

  it("jobs added by `kq enqueue` and the library's enqueue(): the enqueue span is the attempt's parent", async () => {
    const t = useTestQueue();
    const otlp = await startOtlpReceiver();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '50' };
    const worker = spawnKq(['worker'], {
      REDIS_URL: t.redisUrl,
      QUEUE: t.queue,
      HEALTH_PORT: '0',
      HANDLERS,
      ...otel,
    });
    // The CLI continues the caller's trace from the TRACEPARENT environment variable.
    const tp = traceparent();
    const cli = spawnKq(['enqueue', 'work', '{"ms":1}', '--queue', t.queue], {
      REDIS_URL: t.redisUrl,
      HANDLERS,
      TRACEPARENT: tp.header,
      ...otel,
    });
    expect((await cli.waitForExit(20_000)).code).toBe(0);
    const cliId = cli.output().trim().split('\n').at(-1) as string;
    // A script of the caller's: no active span, so the enqueue span starts the trace; it is exported when
    // the script ends by itself.
    const script = [
      `const kq = await import(${JSON.stringify(CLI.replace(/cli\.js$/, 'index.js'))});`,
      "const redis = kq.createRedis(process.env.REDIS_URL, { kind: 'fail-fast' });",
      "await new Promise((r) => redis.once('ready', r));",
      "const queues = kq.createQueueCache(redis, 'bull');",
      'const jobs = await kq.loadRegistry(process.env.HANDLERS);',
      "const [a, b] = await kq.enqueueMany(queues, jobs, [1, 2].map(() => ({ type: 'work', queue: process.env.QUEUE, data: { ms: 1 } })));",
      'console.log(a.id, b.id);',
      'await queues.close();',
      'await kq.closeRedis(redis);',
    ].join('\n');
    const lib = trackProcess(
      'library enqueue script',
      spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH, REDIS_URL: t.redisUrl, QUEUE: t.queue, HANDLERS, ...otel },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    let out = '';
    lib.stdout?.on('data', (c: Buffer) => {
      out += c;
    });
    expect(await new Promise((r) => lib.once('exit', r))).toBe(0);
    const libIds = out.trim().split(' ');
    expect(libIds).toHaveLength(2);
    await otlp.waitForSpans(
      'the three attempt spans and both enqueue spans',
      (spans) =>
        [cliId, ...libIds].every((id) => attemptsOf(spans, id).length === 1) &&
        spans.filter((s) => s.kind === PRODUCER).length === 2,
    );
    const fromCli = otlp.spans.find((s) => s.kind === PRODUCER && s.service === 'kq-cli');
    expect(fromCli).toMatchObject({
      traceId: tp.traceId,
      parentSpanId: tp.parentId,
      name: `enqueue ${t.queue}`,
      attributes: { 'kq.queue': t.queue, 'kq.job.type': 'work', 'kq.job.id': cliId, 'kq.job.count': 1 },
    });
    expect(attemptsOf(otlp.spans, cliId)[0]).toMatchObject({
      service: 'kq-worker',
      traceId: tp.traceId,
      parentSpanId: fromCli?.spanId,
      attributes: { 'kq.job.outcome': 'completed' },
    });
    const fromLib = otlp.spans.find((s) => s.kind === PRODUCER && s.service === 'kq-producer');
    expect(fromLib).toMatchObject({ parentSpanId: '', attributes: { 'kq.job.count': 2 } });
    for (const id of libIds)
      expect(attemptsOf(otlp.spans, id)[0]).toMatchObject({
        traceId: fromLib?.traceId,
        parentSpanId: fromLib?.spanId,
      });
    await stop(worker);
    await otlp.close();
  });

  it('a job Redis did not take: the enqueue and request spans carry an error status', async () => {
    const otlp = await startOtlpReceiver();
    // Nothing listens on this port: the store is refused after REQUEST_TIMEOUT_MS.
    const { api, base } = await startApi({
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      REQUEST_TIMEOUT_MS: '300',
      SHUTDOWN_DRAIN_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const tp = traceparent();
    const res = await fetch(`${base}/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', traceparent: tp.header },
      body: JSON.stringify({ type: 'work', queue: 'otel-refused', data: { ms: 1 } }),
    });
    expect(res.status).toBe(503);
    await otlp.waitForSpans('the request span', (spans) =>
      spans.some((s) => s.kind === SERVER && s.traceId === tp.traceId),
    );
    const request = otlp.spans.find((s) => s.kind === SERVER && s.traceId === tp.traceId);
    const enqueue = otlp.spans.find((s) => s.kind === PRODUCER && s.traceId === tp.traceId);
    expect(request).toMatchObject({ status: 2, attributes: { 'http.response.status_code': 503 } });
    expect(enqueue).toMatchObject({ status: 2, parentSpanId: request?.spanId });
    await stop(api);
    await otlp.close();
  });

  it('an unreachable collector: jobs still complete, spans are dropped and counted, processes stop promptly', async () => {
    const t = useTestQueue();
    // A collector that accepts connections and never answers: every export hangs until its timeout.
    const sockets = new Set<Socket>();
    const blackhole = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    track(
      'blackhole collector',
      blackhole,
      (b) => b.listening,
      (b) => b.close(),
    );
    const address = blackhole.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_BSP_SCHEDULE_DELAY: '20',
      OTEL_BSP_MAX_QUEUE_SIZE: '4',
      // A hanging export holds its request this long: a process that waited for it would stop late.
      OTEL_EXPORTER_OTLP_TIMEOUT: '30000',
    };
    const healthPort = await freePort();
    const worker = spawnKq(['worker'], {
      REDIS_URL: t.redisUrl,
      QUEUE: t.queue,
      HEALTH_PORT: String(healthPort),
      CONCURRENCY: '10',
      HANDLERS,
      ...otel,
    });
    await worker.waitForLog('worker.started', (l) => l.event === 'worker.started', 20_000);
    const { api, base } = await startApi({ REDIS_URL: t.redisUrl, SHUTDOWN_DRAIN_MS: '0', ...otel });
    const ids = await Promise.all(
      Array.from({ length: 30 }, () => postJob(base, { type: 'work', queue: t.queue, data: { ms: 1 } })),
    );
    await waitFor(
      'all 30 jobs completed',
      async () => (await t.bull.getJobCounts('completed')).completed === ids.length,
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const dropped = async (url: string, headers = {}) => {
      const text = await (await fetch(url, { headers })).text();
      return Number(/^kq_trace_spans_dropped_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
    };
    await waitFor(
      'the worker counted dropped spans',
      async () => (await dropped(`http://127.0.0.1:${healthPort}/metrics`)) > 0,
    );
    await waitFor('the API counted dropped spans', async () => (await dropped(`${base}/metrics`, auth)) > 0);
    // The exports still hang: stopping does not wait for them (the flush at exit is bounded, then cut).
    for (const p of [api, worker]) {
      const stopAt = Date.now();
      await stop(p);
      expect(Date.now() - stopAt).toBeLessThan(10_000);
    }
    for (const s of sockets) s.destroy();
    await new Promise((r) => blackhole.close(r));
  });

  it('off by default: a worker or `kq enqueue` without an OTLP endpoint loads no OpenTelemetry module; with one, it does', async () => {
    const t = useTestQueue();
    const dir = mkdtempSync(join(tmpdir(), 'kq-otel-'));
    const hook = join(dir, 'record-loads.mjs');
    writeFileSync(
      hook,
      [
        "import { registerHooks } from 'node:module';",
        "import { appendFileSync } from 'node:fs';",
        'registerHooks({ load(url, context, next) {',
        "  if (/@opentelemetry|bullmq-otel/.test(url)) appendFileSync(process.env.KQ_TEST_LOADS, url + '\\n');",
        '  return next(url, context);',
        '} });',
      ].join('\n'),
    );
    const otlp = await startOtlpReceiver();
    const run = async (name: string, env: Record<string, string>) => {
      const loads = join(dir, `${name}.txt`);
      writeFileSync(loads, '');
      await t.bull.add('work', { ms: 1 }, { jobId: `${t.queue}.${name}` });
      const w = spawnKq(['worker'], {
        REDIS_URL: t.redisUrl,
        QUEUE: t.queue,
        HEALTH_PORT: '0',
        EXIT: '1',
        HANDLERS,
        NODE_OPTIONS: `--import=${hook}`,
        KQ_TEST_LOADS: loads,
        ...env,
      });
      expect((await w.waitForExit(20_000)).code).toBe(0);
      expect(w.logs.some((l) => l.event === 'job.completed' || l.msg === 'job completed')).toBe(true);
      return readFileSync(loads, 'utf8').split('\n').filter(Boolean);
    };
    expect(await run('off', {})).toEqual([]);
    // `kq enqueue` (and the library's enqueue() it calls) with traces off: nothing either.
    const enqueueLoads = join(dir, 'enqueue-off.txt');
    writeFileSync(enqueueLoads, '');
    const cli = spawnKq(['enqueue', 'work', '{"ms":1}', '--queue', t.queue], {
      REDIS_URL: t.redisUrl,
      HANDLERS,
      NODE_OPTIONS: `--import=${hook}`,
      KQ_TEST_LOADS: enqueueLoads,
    });
    expect((await cli.waitForExit(20_000)).code).toBe(0);
    expect(readFileSync(enqueueLoads, 'utf8')).toBe('');
    expect(
      await run('disabled', { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SDK_DISABLED: 'true' }),
    ).toEqual([]);
    const on = await run('on', { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url });
    expect(on.some((u) => u.includes('/@opentelemetry/sdk-trace/'))).toBe(true);
    expect(on.some((u) => u.includes('/bullmq-otel/'))).toBe(true);
    // A job added without the API (no stored context) starts its trace at the attempt; the worker's exit
    // exported it.
    const own = attemptsOf(otlp.spans, `${t.queue}.on`);
    expect(own).toHaveLength(1);
    expect(own[0]?.parentSpanId).toBe('');
    await otlp.close();
  });
});
