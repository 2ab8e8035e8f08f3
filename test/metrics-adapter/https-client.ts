/** A small HTTPS GET for the adapter tests: trusts the test serving CA, optionally presents a client cert. */
import { request } from 'node:https';
import type { Pem } from './certs.js';

export interface Reply {
  status: number;
  body: unknown;
  contentType?: string;
}

export function get(
  port: number,
  path: string,
  o: {
    ca?: string;
    insecure?: boolean;
    client?: Pem;
    headers?: Record<string, string | string[]>;
    timeoutMs?: number;
    method?: string;
  },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        path,
        method: o.method ?? 'GET',
        ca: o.ca,
        rejectUnauthorized: !o.insecure,
        cert: o.client?.cert,
        key: o.client?.key,
        headers: o.headers,
        agent: false,
        timeout: o.timeoutMs ?? 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(text),
              contentType: res.headers['content-type'],
            });
          } catch {
            reject(new Error(`${path}: not JSON (${res.statusCode}): ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within ${o.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export const metricPath = (metric: string, selector?: string, namespace = 'default') =>
  `/apis/external.metrics.k8s.io/v1beta1/namespaces/${namespace}/${metric}${
    selector === undefined ? '' : `?labelSelector=${encodeURIComponent(selector)}`
  }`;
