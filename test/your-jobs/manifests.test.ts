/**
 * `kq manifests <approach> --image <ref> --handlers <module>` wires an application's image into every
 * approach: the image on every kq container, HANDLERS on workers and API (both validate the same types),
 * and the queue the module's job types run on for workers and autoscalers. deploy/your-jobs is what the
 * generator renders for the scaffold's layout.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { exampleFiles } from '../../src/k8s/kustomize.js';
import { APPROACH_NAMES } from '../../src/k8s/render.js';
import { CLI } from '../helpers/kq-process.js';
import { type K8sObject, kqContainers } from '../k8s/manifest-fixture.js';

const root = resolve(import.meta.dirname, '../..');
const app = mkdtempSync(join(tmpdir(), 'kq-manifests-app-'));
mkdirSync(join(app, 'node_modules'));
mkdirSync(join(app, 'dist'));
symlinkSync(root, join(app, 'node_modules/kq'));
writeFileSync(join(app, 'package.json'), '{"name":"my-jobs","private":true,"type":"module"}\n');
// A timeout below the Jobs' deadline: the approaches with one refuse a type without (test/k8s/job-deadline.test.ts).
const job = (name: string, queue: string) =>
  `export const ${name} = defineJob({ name: '${name}', queue: '${queue}', schema: z.object({}), options: { timeoutMs: 60000 }, handler: () => null });\n`;
writeFileSync(
  join(app, 'dist/jobs.js'),
  `import { defineJob, z } from 'kq';\n${job('invoice', 'billing')}${job('refund', 'billing')}`,
);
writeFileSync(
  join(app, 'dist/two-queues.js'),
  `import { defineJob, z } from 'kq';\n${job('invoice', 'billing')}${job('mail', 'emails')}`,
);
writeFileSync(
  join(app, 'dist/bad-queue.js'),
  `import { defineJob, z } from 'kq';\n${job('invoice', 'billing')}${job('mail', 'Emails.EU')}`,
);
afterAll(() => rmSync(app, { recursive: true, force: true }));

function manifests(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'manifests', ...args], {
    cwd: app,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const IMAGE = 'ghcr.io/acme/my-jobs:1.2.0';
/**
 * Every approach rendered by one `kq manifests all --out-dir` run per handlers module (a CLI start per
 * approach cost more than the checks); the first test proves `all` writes what `<approach>` prints.
 */
const rendered = new Map<string, { code: number | null; err: string; dir: string }>();
function renderAll(handlers: string) {
  let r = rendered.get(handlers);
  if (!r) {
    const dir = join(app, `deploy-${handlers.replace(/\W/g, '-')}`);
    const run = manifests('all', '--image', IMAGE, '--handlers', handlers, '--out-dir', dir);
    r = { code: run.code, err: run.err, dir };
    rendered.set(handlers, r);
  }
  expect(r.code, r.err).toBe(0);
  return {
    dir: r.dir,
    yaml: (approach: string) => readFileSync(join(r.dir, approach, 'kq.yaml'), 'utf8'),
  };
}

const envOf = (c: { env?: { name: string; value?: string }[] }) =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

describe('kq manifests --image --handlers', () => {
  it('kq manifests <approach> prints what `all --out-dir` writes for it', () => {
    const r = manifests('keda-scaledjob', '--image', IMAGE, '--handlers', 'dist/jobs.js');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(renderAll('dist/jobs.js').yaml('keda-scaledjob'));
  });

  for (const approach of APPROACH_NAMES) {
    it(`${approach}: the image, HANDLERS and the handlers' queue reach workers and API`, () => {
      const r = { out: renderAll('dist/jobs.js').yaml(approach) };
      const objects = parseAllDocuments(r.out).map((d) => d.toJSON() as K8sObject);
      const containers = kqContainers(objects);
      for (const { container } of containers) expect(container.image).toBe(IMAGE);
      const byName = (n: string) => containers.filter((c) => c.container.name === n);
      expect(byName('worker').length).toBeGreaterThan(0);
      for (const { container } of [...byName('worker'), ...byName('api')])
        expect(envOf(container).HANDLERS, container.name).toBe('dist/jobs.js');
      for (const { container } of byName('worker')) expect(envOf(container).QUEUE).toBe('billing');
      expect(r.out).not.toMatch(/\bjobs:wait\b|queue: jobs\b/);
      if (approach === 'keda-scaledobject' || approach === 'keda-scaledjob')
        expect(r.out).toContain('listName: bull:billing:wait');
      // kq keda-scaler's trigger names the queue itself.
      if (approach.startsWith('keda-external')) expect(r.out).toMatch(/queue: billing\n/);
      if (approach.startsWith('hpa-')) expect(r.out).toMatch(/queue: billing/);
    });
  }

  for (const approach of APPROACH_NAMES) {
    it(`${approach}: job types on two queues get a worker workload per queue, each autoscaled on its own`, () => {
      const r = { out: renderAll('dist/two-queues.js').yaml(approach) };
      const objects = parseAllDocuments(r.out).map((d) => d.toJSON() as K8sObject);
      const workers = kqContainers(objects).filter((c) => ['worker', 'sweep'].includes(c.container.name));
      // keda-scaledjob adds a sweeper CronJob (kq sweep) per queue (orphans and due retries KEDA cannot see).
      const suffixes = approach === 'keda-scaledjob' ? ['', '-sweeper'] : [''];
      const expected = ['billing', 'emails'].flatMap((q) => suffixes.map((s) => [`kq-worker-${q}${s}`, q]));
      expect(workers.map((w) => [w.obj.metadata.name, envOf(w.container).QUEUE]).sort()).toEqual(
        expected.sort(),
      );
      for (const { container } of kqContainers(objects).filter((c) => c.container.name !== 'redis'))
        expect(container.image).toBe(IMAGE);
      const scalers = objects.filter((o) =>
        /^(ScaledObject|ScaledJob|HorizontalPodAutoscaler)$/.test(o.kind),
      );
      expect(scalers.map((o) => o.metadata.name).sort()).toEqual(
        approach === 'deployment' || approach === 'cronjob' ? [] : ['kq-worker-billing', 'kq-worker-emails'],
      );
      for (const s of scalers) {
        const queue = s.metadata.name.replace('kq-worker-', '');
        const other = queue === 'billing' ? 'emails' : 'billing';
        const text = JSON.stringify(s.spec);
        expect(text, `${s.kind} ${s.metadata.name}`).toMatch(
          new RegExp(`bull:${queue}:wait|"queue":"${queue}"`),
        );
        expect(text, `${s.kind} ${s.metadata.name}`).not.toContain(other);
      }
    });
  }

  it('kq manifests all --out-dir writes every approach with a workload per queue', () => {
    const all = renderAll('dist/two-queues.js');
    for (const approach of APPROACH_NAMES) {
      const text = all.yaml(approach);
      expect(text, approach).toContain('name: kq-worker-billing\n');
      expect(text, approach).toContain('name: kq-worker-emails\n');
      expect(text, approach).not.toContain('name: kq-worker\n');
    }
  });

  it('without --handlers, nothing names HANDLERS (the image’s demo jobs)', () => {
    const r = manifests('deployment');
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain('HANDLERS');
  });

  it('refuses a conflicting --queue, a queue that cannot name workers, and a module that cannot load', () => {
    const conflict = manifests('deployment', '--handlers', 'dist/jobs.js', '--queue', 'emails');
    expect(conflict.code).toBe(2);
    expect(conflict.err).toContain(
      '--queue emails conflicts with --handlers "dist/jobs.js", whose job types run on queue "billing" (invoice, refund). Leave --queue out',
    );
    const badName = manifests('keda-scaledobject', '--handlers', 'dist/bad-queue.js');
    expect(badName.code).toBe(2);
    expect(badName.out).toBe('');
    expect(badName.err).toContain(
      'queue "Emails.EU" (job types: mail) cannot name its workers: "kq-worker-Emails.EU" must be a DNS-1123 label',
    );
    // docs/your-jobs.md shows this error as the CLI prints it.
    const doc = readFileSync(join(root, 'docs/your-jobs.md'), 'utf8');
    expect(doc).toContain(badName.err.trim().replaceAll('dist/bad-queue.js', 'dist/jobs.js'));
    const unbuilt = manifests('deployment', '--handlers', 'dist/missing.js');
    expect(unbuilt.code).toBe(2);
    expect(unbuilt.err).toMatch(/"dist\/missing.js": there is no file at .*npm run build/);
    const ts = manifests('deployment', '--handlers', 'src/jobs.ts');
    expect(ts.code).toBe(2);
    expect(ts.err).toContain(
      'Invalid --handlers: "src/jobs.ts" must be a JavaScript module path such as dist/jobs.js',
    );
  });
});

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

it.skipIf(!hasKubectl)('kubectl kustomize deploy/your-jobs builds, with the secrets beside it', () => {
  const copy = mkdtempSync(join(tmpdir(), 'kq-your-jobs-'));
  try {
    cpSync(join(root, 'deploy/your-jobs'), join(copy, 'your-jobs'), { recursive: true });
    cpSync(join(root, 'deploy/secrets'), join(copy, 'secrets'), { recursive: true });
    writeFileSync(join(copy, 'secrets/redis.env'), 'password=0123abcd\n');
    writeFileSync(join(copy, 'secrets/api.env'), 'tokens=tok1\n');
    const out = execFileSync('kubectl', ['kustomize', join(copy, 'your-jobs')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const kinds = parseAllDocuments(out).map((d) => (d.toJSON() as K8sObject).kind);
    expect(kinds.filter((k) => k === 'Secret')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(2);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

it('deploy/your-jobs matches the generator (run `npm run manifests` after changing it)', () => {
  for (const [file, text] of Object.entries(exampleFiles())) {
    const path = join(root, 'deploy', file);
    expect(existsSync(path) ? readFileSync(path, 'utf8') : '(missing)', `deploy/${file}`).toBe(text);
  }
  expect(existsSync(join(root, 'deploy/your-jobs/README.md'))).toBe(true);
});
