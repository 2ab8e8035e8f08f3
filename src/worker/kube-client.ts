/**
 * The smallest Kubernetes client kq needs: one merge PATCH on the worker's own pod. In a cluster it reads
 * what every pod is given: `KUBERNETES_SERVICE_HOST`/`_PORT` and the service account's token and CA under
 * `/var/run/secrets/kubernetes.io/serviceaccount`. `KUBE_API_URL` overrides the address (tests, the lab,
 * `kubectl proxy`); the token is then sent only if the file exists, and an `https` URL is checked against
 * the service account CA when there is one, the system CAs otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { nodeHttp, nodeHttps } from '../node-http.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeTarget {
  /** Base URL of the API server, without a trailing slash. */
  url: string;
  token?: string;
  ca?: Buffer;
}

/** Why there is no API server to talk to, or where it is. */
export type KubeLocation = { ok: true; target: KubeTarget } | { ok: false; why: string };

/**
 * Where the API server is, from the environment and the service account files.
 * @example const where = locateApiServer(process.env); if (where.ok) await patchPod(where.target, ns, name, patch);
 */
export function locateApiServer(
  env: Record<string, string | undefined>,
  o: { apiUrl?: string; serviceAccountDir?: string } = {},
): KubeLocation {
  const dir = o.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const read = (file: string) => {
    const path = `${dir}/${file}`;
    return existsSync(path) ? readFileSync(path) : undefined;
  };
  const token = read('token')?.toString('utf8').trim();
  const ca = read('ca.crt');
  if (o.apiUrl) return { ok: true, target: { url: o.apiUrl.replace(/\/+$/, ''), token, ca } };
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host)
    return { ok: false, why: 'not in a Kubernetes pod (KUBERNETES_SERVICE_HOST unset, no KUBE_API_URL)' };
  if (!token)
    return { ok: false, why: `no service account token in ${dir} (automountServiceAccountToken off?)` };
  const h = host.includes(':') ? `[${host}]` : host;
  return { ok: true, target: { url: `https://${h}:${port}`, token, ca } };
}

/** An answer from the API server that is not 2xx. */
export class KubeHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Merge-patches pod `name` in `namespace`; rejects with `KubeHttpError` on a non-2xx answer, with the
 * socket's error when the server cannot be reached, and after `timeoutMs` without an answer.
 */
export function patchPod(
  t: KubeTarget,
  namespace: string,
  name: string,
  patch: unknown,
  timeoutMs = 5000,
): Promise<void> {
  const url = new URL(
    `${t.url}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`,
  );
  const body = JSON.stringify(patch);
  const headers: Record<string, string> = {
    'content-type': 'application/merge-patch+json',
    'content-length': String(Buffer.byteLength(body)),
    accept: 'application/json',
  };
  if (t.token) headers.authorization = `Bearer ${t.token}`;
  const https = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (https ? nodeHttps() : nodeHttp()).request(
      url,
      { method: 'PATCH', headers, timeout: timeoutMs, ...(https && t.ca ? { ca: t.ca } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 2000) text += c;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          let message = text.slice(0, 300);
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {}
          reject(new KubeHttpError(status, `PATCH pods/${name}: HTTP ${status} ${message}`));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`PATCH pods/${name}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
