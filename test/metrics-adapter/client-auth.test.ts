/**
 * Authentication as an aggregated API server: only a client certificate signed by the request-header CA
 * (with an allowed CN, when names are set) gets in; everything else is a 401 Status. Probes stay open.
 */
import { describe, expect, inject, it } from 'vitest';
import { startAdapter } from './adapter-fixture.js';
import { testPki } from './certs.js';
import { get, metricPath } from './https-client.js';
import { APIResourceList, ExternalMetricValueList, Status } from './kube-schemas.js';

const pki = testPki();
const ca = pki.servingCa.cert;
const DISCOVERY = '/apis/external.metrics.k8s.io/v1beta1';
const VALUE = metricPath('kq_queue_backlog', 'queue=jobs');

async function expect401(
  port: number,
  path: string,
  client: typeof pki.frontProxy | undefined,
  mentions: string,
) {
  const r = await get(port, path, { ca, client });
  expect(r.status, `${path} with ${client ? 'a client cert' : 'no client cert'}`).toBe(401);
  const s = Status.parse(r.body);
  expect(s).toEqual({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: expect.stringContaining(mentions),
    reason: 'Unauthorized',
    code: 401,
  });
}

describe('client certificate authentication', () => {
  it('refuses requests without a client certificate or with one from another CA', async () => {
    const { port, logs } = await startAdapter(inject('redisUrl'));
    for (const path of [DISCOVERY, VALUE, '/apis']) {
      await expect401(port, path, undefined, 'no client certificate');
      await expect401(port, path, pki.strangerClient, 'not signed by the request-header CA');
    }
    expect(logs.filter((l) => l.event === 'metrics-adapter.unauthorized')).toHaveLength(6);
  });

  it('serves the front-proxy certificate and logs the caller from X-Remote-User / X-Remote-Group', async () => {
    const { port, logs } = await startAdapter(inject('redisUrl'));
    const r = await get(port, VALUE, {
      ca,
      client: pki.frontProxy,
      headers: {
        'X-Remote-User': 'system:serviceaccount:kube-system:horizontal-pod-autoscaler',
        'X-Remote-Group': ['system:serviceaccounts', 'system:authenticated'],
      },
    });
    expect(r.status).toBe(200);
    ExternalMetricValueList.parse(r.body);
    expect(logs.find((l) => l.event === 'metrics-adapter.request')).toMatchObject({
      status: 200,
      user: 'system:serviceaccount:kube-system:horizontal-pod-autoscaler',
      groups: ['system:serviceaccounts', 'system:authenticated'],
      clientCn: 'front-proxy-client',
    });
  });

  it('with --requestheader-allowed-names, refuses a CA-signed certificate with another CN', async () => {
    const open = await startAdapter(inject('redisUrl'));
    // Without allowed names any certificate of the CA is accepted...
    const caller = { 'X-Remote-User': 'system:serviceaccount:kube-system:horizontal-pod-autoscaler' };
    expect((await get(open.port, DISCOVERY, { ca, client: pki.otherClient, headers: caller })).status).toBe(
      200,
    );

    const strict = await startAdapter(inject('redisUrl'), {
      allowedNames: ['front-proxy-client', 'aggregator'],
    });
    await expect401(
      strict.port,
      DISCOVERY,
      pki.otherClient,
      '"not-the-aggregator" is not in --requestheader-allowed-names',
    );
    await expect401(strict.port, DISCOVERY, pki.strangerClient, 'not signed');
    const ok = await get(strict.port, DISCOVERY, { ca, client: pki.frontProxy, headers: caller });
    expect(ok.status).toBe(200);
    APIResourceList.parse(ok.body);
  });

  it('refuses a valid front-proxy certificate that names no caller (no or empty X-Remote-User)', async () => {
    const { port } = await startAdapter(inject('redisUrl'));
    const cases: Record<string, string>[] = [
      {},
      { 'X-Remote-User': '' },
      { 'X-Remote-Group': 'system:authenticated' },
    ];
    for (const headers of cases) {
      const r = await get(port, VALUE, { ca, client: pki.frontProxy, headers });
      expect(r.status).toBe(401);
      expect(JSON.stringify(r.body)).toContain('X-Remote-User is missing or empty');
    }
  });

  it('keeps /healthz and /readyz open to the kubelet, which presents no client certificate', async () => {
    const { port } = await startAdapter(inject('redisUrl'));
    expect(await get(port, '/healthz', { ca })).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get(port, '/readyz', { ca })).toMatchObject({ status: 200, body: { status: 'ready' } });
  });
});
