/**
 * The prometheus-adapter values file kq ships makes the chart render what the HPA needs. The chart's
 * template conditions (test/k8s/upstream/prometheus-adapter-chart.json, copied verbatim from the chart
 * with its commit) are evaluated against chart defaults + kq's values, with Go template truthiness
 * (false, 0, nil, "" and empty lists/maps are false). The old install (`rules.existing` only) fails here.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADAPTER_VALUES_FILE, prometheusAdapterValues } from '../../src/k8s/approaches/hpa-prometheus.js';

const chart = JSON.parse(
  readFileSync(resolve(import.meta.dirname, 'upstream/prometheus-adapter-chart.json'), 'utf8'),
) as { conditions: Record<string, string>; defaults: Values };
const deployDir = resolve(import.meta.dirname, '../../deploy/hpa-prometheus');

type Values = { [k: string]: unknown };

function merge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const isMap = (x: unknown): x is Values => typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = isMap(b) && isMap(v) ? merge(b, v) : v;
  }
  return out;
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && v !== null) return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Evaluates `and`, `or`, `not`, parentheses and `.Values.a.b` paths: the forms the chart's conditions use. */
function evaluate(condition: string, values: Values): boolean {
  const tokens = condition.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const term = (): unknown => {
    const t = tokens[i++];
    if (t === '(') {
      const v = group();
      if (tokens[i++] !== ')') throw new Error(`unbalanced parentheses in ${condition}`);
      return v;
    }
    if (t?.startsWith('.Values.')) {
      return t
        .slice('.Values.'.length)
        .split('.')
        .reduce<unknown>((o, k) => (o as Values | undefined)?.[k], values);
    }
    throw new Error(`unsupported token ${t} in ${condition}`);
  };
  const group = (): unknown => {
    const fn = tokens[i];
    if (fn === 'and' || fn === 'or' || fn === 'not') {
      i++;
      const args: unknown[] = [];
      while (i < tokens.length && tokens[i] !== ')') args.push(term());
      if (fn === 'not') return !truthy(args[0]);
      return fn === 'and' ? args.every(truthy) : args.some(truthy);
    }
    return term();
  };
  const result = truthy(group());
  if (i !== tokens.length) throw new Error(`trailing tokens in ${condition}`);
  return result;
}

const rendered = (over: Values) =>
  Object.fromEntries(
    Object.entries(chart.conditions).map(([file, cond]) => [
      file,
      evaluate(cond, merge(chart.defaults, over)),
    ]),
  );

describe('prometheus-adapter chart + kq values', () => {
  it('the committed values file is what the generator renders', () => {
    const committed = parse(readFileSync(resolve(deployDir, ADAPTER_VALUES_FILE), 'utf8'));
    expect(committed).toEqual(prometheusAdapterValues());
  });

  it('renders the external metrics APIService, its ClusterRole, the HPA binding and the rule; no custom metrics API', () => {
    expect(rendered(prometheusAdapterValues())).toEqual({
      'configmap.yaml': true,
      'configmap.yaml#externalRules': true,
      'custom-metrics-apiservice.yaml': false,
      'custom-metrics-cluster-role.yaml': false,
      'custom-metrics-cluster-role-binding-hpa.yaml': false,
      'external-metrics-apiservice.yaml': true,
      'external-metrics-cluster-role.yaml': true,
      'external-metrics-cluster-role-binding-hpa.yaml': true,
      'resource-metrics-apiservice.yaml': false,
    });
  });

  it('the old install (--set rules.existing=<ConfigMap>) left the external metrics API out', () => {
    const old = rendered({ rules: { existing: 'kq-prometheus-adapter-config' } });
    expect(old['external-metrics-apiservice.yaml']).toBe(false);
    expect(old['external-metrics-cluster-role-binding-hpa.yaml']).toBe(false);
  });

  it("the README's install command uses the values file", () => {
    // Shell line continuations joined, as the shell reads the command.
    const readme = readFileSync(resolve(deployDir, 'README.md'), 'utf8').replace(/\\\n\s*/g, ' ');
    expect(readme).toMatch(new RegExp(`helm (upgrade --)?install .*-f \\S*${ADAPTER_VALUES_FILE}`));
    expect(readme).not.toMatch(/rules\.existing=/);
  });
});
