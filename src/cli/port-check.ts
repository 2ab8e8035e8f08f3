/**
 * A port another process holds, found before a command builds anything: `kq api` and `kq dev` then stop
 * with a configuration error (exit code 2) naming the port and the flag that changes it, instead of
 * failing later with a bare EADDRINUSE (and, for `kq dev`, after Redis and the workers were started).
 */
import { createServer } from 'node:net';
import { ConfigError } from '../errors.js';

/** The error for a port that cannot be listened on; also used when `listen` itself fails. */
export function portError(host: string, port: number, code: string | undefined): ConfigError {
  const why =
    code === 'EADDRINUSE'
      ? 'is already in use (another kq api or kq dev?)'
      : code === 'EACCES'
        ? 'is not allowed for this user (ports below 1024 need privileges)'
        : `cannot be listened on (${code ?? 'unknown error'})`;
  return new ConfigError(
    `PORT (--port) ${port}: ${host}:${port} ${why}. Choose a free port with --port <n> (or PORT=<n>), or --port 0 for any free one.`,
    { option: 'port', value: port, rule: 'must be a port nothing else listens on' },
  );
}

/**
 * Throws `portError` when `host:port` cannot be listened on now; port 0 (any free port) always can.
 * @example await assertPortFree('127.0.0.1', 8080);
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(portError(host, port, err.code)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
