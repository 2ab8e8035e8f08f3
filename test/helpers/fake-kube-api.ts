/**
 * A stand-in for the Kubernetes API server's pod PATCH endpoint: records every request and answers as
 * the API server does (200 with the pod, or a `Status` object with 403), as the test chooses.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { POD_DELETION_COST } from '../../src/worker/pod-deletion-cost.js';
import { track } from './leak-guard.js';

export interface RecordedPatch {
  method: string;
  path: string;
  contentType: string;
  authorization: string | undefined;
  body: { metadata?: { annotations?: Record<string, string> } };
  /** The pod-deletion-cost the PATCH sets, as a number (NaN when absent). */
  cost: number;
}

export interface FakeKubeApi {
  url: string;
  patches: RecordedPatch[];
  /** What the next requests get: 200, or 403 as for a service account without the Role. */
  answer: 200 | 403;
  close(): Promise<void>;
}

/** Over HTTPS with `tls` (a serving certificate, as the API server has), plain HTTP otherwise. */
export async function startFakeKubeApi(tls?: { cert: string; key: string }): Promise<FakeKubeApi> {
  const patches: RecordedPatch[] = [];
  const api = { answer: 200 as 200 | 403 };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => {
      let body: RecordedPatch['body'] = {};
      try {
        body = JSON.parse(text) as RecordedPatch['body'];
      } catch {}
      patches.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        authorization: req.headers.authorization,
        body,
        cost: Number(body.metadata?.annotations?.[POD_DELETION_COST]),
      });
      res.setHeader('content-type', 'application/json');
      if (api.answer === 403) {
        res.statusCode = 403;
        const name = req.url?.split('/').pop();
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            message: `pods "${name}" is forbidden: User "system:serviceaccount:kq:default" cannot patch resource "pods" in API group "" in the namespace "kq"`,
            reason: 'Forbidden',
            code: 403,
          }),
        );
        return;
      }
      res.end(JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: body.metadata ?? {} }));
    });
  };
  const server: Server = tls ? createHttpsServer(tls, handler) : createServer(handler);
  track(
    'fake kube API',
    server,
    (s) => s.listening,
    (s) => s.close(),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    patches,
    get answer() {
      return api.answer;
    },
    set answer(v) {
      api.answer = v;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
