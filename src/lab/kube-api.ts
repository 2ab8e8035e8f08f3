/**
 * The part of the Kubernetes API the lab's workers use: merge PATCH of a pod's annotations
 * (`PATCH /api/v1/namespaces/<ns>/pods/<name>`), stored on the played pod, where the ReplicaSet reads its
 * pod-deletion-cost. Workers reach it through the same module they use in a cluster
 * (src/worker/pod-deletion-cost.ts, with `KUBE_API_URL`). A pod that ended, or none of that name, is a 404.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LabPod } from './pod-runner.js';

export interface LabKubeApi {
  url: string;
  /** PATCHes applied so far. */
  readonly patches: number;
  close(): Promise<void>;
}

const POD_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/([^/?]+)$/;

/** @example const api = await startLabKubeApi(() => runner.pods); ... await api.close(); */
export async function startLabKubeApi(pods: () => readonly LabPod[]): Promise<LabKubeApi> {
  let patches = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      if (body.length < 64_000) body += c;
    });
    req.on('end', () => {
      const answer = (code: number, obj: unknown) => {
        res.statusCode = code;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(obj));
      };
      const status = (code: number, reason: string, message: string) =>
        answer(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });
      const m = POD_PATH.exec(req.url ?? '');
      if (req.method !== 'PATCH' || !m)
        return status(405, 'MethodNotAllowed', 'the lab serves pod PATCH only');
      const name = decodeURIComponent(m[1] as string);
      const pod = pods().find((p) => p.name === name && p.endedAt === undefined);
      if (!pod) return status(404, 'NotFound', `pods "${name}" not found`);
      let patch: { metadata?: { annotations?: Record<string, string | null> } };
      try {
        patch = JSON.parse(body) as typeof patch;
      } catch {
        return status(400, 'BadRequest', 'the body is not JSON');
      }
      pod.annotations ??= {};
      const annotations = pod.annotations;
      for (const [k, v] of Object.entries(patch.metadata?.annotations ?? {})) {
        if (v === null) delete annotations[k];
        else annotations[k] = String(v);
      }
      patches++;
      answer(200, { kind: 'Pod', apiVersion: 'v1', metadata: { name, annotations } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get patches() {
      return patches;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
