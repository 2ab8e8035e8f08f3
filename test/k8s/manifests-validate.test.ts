/**
 * Every object of every approach validates against its Kubernetes or KEDA schema: the objects the
 * generator builds, and the YAML committed under deploy/ (parsed back, so what users apply is checked).
 * KEDA objects are checked twice: by @kubernetes-models/keda (lax on newer fields) and against KEDA's own
 * CRDs with ajv, unknown fields as errors (keda-crd-schema.ts). So are the KEDA examples in docs/.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ScaledJob } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { APIService } from 'kubernetes-models/apiregistration.k8s.io/v1/APIService';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { APPROACH_NAMES, renderObjects } from '../../src/k8s/render.js';
import { isKedaKind, validateAgainstKedaCrd } from './keda-crd-schema.js';
import { handlersOptions, type K8sObject, manifestOptions, TWO_QUEUE_HANDLERS } from './manifest-fixture.js';

type ModelClass = { new (data: never): { validate(): void }; apiVersion: string; kind: string };
const schemas: ModelClass[] = [
  Namespace,
  Service,
  ServiceAccount,
  ConfigMap,
  Secret,
  Deployment,
  StatefulSet,
  CronJob,
  PodDisruptionBudget,
  NetworkPolicy,
  HorizontalPodAutoscaler,
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
  APIService,
  ScaledObject,
  ScaledJob,
  TriggerAuthentication,
];
const byType = new Map(schemas.map((c) => [`${c.apiVersion}/${c.kind}`, c]));

function validatePlain(obj: K8sObject): void {
  const model = byType.get(`${obj.apiVersion}/${obj.kind}`);
  if (!model) throw new Error(`no schema known for ${obj.apiVersion} ${obj.kind} (${obj.metadata?.name})`);
  new model(obj as never).validate();
  if (isKedaKind(obj.apiVersion)) validateAgainstKedaCrd(obj);
}

const variants: Record<string, string[]> = {
  defaults: [],
  'external Redis over TLS': ['--redis-url', 'rediss://redis.example.com:6380/2'],
  'external Redis without auth, custom sizes': [
    '--redis-url',
    'redis://redis.example.com:6379/0',
    '--no-redis-password',
    '--worker-memory-limit',
    '256Mi',
    '--concurrency',
    '4',
    '--min-replicas',
    '1',
  ],
  'dev adapter': ['--adapter-insecure-skip-tls-verify', '--namespace', 'jobs-prod'],
};

describe('rendered objects validate against their schemas', () => {
  for (const name of APPROACH_NAMES) {
    for (const [variant, flags] of Object.entries(variants)) {
      it(`${name} (${variant})`, () => {
        const objects = renderObjects(name, manifestOptions(flags));
        expect(objects.length).toBeGreaterThan(3);
        for (const obj of objects) {
          expect(
            () => obj.validate(),
            `${name}: ${JSON.stringify(obj.toJSON()).slice(0, 120)}`,
          ).not.toThrow();
          // The JSON round trip (what YAML output carries) validates too.
          validatePlain(JSON.parse(JSON.stringify(obj.toJSON())) as K8sObject);
        }
      });
    }
  }
});

describe('a handlers module on two queues: every object validates (one worker workload per queue)', () => {
  for (const name of APPROACH_NAMES) {
    it(name, async () => {
      const o = await handlersOptions(['--handlers', TWO_QUEUE_HANDLERS]);
      const objects = renderObjects(name, o);
      const workers = objects.filter((obj) =>
        (obj.toJSON() as K8sObject).metadata.name.startsWith('kq-worker-'),
      );
      expect(workers.length).toBeGreaterThanOrEqual(2);
      for (const obj of objects) {
        expect(() => obj.validate(), `${name}: ${(obj.toJSON() as K8sObject).metadata.name}`).not.toThrow();
        validatePlain(JSON.parse(JSON.stringify(obj.toJSON())) as K8sObject);
      }
    });
  }
});

describe('committed deploy/ YAML validates', () => {
  for (const name of APPROACH_NAMES) {
    it(`deploy/${name}/kq.yaml`, () => {
      const text = readFileSync(resolve(import.meta.dirname, `../../deploy/${name}/kq.yaml`), 'utf8');
      const docs = parseAllDocuments(text).map((d) => d.toJSON() as K8sObject);
      expect(docs.length).toBeGreaterThan(3);
      for (const doc of docs) validatePlain(doc);
    });
  }
});

describe('the validators reject broken objects (so the tests above can fail)', () => {
  it('a KEDA trigger with a non-string listLength and a Deployment with string replicas', () => {
    const so = renderObjects('keda-scaledobject', manifestOptions()).find(
      (o) => (o.toJSON() as K8sObject).kind === 'ScaledObject',
    );
    const broken = JSON.parse(JSON.stringify(so?.toJSON())) as K8sObject;
    const trigger = (broken.spec as { triggers: { metadata: Record<string, unknown> }[] }).triggers[0];
    if (trigger) trigger.metadata.listLength = 5;
    expect(() => validatePlain(broken)).toThrow(/listLength/);
    const sj = renderObjects('keda-scaledjob', manifestOptions()).find(
      (o) => (o.toJSON() as K8sObject).kind === 'ScaledJob',
    );
    const brokenJob = JSON.parse(JSON.stringify(sj?.toJSON())) as K8sObject;
    delete (brokenJob.spec as { jobTargetRef: { template?: unknown } }).jobTargetRef.template;
    expect(() => validatePlain(brokenJob)).toThrow(/template/);
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { replicas: 'two' },
    };
    expect(() => validatePlain(d as unknown as K8sObject)).toThrow(/replicas/);
  });
});

const kedaObject = (approach: 'keda-scaledobject' | 'keda-scaledjob', kind: string) => {
  const found = renderObjects(approach, manifestOptions()).find(
    (o) => (o.toJSON() as K8sObject).kind === kind,
  );
  // biome-ignore lint/suspicious/noExplicitAny: breaking the object on purpose, field by field
  return JSON.parse(JSON.stringify(found?.toJSON())) as K8sObject & { spec: Record<string, any> };
};

describe("KEDA's CRDs reject what a cluster would silently drop (so the KEDA checks above can fail)", () => {
  it('a misspelt field, a field in the wrong place, and a wrong type', () => {
    const sj = kedaObject('keda-scaledjob', 'ScaledJob');
    expect(() => validateAgainstKedaCrd(sj)).not.toThrow();
    sj.spec.scalingStrategy.pendingPodCondition = ['Ready'];
    expect(() => validateAgainstKedaCrd(sj)).toThrow(
      /scalingStrategy must NOT have additional properties.*pendingPodCondition/,
    );
    const so = kedaObject('keda-scaledobject', 'ScaledObject');
    so.spec.pendingPodConditions = ['Ready'];
    expect(() => validateAgainstKedaCrd(so)).toThrow(/\/spec must NOT have additional properties/);
    const ta = kedaObject('keda-scaledobject', 'TriggerAuthentication');
    ta.spec.secretTargetRef[0].parameter = 7;
    expect(() => validateAgainstKedaCrd(ta)).toThrow(/secretTargetRef\/0\/parameter must be string/);
  });
});

describe('KEDA examples in docs/ validate', () => {
  for (const page of ['api.md', 'deploy.md']) {
    it(`docs/${page}`, () => {
      const text = readFileSync(resolve(import.meta.dirname, `../../docs/${page}`), 'utf8');
      const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
      const docs = blocks
        .flatMap((b) => parseAllDocuments(b).map((d) => d.toJSON() as K8sObject | null))
        .filter((d): d is K8sObject => typeof d?.apiVersion === 'string' && isKedaKind(d.apiVersion));
      if (page === 'api.md')
        expect(docs.map((d) => d.kind).sort()).toEqual(['ScaledObject', 'TriggerAuthentication']);
      for (const doc of docs) validatePlain(doc);
    });
  }
});
