/**
 * The in-cluster Redis's start script, run for real with the local redis-server: the password from the
 * env is required, AOF and noeviction are on, and `exec` makes redis-server the process that receives
 * SIGTERM (so it flushes and exits 0 instead of being killed after the grace period).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { trackProcess } from '../helpers/leak-guard.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { firstContainer, render } from './manifest-fixture.js';

it('the StatefulSet command starts a password-protected, AOF, noeviction Redis that stops cleanly', async () => {
  const sts = render('deployment', ['--redis-maxmemory-mb', '64']).find((o) => o.kind === 'StatefulSet');
  const container = firstContainer(sts);
  const [shell, flag, script] = container.command as string[];
  expect(container.env?.map((e) => e.name)).toEqual(['REDIS_PASSWORD', 'REDISCLI_AUTH']);
  expect(script).not.toContain('$(REDIS_PASSWORD)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kq-redis-'));
  const local = (script as string).replace(
    '--port 6379 --dir /data',
    `--port ${port} --dir ${dir} --bind 127.0.0.1`,
  );
  expect(local).not.toBe(script);
  const proc = trackProcess(
    'redis from the StatefulSet script',
    spawn(shell as string, [flag as string, local], {
      env: { PATH: process.env.PATH ?? '', REDIS_PASSWORD: 'a1b2c3d4' },
      stdio: 'ignore',
    }),
  );
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const connect = (password?: string) => {
    const r = new Redis({
      port,
      host: '127.0.0.1',
      password,
      enableReadyCheck: false,
      retryStrategy: () => null,
    });
    r.on('error', () => undefined);
    return r;
  };
  await waitFor(
    'redis to accept the password',
    async () => {
      const probe = connect('a1b2c3d4');
      try {
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  const client = connect('a1b2c3d4');
  const anonymous = connect();
  try {
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await client.config('GET', 'maxmemory')).toEqual(['maxmemory', String(64 * 1024 * 1024)]);
    await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
    await client.set('k', 'v');
    client.disconnect();
    anonymous.disconnect();
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, 'appendonlydir'))).toBe(true);
  } finally {
    client.disconnect();
    anonymous.disconnect();
    if (proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
