/**
 * `--redis-mode` for every approach: each approach renders in each mode, every object validates (the
 * kubernetes-models schemas, and KEDA's own CRDs for KEDA kinds), kq's containers get a REDIS_URL of the
 * mode's topology (parsed back with kq's own URL parser), KEDA triggers switch to `redis-sentinel` /
 * `redis-cluster` with hash-tagged list names on a Cluster, and the Redis NetworkPolicies admit the KEDA
 * operator exactly in the KEDA approaches. Inconsistent combinations are refused, naming the option.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import { exampleFiles, REDIS_MODE_EXAMPLES } from '../../src/k8s/kustomize.js';
import { APPROACH_NAMES, renderObjects } from '../../src/k8s/render.js';
import { parseRedisUrl, type RedisMode } from '../../src/queue/redis-url.js';
import { isKedaKind, validateAgainstKedaCrd } from './keda-crd-schema.js';
import {
  handlersOptions,
  type K8sObject,
  kqContainers,
  manifestOptions,
  TWO_QUEUE_HANDLERS,
  TWO_QUEUES,
} from './manifest-fixture.js';

interface Mode {
  flags: string[];
  topology: RedisMode;
  inCluster: boolean;
  trigger: 'redis' | 'redis-sentinel' | 'redis-cluster';
  sentinelPassword: boolean;
}

const MODES: Record<string, Mode> = {
  standalone: {
    flags: [],
    topology: 'standalone',
    inCluster: true,
    trigger: 'redis',
    sentinelPassword: false,
  },
  'in-cluster sentinel': {
    flags: ['--redis-mode', 'sentinel'],
    topology: 'sentinel',
    inCluster: true,
    trigger: 'redis-sentinel',
    sentinelPassword: true,
  },
  'external redis': {
    flags: ['--redis-mode', 'external', '--redis-url', 'rediss://r.example:6380/1'],
    topology: 'standalone',
    inCluster: false,
    trigger: 'redis',
    sentinelPassword: false,
  },
  'external sentinel': {
    flags: [
      '--redis-url',
      'redis+sentinel://s1.example:26379,s2.example:26379,s3.example:26379/mymaster',
      '--redis-sentinel-password',
    ],
    topology: 'sentinel',
    inCluster: false,
    trigger: 'redis-sentinel',
    sentinelPassword: true,
  },
  'external cluster': {
    flags: ['--redis-mode', 'cluster', '--redis-url', 'rediss+cluster://c1.example:6379,c2.example:6379'],
    topology: 'cluster',
    inCluster: false,
    trigger: 'redis-cluster',
    sentinelPassword: false,
  },
};

const KEDA_APPROACHES = ['keda-scaledobject', 'keda-scaledjob'];

type Trigger = { type: string; name: string; metadata: Record<string, string> };

describe('every approach renders in every Redis mode', () => {
  for (const [modeName, mode] of Object.entries(MODES)) {
    for (const approach of APPROACH_NAMES) {
      it(`${approach}, ${modeName}`, () => {
        const models = renderObjects(approach, manifestOptions([...mode.flags, '--queue', 'mail']));
        for (const m of models) m.validate();
        const objects = models.map((m) => m.toJSON() as K8sObject);
        for (const obj of objects) if (isKedaKind(obj.apiVersion)) validateAgainstKedaCrd(obj);

        for (const { obj, container } of kqContainers(objects)) {
          const env = new Map((container.env ?? []).map((e) => [e.name, e]));
          const url = env.get('REDIS_URL')?.value;
          expect(url, `${obj.metadata.name}: REDIS_URL`).toBeDefined();
          const target = parseRedisUrl((url as string).replace('$(REDIS_PASSWORD)', 'pw'));
          expect(target.mode, `${obj.metadata.name}: ${url}`).toBe(mode.topology);
          expect(env.get('REDIS_PASSWORD')?.valueFrom?.secretKeyRef?.name).toBe('kq-redis');
          expect(env.has('REDIS_SENTINEL_PASSWORD'), obj.metadata.name).toBe(mode.sentinelPassword);
        }

        const statefulSets = objects.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name);
        expect(statefulSets).toEqual(
          !mode.inCluster
            ? []
            : mode.topology === 'sentinel'
              ? ['kq-redis', 'kq-redis-sentinel']
              : ['kq-redis'],
        );

        const triggers = objects
          .filter((o) => o.kind === 'ScaledObject' || o.kind === 'ScaledJob')
          .flatMap((o) => (o.spec as { triggers: Trigger[] }).triggers)
          .filter((t) => t.type.startsWith('redis'));
        expect(triggers.length > 0).toBe(KEDA_APPROACHES.includes(approach));
        for (const t of triggers) {
          expect(t.type).toBe(mode.trigger);
          const tag = mode.topology === 'cluster' ? '{mail}' : 'mail';
          expect(t.metadata.listName).toBe(`bull:${tag}:${t.name}`);
          if (mode.topology === 'cluster') expect(t.metadata.databaseIndex).toBeUndefined();
          if (mode.topology === 'sentinel') expect(t.metadata.sentinelMaster).toMatch(/^(kq|mymaster)$/);
          expect(t.metadata.address ?? t.metadata.addresses).toMatch(/:\d+/);
        }
        const auth = objects.find((o) => o.kind === 'TriggerAuthentication');
        if (triggers.length) {
          const params = (
            auth?.spec as { secretTargetRef: { parameter: string }[] } | undefined
          )?.secretTargetRef.map((r) => r.parameter);
          expect(params).toEqual(mode.sentinelPassword ? ['password', 'sentinelPassword'] : ['password']);
        }

        const policies = objects.filter(
          (o) => o.kind === 'NetworkPolicy' && o.metadata.name.startsWith('kq-redis'),
        );
        expect(policies.length).toBe(!mode.inCluster ? 0 : mode.topology === 'sentinel' ? 2 : 1);
        for (const p of policies) {
          const peers = (p.spec as { ingress: { from: Record<string, unknown>[] }[] }).ingress.flatMap(
            (r) => r.from,
          );
          const keda = peers.some((peer) => JSON.stringify(peer).includes('keda-operator'));
          expect(keda, `${p.metadata.name} admits KEDA`).toBe(KEDA_APPROACHES.includes(approach));
        }
      });
    }
  }
});

describe('the in-cluster Sentinel set', () => {
  const objects = renderObjects('deployment', manifestOptions(['--redis-mode', 'sentinel'])).map(
    (m) => m.toJSON() as K8sObject,
  );
  const get = (kind: string, name: string) => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`no ${kind} ${name}`);
    return o.spec as Record<string, unknown>;
  };

  it('runs 3 data pods and 3 Sentinels, spread over nodes, one disruption at a time', () => {
    type Sts = {
      replicas: number;
      serviceName: string;
      podManagementPolicy: string;
      volumeClaimTemplates: { metadata: { name: string } }[];
      template: { spec: IPodSpec };
    };
    for (const name of ['kq-redis', 'kq-redis-sentinel']) {
      const sts = get('StatefulSet', name) as unknown as Sts;
      expect(sts.replicas).toBe(3);
      expect(sts.serviceName).toBe(name);
      // No ordering: with OrderedReady a lost node holding pod 0 keeps pods 1-2 from being recreated.
      expect(sts.podManagementPolicy).toBe('Parallel');
      expect(get('PodDisruptionBudget', name)).toMatchObject({ maxUnavailable: 1 });
      expect(get('Service', name)).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    }
    const data = (get('StatefulSet', 'kq-redis') as unknown as Sts).template.spec;
    expect(data.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    // Sentinels strictly spread: two on one node lose the quorum with it.
    const sentinels = get('StatefulSet', 'kq-redis-sentinel') as unknown as Sts;
    expect(sentinels.template.spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: {
          matchLabels: { 'app.kubernetes.io/name': 'kq-redis-sentinel', 'app.kubernetes.io/part-of': 'kq' },
        },
      },
    ]);
    // Their state (sentinel.conf) on a volume, mounted where the script keeps it.
    expect(sentinels.volumeClaimTemplates.map((c) => c.metadata.name)).toEqual(['conf']);
    const container = sentinels.template.spec.containers[0];
    const confDir = container?.env?.find((e) => e.name === 'CONF_DIR')?.value;
    expect(container?.volumeMounts?.find((m) => m.name === 'conf')?.mountPath).toBe(confDir);
    expect(sentinels.template.spec.volumes?.some((v) => v.name === 'conf')).toBe(false);
  });

  it('a data pod runs the failover preStop within its grace period', () => {
    const pod = (get('StatefulSet', 'kq-redis') as unknown as { template: { spec: IPodSpec } }).template.spec;
    const container = pod.containers[0];
    expect(container?.lifecycle?.preStop?.exec?.command).toEqual(['sh', '/scripts/redis-prestop.sh']);
    const bound = Number(container?.env?.find((e) => e.name === 'PRESTOP_TIMEOUT_S')?.value);
    expect(bound).toBeGreaterThan(0);
    // The preStop's bound, then redis-server's own shutdown (AOF flush).
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(bound + 20);
    const scripts = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kq-redis-scripts');
    expect(Object.keys((scripts as { data?: object } | undefined)?.data ?? {})).toContain('redis-prestop.sh');
  });

  it('lets data pods and Sentinels reach each other on both ports', () => {
    for (const name of ['kq-redis', 'kq-redis-sentinel']) {
      const from = JSON.stringify(get('NetworkPolicy', name));
      expect(from).toContain('"app.kubernetes.io/name":"kq-redis"');
      expect(from).toContain('"app.kubernetes.io/name":"kq-redis-sentinel"');
    }
  });
});

describe('--redis-mode refuses inconsistent combinations', () => {
  const refuse = (flags: string[], option: string, ...texts: RegExp[]) => {
    let err: unknown;
    try {
      renderObjects('deployment', manifestOptions(flags));
    } catch (e) {
      err = e;
    }
    expect(err, flags.join(' ')).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain(`--${option}`);
    for (const t of texts) expect(message).toMatch(t);
  };

  it('cluster without a URL names the option, the value and the fix', () => {
    refuse(['--redis-mode', 'cluster'], 'redis-mode', /"cluster"/, /--redis-url redis\+cluster:\/\//);
  });
  it('in-cluster modes with a URL', () => {
    refuse(
      ['--redis-mode', 'sentinel', '--redis-url', 'redis+sentinel://s:26379/m'],
      'redis-mode',
      /"sentinel"/,
      /conflicts with --redis-url/,
    );
    refuse(
      ['--redis-mode', 'standalone', '--redis-url', 'redis+sentinel://s:26379/m'],
      'redis-mode',
      /"standalone"/,
    );
  });
  it('external without a URL, cluster with another topology', () => {
    refuse(['--redis-mode', 'external'], 'redis-mode', /needs --redis-url/);
    refuse(
      ['--redis-mode', 'cluster', '--redis-url', 'redis://r:6379/0'],
      'redis-mode',
      /redis\+cluster:\/\//,
    );
  });
  it('a Sentinel password without external Sentinels', () => {
    refuse(['--redis-sentinel-password'], 'redis-sentinel-password', /--redis-url/);
    refuse(['--redis-sentinel-password', '--redis-url', 'redis://r:6379/0'], 'redis-sentinel-password');
  });
  it('malformed URLs and passwords in them', () => {
    refuse(['--redis-url', 'redis+sentinel://s1:26379,s2:26379'], 'redis-url', /master-name/);
    refuse(['--redis-url', 'redis+cluster://c1:6379/3'], 'redis-url', /no path/);
    refuse(['--redis-url', 'redis+sentinel://:pw@s1:26379/m'], 'redis-url', /Secret kq-redis/);
    refuse(['--redis-url', 'http://r:6379'], 'redis-url', /scheme/);
  });
  it('an unknown mode', () => {
    expect(() => manifestOptions(['--redis-mode', 'replicated'])).toThrow(/redis-mode.*one of/s);
  });
});

describe('the committed --redis-mode examples (deploy/keda-scaledobject-{sentinel,cluster})', () => {
  const root = resolve(import.meta.dirname, '../../deploy');
  for (const dir of Object.keys(REDIS_MODE_EXAMPLES)) {
    it(`${dir} matches the generator, validates, and has a README`, () => {
      for (const [file, text] of Object.entries(exampleFiles()).filter(([f]) => f.startsWith(`${dir}/`))) {
        const path = join(root, file);
        const committed = existsSync(path) ? readFileSync(path, 'utf8') : '(missing)';
        expect(committed, `deploy/${file} is out of date: run npm run manifests`).toBe(text);
      }
      const docs = parseAllDocuments(readFileSync(join(root, dir, 'kq.yaml'), 'utf8')).map(
        (d) => d.toJSON() as K8sObject,
      );
      for (const obj of docs) if (isKedaKind(obj.apiVersion)) validateAgainstKedaCrd(obj);
      expect(docs.some((o) => o.kind === 'ScaledObject')).toBe(true);
      expect(existsSync(join(root, dir, 'README.md'))).toBe(true);
    });
  }
});

it('one worker workload per queue on a Cluster: each ScaledObject watches its own queue’s hash-tagged keys', async () => {
  const o = await handlersOptions([
    '--handlers',
    TWO_QUEUE_HANDLERS,
    '--redis-url',
    'redis+cluster://c1.example:6379,c2.example:6379',
  ]);
  const objects = renderObjects('keda-scaledobject', o).map((m) => m.toJSON() as K8sObject);
  const watched = objects
    .filter((x) => x.kind === 'ScaledObject')
    .flatMap((x) => (x.spec as { triggers: Trigger[] }).triggers)
    .filter((t) => t.name === 'wait')
    .map((t) => `${t.type} ${t.metadata.listName}`);
  expect(watched.sort()).toEqual(TWO_QUEUES.map((q) => `redis-cluster bull:{${q}}:wait`));
});
