/**
 * The `keda-external` and `keda-external-job` manifests hang together: the trigger KEDA gets is one the
 * scaler accepts (proved against a running scaler), its address is the scaler's Service, the TLS files the
 * scaler reads are the Secret it mounts, KEDA's TriggerAuthentication hands over the client pair, and the
 * NetworkPolicies let KEDA reach the scaler and the scaler (not KEDA) reach Redis.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/config.js';
import { parseTriggerMetadata } from '../../src/keda-scaler/metadata.js';
import { scalerOptionSpecs } from '../../src/keda-scaler/options.js';
import { useTestQueue } from '../helpers/context.js';
import { scalerClient, startScaler } from '../keda-scaler/scaler-fixture.js';
import { type K8sObject, podSpecOf, render } from './manifest-fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: walking rendered JSON of several kinds
type Json = Record<string, any>;

const find = (objs: K8sObject[], kind: string, name?: string): K8sObject & { spec: Json } => {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''}`);
  return o as K8sObject & { spec: Json };
};

for (const approach of ['keda-external', 'keda-external-job'] as const) {
  describe(approach, () => {
    const objs = render(approach, ['--queue', 'emails', '--prefix', '{kq}']);
    const scaled = find(objs, approach === 'keda-external' ? 'ScaledObject' : 'ScaledJob');
    const trigger = scaled.spec.triggers[0] as Json;

    it('the trigger is what the scaler accepts, addressed to the scaler’s Service, with TLS', () => {
      expect(scaled.spec.triggers).toHaveLength(1);
      // KEDA acts on pushes only for ScaledObjects.
      expect(trigger.type).toBe(approach === 'keda-external' ? 'external-push' : 'external');
      expect(parseTriggerMetadata(trigger.metadata)).toEqual({
        queue: 'emails',
        prefix: '{kq}',
        metric: 'backlog',
        targetPerWorker: 1,
      });
      const service = find(objs, 'Service', 'kq-keda-scaler');
      const port = service.spec.ports[0];
      expect(trigger.metadata.scalerAddress).toBe(`kq-keda-scaler.kq.svc:${port.port}`);
      expect(trigger.metadata.enableTLS).toBe('true');
      const container = podSpecOf(find(objs, 'Deployment', 'kq-keda-scaler'))?.containers[0] as IContainer;
      expect(container.ports?.find((p) => p.name === port.targetPort)?.containerPort).toBe(port.port);
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
      const { values } = parseOptions(scalerOptionSpecs, [], env);
      expect(values.port).toBe(port.port);
      // Unset: every address (IPv6 and IPv4, or IPv4 alone on a machine without IPv6).
      expect(values.bindAddress).toBe('');
      if (approach === 'keda-external-job') expect(scaled.spec.scalingStrategy.strategy).toBe('default');
    });

    it('TLS: the scaler reads its files from the mounted Secret; KEDA gets the client pair', () => {
      const pod = podSpecOf(find(objs, 'Deployment', 'kq-keda-scaler'));
      const container = pod?.containers[0] as IContainer;
      const mount = container.volumeMounts?.find((m) => m.name === 'tls');
      const volume = pod?.volumes?.find((v) => v.name === 'tls');
      expect(volume?.secret?.secretName).toBe('kq-keda-scaler-tls');
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
      expect([env.TLS_CERT_FILE, env.TLS_PRIVATE_KEY_FILE, env.CLIENT_CA_FILE]).toEqual(
        ['tls.crt', 'tls.key', 'ca.crt'].map((f) => `${mount?.mountPath}/${f}`),
      );
      const auth = find(objs, 'TriggerAuthentication', trigger.authenticationRef.name);
      expect((auth.spec.secretTargetRef as Json[]).map((r) => [r.parameter, r.name, r.key]).sort()).toEqual([
        ['caCert', 'kq-keda-scaler-client-tls', 'ca.crt'],
        ['tlsClientCert', 'kq-keda-scaler-client-tls', 'tls.crt'],
        ['tlsClientKey', 'kq-keda-scaler-client-tls', 'tls.key'],
      ]);
    });

    it('NetworkPolicies: KEDA reaches the scaler; the scaler, not KEDA, reaches Redis', () => {
      const scalerPolicy = find(objs, 'NetworkPolicy', 'kq-keda-scaler');
      const grpcRule = scalerPolicy.spec.ingress[0];
      // The one label KEDA's release YAML and its Helm chart both put on the operator pod.
      expect(grpcRule.from[0].podSelector.matchLabels).toEqual({ app: 'keda-operator' });
      expect(grpcRule.from[0].namespaceSelector.matchLabels).toEqual({
        'kubernetes.io/metadata.name': 'keda',
      });
      expect(grpcRule.ports[0].port).toBe(9090);
      const redisPolicy = find(objs, 'NetworkPolicy', 'kq-redis');
      const peers = redisPolicy.spec.ingress[0].from as Json[];
      expect(peers).toHaveLength(1);
      expect(peers[0]?.podSelector.matchExpressions[0].values).toContain('keda-scaler');
      expect(find(objs, 'PodDisruptionBudget', 'kq-keda-scaler').spec.minAvailable).toBe(1);
    });
  });
}

it('the rendered trigger metadata gets an answer from a running scaler', async () => {
  const t = useTestQueue();
  await t.bull.add('work', {});
  const objs = render('keda-external', ['--queue', t.queue, '--prefix', t.prefix]);
  const md = (find(objs, 'ScaledObject').spec.triggers[0] as Json).metadata as Record<string, string>;
  const scaler = await startScaler(t.redisUrl);
  const c = scalerClient(`127.0.0.1:${scaler.port}`);
  expect(await c.isActive(md)).toBe(true);
  expect((await c.getMetrics(md))[0]?.metricValue).toBe(1);
  c.close();
  await scaler.close();
});
