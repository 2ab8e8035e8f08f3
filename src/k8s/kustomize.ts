/**
 * The `kubectl apply -k` layout: `<dir>/<approach>/{kq.yaml,kustomization.yaml}` and one shared
 * `<dir>/secrets/` whose secretGenerator builds Secrets `kq-redis` and `kq-api` from `.env` files the user
 * creates there (git-ignored). Values never enter the rendered files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseOptions } from '../config.js';
import { API_SECRET, REDIS_SECRET, SENTINEL_SECRET_KEY } from './common.js';
import { type ManifestOptions, manifestOptionSpecs } from './options.js';
import { type ApproachName, approachFiles, renderYaml } from './render.js';

export function kustomization(): string {
  return stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: ['../secrets', 'kq.yaml'],
  });
}

export function secretsKustomization(namespace: string): string {
  const header = [
    "# Generates the two Secrets kq's manifests reference, from files you create here (never committed):",
    `#   redis.env  ->  Secret ${REDIS_SECRET.name}, key ${REDIS_SECRET.key}  (REDIS_URL embeds it: use URL-safe characters, e.g. hex)`,
    `#   api.env    ->  Secret ${API_SECRET.name},   key ${API_SECRET.key}    (comma-separated API bearer tokens)`,
    `#   (optional) a line ${SENTINEL_SECRET_KEY}=... in redis.env: the own password of external Sentinels (--redis-sentinel-password)`,
    '# Create them with:',
    `#   printf '${REDIS_SECRET.key}=%s\\n' "$(openssl rand -hex 32)" > redis.env`,
    `#   printf '${API_SECRET.key}=%s\\n'   "$(openssl rand -hex 32)" > api.env`,
    '# Names carry no hash suffix: KEDA’s TriggerAuthentication refers to kq-redis by name, and kustomize',
    '# cannot rewrite references inside custom resources.',
    '',
  ].join('\n');
  return (
    header +
    stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace,
      generatorOptions: { disableNameSuffixHash: true, labels: { 'app.kubernetes.io/part-of': 'kq' } },
      secretGenerator: [
        { name: REDIS_SECRET.name, envs: ['redis.env'] },
        { name: API_SECRET.name, envs: ['api.env'] },
      ],
    })
  );
}

export const SECRETS_GITIGNORE =
  '# Real secrets: created by you (see kustomization.yaml), never committed.\n*.env\n';

/** The generated files, relative to the output folder, for one approach plus the shared secrets folder. */
export function deployFiles(name: ApproachName, o: ManifestOptions): Record<string, string> {
  return {
    [`${name}/kq.yaml`]: renderYaml(name, o),
    [`${name}/kustomization.yaml`]: kustomization(),
    ...Object.fromEntries(
      Object.entries(approachFiles(name)).map(([file, text]) => [`${name}/${file}`, text]),
    ),
    'secrets/kustomization.yaml': secretsKustomization(o.namespace),
    'secrets/.gitignore': SECRETS_GITIGNORE,
  };
}

/** Writes `deployFiles` under `dir`; README.md files are hand-written and left alone. */
export function writeApproachDir(dir: string, name: ApproachName, o: ManifestOptions): string[] {
  const written: string[] = [];
  for (const [file, text] of Object.entries(deployFiles(name, o))) {
    const path = join(dir, file);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    written.push(path);
  }
  return written;
}

/**
 * `deploy/your-jobs`: the `deployment` approach for an application's own image, as
 * `kq manifests deployment --image registry.example.com/my-jobs:0.1.0 --handlers dist/jobs.js` renders it
 * in a project made by `kq init` (its job types run on queue `jobs`). The image is a placeholder.
 */
export const YOUR_JOBS_FLAGS = [
  '--image',
  'registry.example.com/my-jobs:0.1.0',
  '--handlers',
  'dist/jobs.js',
];

/**
 * One rendering per non-default `--redis-mode` (docs/ha.md): KEDA scaling on the backlog with the in-cluster
 * Sentinel set, and with an external Redis Cluster (placeholder hosts).
 */
export const REDIS_MODE_EXAMPLES: Record<string, { approach: ApproachName; flags: string[] }> = {
  'keda-scaledobject-sentinel': { approach: 'keda-scaledobject', flags: ['--redis-mode', 'sentinel'] },
  'keda-scaledobject-cluster': {
    approach: 'keda-scaledobject',
    flags: [
      '--redis-mode',
      'cluster',
      '--redis-url',
      'rediss+cluster://redis-0.redis.example.com:6379,redis-1.redis.example.com:6379,redis-2.redis.example.com:6379',
    ],
  },
};

export function exampleFiles(): Record<string, string> {
  const o = parseOptions(manifestOptionSpecs, YOUR_JOBS_FLAGS, {}).values;
  const files: Record<string, string> = {
    'your-jobs/kq.yaml': renderYaml('deployment', o),
    'your-jobs/kustomization.yaml': kustomization(),
  };
  for (const [dir, { approach, flags }] of Object.entries(REDIS_MODE_EXAMPLES)) {
    const values = parseOptions(manifestOptionSpecs, flags, {}).values;
    files[`${dir}/kq.yaml`] = renderYaml(approach, values, flags);
    files[`${dir}/kustomization.yaml`] = kustomization();
  }
  return files;
}

/** Writes `exampleFiles` under `dir`; README.md files are hand-written and left alone. */
export function writeExamples(dir: string): string[] {
  return Object.entries(exampleFiles()).map(([file, text]) => {
    const path = join(dir, file);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    return path;
  });
}
