/**
 * KEDA objects against KEDA's own CRDs (../shared/specs/keda, the upstream files), with a real JSON Schema
 * validator and unknown fields as errors (the API server prunes them silently, so a misspelt field would
 * be lost without a word). `@kubernetes-models/keda` lags behind newer fields and is lax; this is not.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { APPROACH_NAMES, renderObjects } from '../../src/k8s/render.js';
import { kedaCrdErrors as crdErrors } from './keda-crd-schema.js';
import { handlersOptions, type K8sObject, render, TWO_QUEUE_HANDLERS } from './manifest-fixture.js';

type Node = Record<string, unknown>;

const isKeda = (o: K8sObject) => o.apiVersion.startsWith('keda.sh/');
const variants: Record<string, string[]> = {
  defaults: [],
  'external Redis over TLS': ['--redis-url', 'rediss://redis.example.com:6380/2'],
  'other namespace and sizes': ['--namespace', 'jobs-prod', '--concurrency', '4', '--min-replicas', '1'],
};

describe('KEDA objects validate against the upstream CRDs', () => {
  for (const name of APPROACH_NAMES) {
    const sample = render(name).filter(isKeda);
    if (sample.length === 0) continue;
    it(`${name}: rendered (all variants) and committed deploy/${name}/kq.yaml`, () => {
      for (const [variant, flags] of Object.entries(variants)) {
        for (const obj of render(name, flags).filter(isKeda)) {
          expect(crdErrors(obj), `${name} (${variant}) ${obj.kind} ${obj.metadata.name}`).toEqual([]);
        }
      }
      const text = readFileSync(resolve(import.meta.dirname, `../../deploy/${name}/kq.yaml`), 'utf8');
      const committed = parseAllDocuments(text)
        .map((d) => d.toJSON() as K8sObject)
        .filter(isKeda);
      expect(committed.length).toBe(sample.length);
      for (const obj of committed) expect(crdErrors(obj), `${obj.kind} ${obj.metadata.name}`).toEqual([]);
    });
  }

  it('a handlers module on two queues: every approach’s KEDA objects (one autoscaler per queue)', async () => {
    const o = await handlersOptions(['--handlers', TWO_QUEUE_HANDLERS]);
    for (const name of APPROACH_NAMES) {
      const keda = renderObjects(name, o)
        .map((m) => m.toJSON() as K8sObject)
        .filter(isKeda);
      const scalers = keda.filter((obj) => obj.kind === 'ScaledObject' || obj.kind === 'ScaledJob');
      if (keda.length)
        expect(scalers.map((obj) => obj.metadata.name).sort(), name).toEqual([
          'kq-worker-billing',
          'kq-worker-emails',
        ]);
      for (const obj of keda) expect(crdErrors(obj), `${name} ${obj.kind} ${obj.metadata.name}`).toEqual([]);
    }
  });

  it('the validator rejects unknown fields and wrong types (so the tests above can fail)', () => {
    const so = render('keda-external').find((o) => o.kind === 'ScaledObject') as K8sObject;
    const unknown = structuredClone(so);
    (unknown.spec as Node).pollingIntervall = 30;
    expect(crdErrors(unknown).join('\n')).toMatch(/must NOT have additional properties.*pollingIntervall/);
    const badTrigger = structuredClone(so);
    const trigger = ((badTrigger.spec as Node).triggers as Node[])[0] as Node;
    trigger.authenticationRef = { name: 'x', kind: 'Secret' };
    expect(crdErrors(badTrigger).join('\n')).toMatch(
      /authenticationRef\/kind must be equal to one of the allowed values/,
    );
    const sj = render('keda-external-job').find((o) => o.kind === 'ScaledJob') as K8sObject;
    const badJob = structuredClone(sj);
    (badJob.spec as Node).pollingInterval = '5';
    expect(crdErrors(badJob).join('\n')).toMatch(/pollingInterval must be integer/);
  });
});
