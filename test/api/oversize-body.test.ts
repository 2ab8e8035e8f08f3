/**
 * A body over BODY_LIMIT, sent through a real socket, gets the 413 in kq's error shape and not a reset:
 * the server reads the rest of the body (up to 8 x BODY_LIMIT) before it closes the connection
 * (src/api/oversize-body.ts). The client sends the second half of the body only after the 413 arrived:
 * a server that closed the socket right after answering (Fastify's own way) answers those bytes with a
 * reset, which a client still sending sees as a network error ("fetch failed") instead of the 413; here
 * its FIN would arrive before the client sent the rest.
 */
import { type AddressInfo, connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, testApp } from './app-fixture.js';

const LIMIT = 64 * 1024;

async function listening(bodyLimit: number) {
  const t = useTestQueue();
  const app = await testApp({ ...t, bodyLimit });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, t, port: (app.server.address() as AddressInfo).port };
}

/** Reads from `socket` until `done(text)` holds, the socket ends or 10 s pass; returns what arrived. */
function readUntil(socket: Socket, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const finish = () => {
      clearTimeout(timer);
      socket.off('data', onData).off('end', finish).off('close', finish).off('error', finish);
      resolve(text);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (done(text)) finish();
    };
    const timer = setTimeout(finish, 10_000);
    socket.on('data', onData).on('end', finish).on('close', finish).on('error', finish);
  });
}

/** A whole HTTP response in `text`: head and a Content-Length body. */
const complete = (text: string) => {
  const head = text.indexOf('\r\n\r\n');
  const length = /content-length: (\d+)/i.exec(text.slice(0, head))?.[1];
  return head >= 0 && length !== undefined && text.length >= head + 4 + Number(length);
};

/** Sends half of a 4 x LIMIT body, reads the answer, sends the rest; then waits for the socket to close. */
async function overLimitThenRest(port: number, chunked: boolean) {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const seen: string[] = [];
  socket.on('error', (err: NodeJS.ErrnoException) => seen.push(`error ${err.code}`));
  socket.on('end', () => seen.push('end'));
  const ended = new Promise((r) => socket.once('end', r));
  const closed = new Promise((r) => socket.once('close', r));
  await new Promise((r) => socket.once('connect', r));
  const half = 'x'.repeat(2 * LIMIT);
  const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${4 * LIMIT}`;
  const piece = (s: string) => (chunked ? `${s.length.toString(16)}\r\n${s}\r\n` : s);
  socket.write(
    `POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n${piece(half)}`,
  );
  const answer = await readUntil(socket, complete);
  seen.push('answered');
  // Fastify's own 413 closes the socket at once: its FIN follows the answer within milliseconds. A
  // bounded look for it (a quiet 300 ms proves nothing by itself; the order of `seen` below does).
  await Promise.race([ended, new Promise((r) => setTimeout(r, 300))]);
  await new Promise<void>((resolve) => {
    socket.write(`${piece(half)}${chunked ? '0\r\n\r\n' : ''}`, () => resolve());
  });
  seen.push('sent');
  // The server closes after it has read the body; the client then closes its side.
  await Promise.race([ended, closed]);
  socket.end();
  await closed;
  return { answer, seen };
}

describe('a body over BODY_LIMIT', () => {
  it('is answered 413 while the client is still sending; the socket closes only after the body, without a reset', async () => {
    const { app, t, port } = await listening(LIMIT);
    try {
      for (const chunked of [false, true]) {
        const { answer, seen } = await overLimitThenRest(port, chunked);
        expect(answer.split('\r\n')[0], `chunked: ${chunked}`).toBe('HTTP/1.1 413 Payload Too Large');
        expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
          error: { code: 'BODY_TOO_LARGE', limitBytes: LIMIT },
        });
        // Closed by the server only once the whole body was sent (and read), and never reset.
        expect(seen, `chunked: ${chunked}`).toEqual(['answered', 'sent', 'end']);
      }
      expect(await t.bull.count()).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('fetch with a whole 2 MiB body gets the 413 (what a real client sees)', async () => {
    const { app, port } = await listening(1_048_576);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/jobs`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: `{"type":"noop","data":{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}}`,
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BODY_TOO_LARGE');
    } finally {
      await app.close();
    }
  });

  it('declared past 8 x BODY_LIMIT: answered 413 with the connection closed, the body not read', async () => {
    const { app, port } = await listening(LIMIT);
    try {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((r) => socket.once('connect', r));
      socket.write(
        `POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${9 * LIMIT}\r\n\r\n{"type":"`,
      );
      const text = await readUntil(socket, () => false);
      socket.destroy();
      expect(text.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
      expect(text.toLowerCase()).toContain('connection: close');
    } finally {
      await app.close();
    }
  });
});
