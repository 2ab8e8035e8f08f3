/** kq's errors keep the error they explain as `cause` (ioredis' error, a file read, a module's throw). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, KqError, RedisUnavailableError } from '../../src/errors.js';
import { loadHandlers } from '../../src/jobs/load-handlers.js';
import { toUnavailable } from '../../src/queue/redis-errors.js';

describe('KqError keeps its cause', () => {
  it('the constructors pass cause on', () => {
    const root = new Error('root');
    expect(new KqError('INTERNAL', 'x', {}, { cause: root }).cause).toBe(root);
    expect(new ConfigError('x', {}, { cause: root }).cause).toBe(root);
    expect(new ConfigError('x').cause).toBeUndefined();
  });

  it('a classified Redis error keeps ioredis’ error, both outcomes', () => {
    const refused = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    const a = toUnavailable(refused) as RedisUnavailableError;
    expect(a).toBeInstanceOf(RedisUnavailableError);
    expect(a.details.stored).toBe(false);
    expect(a.cause).toBe(refused);
    const lost = new Error('Command timed out');
    const b = toUnavailable(lost, ['j1']) as RedisUnavailableError;
    expect(b.details.stored).toBe('unknown');
    expect(b.cause).toBe(lost);
  });

  it('a HANDLERS module that throws while loading: the ConfigError holds the module’s own error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kq-cause-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'bad.mjs'), "throw new RangeError('bad module');\n");
    const err = await loadHandlers(join(dir, 'bad.mjs')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('RangeError: bad module');
    expect((err as Error).cause).toBeInstanceOf(RangeError);
  });
});
