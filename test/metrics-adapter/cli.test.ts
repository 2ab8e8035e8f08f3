/**
 * `kq metrics-adapter` as shipped (the built CLI in a child process): serves a real `kq worker`'s queue,
 * logs each caller, stops on SIGTERM, and refuses unsafe or broken configurations with exit code 2.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { CLI, type KqProcess, spawnKq } from '../helpers/kq-process.js';
import { waitFor } from '../helpers/wait.js';
import { adapterTlsArgs, HPA_USER, testPki } from './certs.js';
import { get, metricPath } from './https-client.js';
import { ExternalMetricValueList } from './kube-schemas.js';

const pki = testPki();
const FIXTURES = resolve(import.meta.dirname, '../fixtures/handlers.mjs');

async function listeningPort(p: KqProcess): Promise<number> {
  const line = await p.waitForLog('listening', (l) => l.event === 'metrics-adapter.listening');
  return line.port as number;
}

/** Runs the CLI to completion and returns its exit code and stderr (for start-up refusals). */
function runToExit(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, 'metrics-adapter', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`kq metrics-adapter ${args.join(' ')} did not exit: ${stderr}`));
    }, 15_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('kq metrics-adapter (built CLI)', () => {
  it('reports a real kq worker’s queue, logs the caller, and exits 0 on SIGTERM', async () => {
    const t = useTestQueue();
    await t.bull.addBulk([1, 2, 3].map((n) => ({ name: 'work', data: { ms: 0, n } })));
    const adapter = spawnKq(
      [
        'metrics-adapter',
        '--secure-port=0',
        '--bind-address=127.0.0.1',
        ...adapterTlsArgs(pki),
        '--requestheader-allowed-names=front-proxy-client',
      ],
      { REDIS_URL: t.redisUrl },
    );
    try {
      const port = await listeningPort(adapter);
      const asHpa = {
        ca: pki.servingCa.cert,
        client: pki.frontProxy,
        headers: { 'X-Remote-User': HPA_USER, 'X-Remote-Group': 'system:serviceaccounts' },
      };
      const backlog = async () => {
        const r = await get(port, metricPath('kq_queue_backlog', `queue=${t.queue}`), asHpa);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return ExternalMetricValueList.parse(r.body).items.map((i) => i.value);
      };
      expect(await backlog()).toEqual(['3']);
      await adapter.waitForLog(
        'the request log line',
        (l) => l.event === 'metrics-adapter.request' && l.user === HPA_USER && l.status === 200,
      );

      const worker = spawnKq(['worker'], {
        REDIS_URL: t.redisUrl,
        QUEUE: t.queue,
        HEALTH_PORT: '0',
        HANDLERS: FIXTURES,
        EXIT: '1',
      });
      expect((await worker.waitForExit(30_000)).code).toBe(0);
      expect(await t.bull.getCompletedCount()).toBe(3);
      await waitFor(
        'backlog 0 after the worker drained the queue',
        async () => (await backlog())[0] === '0',
        {
          timeoutMs: 5000,
        },
      );

      adapter.kill('SIGTERM');
      expect(await adapter.waitForExit(10_000)).toEqual({ code: 0, signal: null });
      expect(adapter.logs.some((l) => l.event === 'metrics-adapter.stopped')).toBe(true);
    } finally {
      adapter.kill('SIGKILL');
    }
  });

  it('with --insecure-no-client-auth and no certificate files: self-signed, open, and says so', async () => {
    const t = useTestQueue();
    const adapter = spawnKq(
      ['metrics-adapter', '--secure-port=0', '--bind-address=127.0.0.1', '--insecure-no-client-auth'],
      {
        REDIS_URL: t.redisUrl,
      },
    );
    try {
      const port = await listeningPort(adapter);
      expect(adapter.logs.map((l) => l.event)).toEqual(
        expect.arrayContaining([
          'metrics-adapter.self-signed-cert',
          'metrics-adapter.insecure-no-client-auth',
        ]),
      );
      const r = await get(port, metricPath('kq_queue_active', `queue=${t.queue}`), { insecure: true });
      expect(r.status).toBe(200);
      expect(ExternalMetricValueList.parse(r.body).items[0]?.value).toBe('0');
    } finally {
      adapter.kill('SIGTERM');
      await adapter.waitForExit(10_000);
    }
  });

  it('refuses to start (exit 2) without a request-header CA or with broken file options', async () => {
    const cases: [string[], RegExp][] = [
      [[], /--requestheader-client-ca-file \(env REQUESTHEADER_CLIENT_CA_FILE\) is required/],
      [
        [`--tls-cert-file=${pki.files.serverCert}`, '--insecure-no-client-auth'],
        /--tls-private-key-file is missing/,
      ],
      [
        ['--requestheader-client-ca-file=/nonexistent/ca.crt'],
        /--requestheader-client-ca-file.*"\/nonexistent\/ca.crt".*ENOENT/,
      ],
      [[`--requestheader-client-ca-file=${pki.files.serverKey}`], /holds no PEM block/],
      [
        ['--secure-port=70000', '--insecure-no-client-auth'],
        /--secure-port.*"70000" must be a whole number from 0 to 65535/,
      ],
      [
        ['--insecure-no-client-auth', '--requestheader-allowed-names=a'],
        /--requestheader-allowed-names needs/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runToExit(args);
      expect(r, args.join(' ')).toMatchObject({ code: 2, stderr: expect.stringMatching(message) });
    }
    const env = await runToExit([], { REQUESTHEADER_CLIENT_CA_FILE: join(pki.files.dir, 'missing') });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/env REQUESTHEADER_CLIENT_CA_FILE/);

    // A taken port is a runtime failure (exit 1) with the reason, not a stack trace.
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    try {
      const port = (blocker.address() as { port: number }).port;
      const taken = await runToExit([
        '--insecure-no-client-auth',
        '--bind-address=127.0.0.1',
        `--secure-port=${port}`,
      ]);
      expect(taken).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/),
      });
    } finally {
      await new Promise((ok) => blocker.close(ok));
    }
  });
});
