/**
 * Validates prometheus-operator objects against the operator's own CRDs (test/k8s/upstream/, copied
 * unchanged from prometheus-operator v0.89.0), unknown fields as errors: the API server prunes fields a
 * structural schema does not declare, so a misspelt field would be dropped silently on a cluster.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const UPSTREAM = resolve(import.meta.dirname, '../k8s/upstream');
const CRDS: Record<string, string> = {
  PrometheusRule: 'prometheus-operator-v0.89.0-prometheusrules-crd.yaml',
  PodMonitor: 'prometheus-operator-v0.89.0-podmonitors-crd.yaml',
};

function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = closeObjects(v);
  if (
    out.properties &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  )
    out.additionalProperties = false;
  return out;
}

// The CRDs' patterns are Go (RE2) syntax: a leading `(?i)` becomes JavaScript's `i` flag.
const regExp = Object.assign(
  (pattern: string, flags: string) =>
    pattern.includes('(?i)')
      ? new RegExp(pattern.replace('(?i)', ''), `${flags}i`)
      : new RegExp(pattern, flags),
  { code: 'goRegExp' },
);

const cache = new Map<string, ValidateFunction>();

/** The validator of `kind` (monitoring.coreos.com/v1). */
export function prometheusOperatorValidator(kind: string): ValidateFunction {
  let v = cache.get(kind);
  if (!v) {
    const file = CRDS[kind];
    if (!file) throw new Error(`no CRD kept for ${kind}`);
    const crd = parse(readFileSync(resolve(UPSTREAM, file), 'utf8')) as {
      spec: { versions: { name: string; schema: { openAPIV3Schema: unknown } }[] };
    };
    const schema = crd.spec.versions.find((x) => x.name === 'v1')?.schema.openAPIV3Schema;
    v = new Ajv({ strict: false, allErrors: true, code: { regExp } }).compile(closeObjects(schema) as object);
    cache.set(kind, v);
  }
  return v;
}
