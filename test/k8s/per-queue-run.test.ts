/**
 * The per-queue manifests run: the API and both worker containers of a two-queue `deployment` rendering,
 * started from their rendered args and env (Redis pointed at the test server, ports remapped), take one
 * job of each type over HTTP, and each job runs in the worker whose QUEUE is its type's queue.
 */
import { expect, inject, it } from 'vitest';
import { renderObjects } from '../../src/k8s/render.js';
import { uniqueName } from '../helpers/context.js';
import { type KqProcess, spawnKq } from '../helpers/kq-process.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { handlersOptions, type K8sObject, kqContainers, TWO_QUEUE_HANDLERS } from './manifest-fixture.js';

const started: KqProcess[] = [];
async function stopAll(): Promise<void> {
  for (const p of started) p.kill('SIGTERM');
  const exits = await Promise.all(started.map((p) => p.waitForExit(30_000)));
  for (const e of exits) expect(e.code).toBe(0);
}

it('each job type runs in the worker of its own queue, started from the rendered env', async () => {
  const prefix = uniqueName('kqpq');
  const o = await handlersOptions(['--handlers', TWO_QUEUE_HANDLERS, '--prefix', prefix]);
  const objects = renderObjects('deployment', o).map((m) => m.toJSON() as K8sObject);
  const token = 'per-queue-token-0123456789abcdef';
  const apiPort = await freePort();
  const start = async (c: ReturnType<typeof kqContainers>[number]) => {
    const env: Record<string, string> = {};
    for (const e of c.container.env ?? []) if (!e.valueFrom) env[e.name] = e.value ?? '';
    Object.assign(env, { REDIS_URL: inject('redisUrl'), HEALTH_PORT: '0', LOG_LEVEL: 'warn' });
    if (c.container.name === 'api')
      Object.assign(env, { PORT: String(apiPort), HOST: '127.0.0.1', API_TOKENS: token });
    const p = spawnKq(c.container.args ?? [], env, `${c.obj.metadata.name} from the manifest`);
    started.push(p);
    return { name: c.obj.metadata.name, queue: env.QUEUE, proc: p };
  };
  try {
    await runJobs(await Promise.all(kqContainers(objects).map(start)), apiPort, token);
  } finally {
    await stopAll();
  }
});

async function runJobs(
  running: { name: string; queue: string | undefined; proc: KqProcess }[],
  apiPort: number,
  token: string,
): Promise<void> {
  const workers = running.filter((r) => r.queue);
  expect(workers.map((w) => [w.name, w.queue]).sort()).toEqual([
    ['kq-worker-billing', 'billing'],
    ['kq-worker-emails', 'emails'],
  ]);

  const base = `http://127.0.0.1:${apiPort}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  await waitFor('the API to answer', async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  for (const [type, queue] of [
    ['invoice', 'billing'],
    ['welcome', 'emails'],
  ] as const) {
    const posted = await fetch(`${base}/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type, data: {} }),
    });
    expect(posted.status, await posted.clone().text()).toBe(202);
    const { id } = (await posted.json()) as { id: string };
    const done = await waitFor(
      `${type} job ${id} to complete`,
      async () => {
        const body = (await (await fetch(`${base}/jobs/${id}`, { headers })).json()) as {
          status: string;
          result?: { queue: string; pid: number } | null;
        };
        return body.status === 'completed' && body.result ? body.result : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const worker = workers.find((w) => w.queue === queue);
    expect(done).toEqual({ queue, pid: worker?.proc.proc.pid });
  }
}
