/**
 * Validates KEDA objects against KEDA's own CRDs (../shared/specs/keda/, copied unchanged from
 * kedacore/keda; see its README) with a real JSON Schema validator (ajv), unknown fields as errors: the
 * API server prunes fields a structural schema does not declare, so a misspelt or misplaced field is
 * silently dropped on a cluster. Here every object schema with `properties` gets
 * `additionalProperties: false` unless it already says otherwise (or preserves unknown fields).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const SPECS = resolve(import.meta.dirname, '../../../shared/specs/keda');
const CRD_FILES = [
  'keda.sh_scaledobjects.yaml',
  'keda.sh_scaledjobs.yaml',
  'keda.sh_triggerauthentications.yaml',
];

type Schema = { [k: string]: unknown };

function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) out[k] = closeObjects(v);
  const s = out as Schema & { properties?: unknown };
  if (
    s.properties &&
    s.additionalProperties === undefined &&
    s['x-kubernetes-preserve-unknown-fields'] !== true
  )
    s.additionalProperties = false;
  return out;
}

interface Crd {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
  };
}

let validators: Map<string, ValidateFunction> | undefined;

function load(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const map = new Map<string, ValidateFunction>();
  for (const file of CRD_FILES) {
    const crd = parse(readFileSync(resolve(SPECS, file), 'utf8')) as Crd;
    for (const v of crd.spec.versions) {
      const schema = closeObjects(v.schema.openAPIV3Schema) as Schema;
      map.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(schema));
    }
  }
  return map;
}

export const isKedaKind = (apiVersion: string) => apiVersion.startsWith('keda.sh/');

/** Every schema error (path, message, params) of `obj` against its KEDA CRD; [] when valid. */
export function kedaCrdErrors(obj: { apiVersion: string; kind: string }): string[] {
  validators ??= load();
  const validate = validators.get(`${obj.apiVersion}/${obj.kind}`);
  if (!validate) throw new Error(`no KEDA CRD for ${obj.apiVersion} ${obj.kind}`);
  if (validate(obj as unknown)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
  );
}

/**
 * Throws with every schema error unless `obj` is valid against its KEDA CRD.
 * @example validateAgainstKedaCrd({ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledJob', ... });
 */
export function validateAgainstKedaCrd(obj: {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
}) {
  const errors = kedaCrdErrors(obj);
  if (errors.length === 0) return;
  throw new Error(`${obj.kind} ${obj.metadata?.name} does not match KEDA's CRD:\n  ${errors.join('\n  ')}`);
}
