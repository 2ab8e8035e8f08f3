/**
 * A TCP proxy on a free loopback port that delays every chunk, in order, by `delayMs` each way: a
 * Sentinel on a slow or loaded link, so that a client's lookup through it takes a measurable time.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface SlowProxy {
  port: number;
  /** Client connections accepted so far. */
  accepted(): number;
  /** Sockets (client and upstream sides) still open. */
  open(): number;
  close(): Promise<void>;
}

/** @example const p = await startSlowProxy(26379, 200); // 127.0.0.1:p.port answers 200 ms late each way */
export async function startSlowProxy(targetPort: number, delayMs: number): Promise<SlowProxy> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const relay = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => {
      setTimeout(() => to.writable && to.write(chunk), delayMs).unref();
    });
    from.on('close', () => setTimeout(() => to.destroy(), delayMs).unref());
    from.on('error', () => undefined);
  };
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    accepted: () => accepted,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
