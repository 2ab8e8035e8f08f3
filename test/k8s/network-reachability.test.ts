/**
 * Every rendered NetworkPolicy, every approach x every `--redis-mode` x one and two queues, evaluated
 * (network-policy-eval.ts) against the pods that must connect, with the labels their projects give them:
 * the KEDA operator from KEDA's release YAML and from its Helm chart, KEDA's metrics server,
 * prometheus-adapter from its chart, a Prometheus pod of the Prometheus Operator and the kube-apiserver
 * (test/k8s/upstream/, kept verbatim or with their source named). Each needed edge must be allowed, and
 * on every pod a policy isolates, nothing else: no other source, no other port.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { APPROACH_NAMES, type ApproachName, renderObjects } from '../../src/k8s/render.js';
import {
  handlersOptions,
  type K8sObject,
  manifestOptions,
  podSpecOf,
  TWO_QUEUE_HANDLERS,
} from './manifest-fixture.js';
import { allowed, isolatedForIngress, type Labels, type Pod, type Policy } from './network-policy-eval.js';

const UPSTREAM = resolve(import.meta.dirname, 'upstream');
const read = (file: string) => readFileSync(resolve(UPSTREAM, file), 'utf8');

/** The pod template labels of the Deployment in one of KEDA's release YAML files. */
function releasePodLabels(file: string): Labels {
  const docs = parseAllDocuments(read(file)).map((d) => d.toJS() as K8sObject);
  const deployment = docs.find((d) => d?.kind === 'Deployment');
  const labels = (deployment?.spec as { template?: { metadata?: { labels?: Labels } } } | undefined)?.template
    ?.metadata?.labels;
  if (!labels) throw new Error(`no pod template labels in ${file}`);
  return labels;
}

const kedaLabels = JSON.parse(read('keda-operator-pod-labels.json')) as {
  installs: Record<string, { labels: Labels }>;
};
const chartInstall = Object.entries(kedaLabels.installs).find(([k]) => k.startsWith('Helm chart'));
const peers = JSON.parse(read('network-peers.json')) as Record<
  'prometheus' | 'prometheusAdapter' | 'kubeApiserver',
  { namespace: string; labels: Labels; hostNetwork?: boolean }
>;

const KEDA_NS = 'keda';
const outside = (name: string, namespace: string, labels: Labels, hostNetwork = false): Pod => ({
  name,
  namespace,
  labels,
  ports: [],
  hostNetwork,
});
const KEDA_OPERATORS = [
  outside('keda-operator (release YAML v2.20.0)', KEDA_NS, releasePodLabels('keda-v2.20.0-manager.yaml')),
  outside('keda-operator (Helm chart 2.20.2)', KEDA_NS, chartInstall?.[1].labels ?? {}),
];
const PROMETHEUS = outside('prometheus', peers.prometheus.namespace, peers.prometheus.labels);
const APISERVER = outside(
  'kube-apiserver',
  peers.kubeApiserver.namespace,
  peers.kubeApiserver.labels,
  peers.kubeApiserver.hostNetwork,
);
const OTHERS = [
  outside(
    'keda-metrics-apiserver (release YAML v2.20.0)',
    KEDA_NS,
    releasePodLabels('keda-v2.20.0-metrics-server-deployment.yaml'),
  ),
  outside('prometheus-adapter', peers.prometheusAdapter.namespace, peers.prometheusAdapter.labels),
  PROMETHEUS,
  APISERVER,
  // The KEDA operator's labels, but not in KEDA's namespace; a foreign pod in kq's own namespace.
  outside('keda-operator in default', 'default', releasePodLabels('keda-v2.20.0-manager.yaml')),
  outside('a foreign pod in kq', 'kq', { app: 'something-else' }),
];

/** Approaches whose KEDA operator reads Redis itself (its redis triggers). */
const KEDA_READS_REDIS: ApproachName[] = ['keda-scaledobject', 'keda-scaledjob'];
/** Pods kq leaves open (no policy selects them): the API's Service, the aggregator, probes, Prometheus. */
const OPEN_COMPONENTS = ['api', 'worker', 'metrics-adapter'];

const MODES: Record<string, string[]> = {
  'in-cluster standalone': [],
  'in-cluster sentinel': ['--redis-mode', 'sentinel'],
  'external redis': ['--redis-mode', 'external', '--redis-url', 'rediss://r.example:6380/1'],
  'external sentinel': ['--redis-url', 'redis+sentinel://s1.example:26379,s2.example:26379/mymaster'],
  'external cluster': ['--redis-mode', 'cluster', '--redis-url', 'rediss+cluster://c1.example:6379'],
};

function podsOf(objects: K8sObject[]): Pod[] {
  return objects.flatMap((obj) => {
    const spec = podSpecOf(obj);
    if (!spec) return [];
    // biome-ignore lint/suspicious/noExplicitAny: the template sits at a different depth per kind
    const s = obj.spec as Record<string, any>;
    const template =
      obj.kind === 'CronJob'
        ? s.jobTemplate.spec.template
        : obj.kind === 'ScaledJob'
          ? s.jobTargetRef.template
          : s.template;
    return [
      {
        name: `${obj.kind}/${obj.metadata.name}`,
        namespace: obj.metadata.namespace ?? 'default',
        labels: template.metadata.labels as Labels,
        ports: spec.containers.flatMap((c) =>
          (c.ports ?? []).map((p) => ({ port: p.containerPort, name: p.name, protocol: p.protocol })),
        ),
      },
    ];
  });
}

const component = (p: Pod) => p.labels['app.kubernetes.io/component'];
const appName = (p: Pod) => p.labels['app.kubernetes.io/name'];
const isKq = (p: Pod) => p.labels['app.kubernetes.io/part-of'] === 'kq' && p.namespace === 'kq';
const REDIS_CLIENTS = ['api', 'worker', 'metrics-adapter', 'keda-scaler'];

/** The edges kq needs, and only those, onto the pods a policy isolates. */
function needed(approach: ApproachName, sentinelSet: boolean, src: Pod, dst: Pod, port: number): boolean {
  const keda = KEDA_OPERATORS.includes(src);
  const setPod = isKq(src) && component(src) === 'redis';
  const client = isKq(src) && REDIS_CLIENTS.includes(component(src) ?? '');
  if (isKq(dst) && component(dst) === 'redis') {
    const kedaOk = keda && KEDA_READS_REDIS.includes(approach);
    // The set's own pods: replication, the start scripts' questions, Sentinels' monitoring.
    return client || kedaOk || (sentinelSet && setPod);
  }
  if (isKq(dst) && component(dst) === 'keda-scaler') {
    // gRPC from the KEDA operator only; the health port (probes, /metrics) from anywhere.
    return port === 9090 ? keda : port === 8081;
  }
  throw new Error(`no rule for ${dst.name}: say which edges it needs`);
}

async function render(approach: ApproachName, flags: string[], queues: 1 | 2): Promise<K8sObject[]> {
  const o =
    queues === 2
      ? await handlersOptions(['--handlers', TWO_QUEUE_HANDLERS, ...flags])
      : manifestOptions(flags);
  return renderObjects(approach, o).map((m) => m.toJSON() as K8sObject);
}

describe('the upstream label sets', () => {
  const keys = (text: string) => new Set([...text.matchAll(/^\s*([\w./-]+):/gm)].map((m) => m[1]));
  it('the release YAML entry is the manager.yaml of KEDA v2.20.0', () => {
    const release = Object.entries(kedaLabels.installs).find(([k]) => k.startsWith('release YAML'));
    expect(release?.[1].labels).toEqual(releasePodLabels('keda-v2.20.0-manager.yaml'));
  });
  it('every label of the chart entries is one the chart templates write', () => {
    const keda = keys(
      read('keda-chart-2.20.2-manager-deployment.yaml.tpl') + read('keda-chart-2.20.2-helpers.tpl'),
    );
    for (const k of Object.keys(chartInstall?.[1].labels ?? {})) expect(keda, k).toContain(k);
    const adapter = keys(
      read('prometheus-adapter-chart-5.3.0-deployment.yaml.tpl') +
        read('prometheus-adapter-chart-5.3.0-helpers.tpl'),
    );
    for (const k of Object.keys(peers.prometheusAdapter.labels)) expect(adapter, k).toContain(k);
  });
});

describe('NetworkPolicies: every needed edge, nothing else', () => {
  for (const approach of APPROACH_NAMES) {
    for (const [mode, flags] of Object.entries(MODES)) {
      for (const queues of [1, 2] as const) {
        it(`${approach}, ${mode}, ${queues} queue${queues > 1 ? 's' : ''}`, async () => {
          const objects = await render(approach, flags, queues);
          const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as Policy[];
          const pods = podsOf(objects);
          const sentinelSet = pods.some((p) => appName(p) === 'kq-redis-sentinel');
          const inClusterRedis = pods.some((p) => appName(p) === 'kq-redis');
          const sources = [...pods, ...KEDA_OPERATORS, ...OTHERS];
          const byComponent = (c: string) => pods.filter((p) => component(p) === c);
          const can = (src: Pod, dst: Pod, port: number) => allowed(policies, src, dst, port);

          // Needed edges, named one by one.
          const redisPorts = (dst: Pod) => dst.ports.map((p) => p.port);
          for (const dst of byComponent('redis')) {
            for (const port of redisPorts(dst)) {
              for (const c of REDIS_CLIENTS)
                for (const src of byComponent(c))
                  expect(can(src, dst, port), `${src.name} -> ${dst.name}:${port}`).toBe(true);
              if (KEDA_READS_REDIS.includes(approach))
                for (const k of KEDA_OPERATORS)
                  expect(can(k, dst, port), `${k.name} -> ${dst.name}:${port}`).toBe(true);
              if (sentinelSet)
                for (const src of byComponent('redis'))
                  expect(can(src, dst, port), `${src.name} -> ${dst.name}`).toBe(true);
            }
          }
          for (const dst of byComponent('keda-scaler')) {
            for (const k of KEDA_OPERATORS) expect(can(k, dst, 9090), `${k.name} -> scaler gRPC`).toBe(true);
            expect(can(PROMETHEUS, dst, 8081), 'Prometheus -> scaler /metrics').toBe(true);
          }
          // Prometheus scrapes the API's /metrics (hpa-prometheus's scrape job); the aggregator calls the adapter.
          for (const dst of byComponent('api'))
            expect(can(PROMETHEUS, dst, 8080), 'Prometheus -> API').toBe(true);
          for (const dst of pods.filter((p) => appName(p) === 'kq-metrics-adapter'))
            expect(can(APISERVER, dst, 6443), 'kube-apiserver -> kq-metrics-adapter').toBe(true);
          if (approach === 'hpa-adapter') expect(byComponent('metrics-adapter').length).toBeGreaterThan(0);
          if (approach.startsWith('keda-external'))
            expect(byComponent('keda-scaler').length).toBeGreaterThan(0);
          expect(inClusterRedis).toBe(!mode.startsWith('external'));

          // Nothing else: on every isolated pod, each source and each port is allowed exactly when needed.
          for (const dst of pods) {
            if (!isolatedForIngress(policies, dst)) {
              expect(OPEN_COMPONENTS, `${dst.name} has no NetworkPolicy`).toContain(component(dst));
              continue;
            }
            for (const src of sources) {
              for (const { port } of [...dst.ports, { port: 1234 }]) {
                const want =
                  dst.ports.some((p) => p.port === port) && needed(approach, sentinelSet, src, dst, port);
                expect(can(src, dst, port), `${src.name} -> ${dst.name}:${port}`).toBe(want);
              }
            }
          }
        });
      }
    }
  }
});
