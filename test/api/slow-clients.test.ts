/**
 * Defect 4 through real sockets: header and request timeouts fire close to their setting (not 30 s
 * later), the socket is destroyed after the 408 (not half-closed), and connections are bounded.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { TOKEN, testApp } from './app-fixture.js';

/** Opens a socket; resolves what it received and when it was closed (ms after `t0`). */
function client(port: number, t0: number) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d) => {
    received += d.toString();
  });
  socket.on('error', () => undefined);
  const closed = new Promise<{ received: string; closedAfterMs: number }>((resolve) =>
    socket.on('close', () => resolve({ received, closedAfterMs: Date.now() - t0 })),
  );
  return { socket, closed };
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

describe('slow clients', () => {
  it('a client stuck in its headers gets a 408 at the timeout and its socket is destroyed', async () => {
    const t = useTestQueue();
    const app = await testApp({ ...t, headersTimeoutMs: 1000, receiveTimeoutMs: 2000 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const t0 = Date.now();
    const partial = client(port, t0);
    partial.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    // A client that drips its body, never finishing it.
    const drip = client(port, t0);
    drip.socket.write(
      `POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
    );
    const timer = setInterval(() => drip.socket.writable && drip.socket.write(' '), 200);
    try {
      const a = await within(partial.closed, 8000);
      const b = await within(drip.closed, 10_000);
      expect(a).not.toBe('timeout');
      expect(b).not.toBe('timeout');
      if (a === 'timeout' || b === 'timeout') return;
      expect(a.received).toMatch(/^HTTP\/1\.1 408/);
      expect(b.received).toMatch(/^HTTP\/1\.1 408/);
      // Setting + Node's check interval (1 s) + slack for a loaded machine; before: 62-87 s for 30 s.
      expect(a.closedAfterMs).toBeLessThan(1000 + 1000 + 3000);
      expect(b.closedAfterMs).toBeLessThan(2000 + 1000 + 3000);
    } finally {
      clearInterval(timer);
      partial.socket.destroy();
      drip.socket.destroy();
      await app.close();
    }
  });

  it('connections past MAX_CONNECTIONS are closed as they arrive', async () => {
    const t = useTestQueue();
    const app = await testApp({ ...t, maxConnections: 10 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const t0 = Date.now();
    const sockets: { socket: Socket; closed: Promise<unknown> }[] = [];
    for (let i = 0; i < 30; i++) {
      const c = client(port, t0);
      c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      sockets.push(c);
    }
    try {
      const settled = await Promise.all(sockets.map((s) => within(s.closed, 1500)));
      const closed = settled.filter((s) => s !== 'timeout').length;
      expect(closed).toBeGreaterThanOrEqual(20);
      expect(app.server.connections ?? 0).toBeLessThanOrEqual(10);
    } finally {
      for (const s of sockets) s.socket.destroy();
      await app.close();
    }
  });
});
