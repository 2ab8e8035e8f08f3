/** `kq manifests` as users run it: the built CLI, its output on stdout and its usage errors. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { APPROACH_NAMES } from '../../src/k8s/render.js';
import { CLI } from '../helpers/kq-process.js';

function kq(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'manifests', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kq manifests', () => {
  it('prints multi-document YAML for an approach, with the flags applied', () => {
    const r = kq(
      'keda-scaledobject',
      '--queue',
      'emails',
      '--namespace',
      'prod',
      '--image',
      'ghcr.io/acme/kq:2.0.0',
    );
    expect(r.code, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJSON());
    expect(docs.map((d) => d.kind)).toContain('ScaledObject');
    expect(docs.every((d) => d.kind === 'Namespace' || d.metadata.namespace === 'prod')).toBe(true);
    expect(r.stdout).toContain('listName: bull:emails:wait');
    expect(r.stdout).toContain('image: ghcr.io/acme/kq:2.0.0');
    expect(r.stdout).not.toMatch(/image: kq:/);
  });

  it('the header tells a user to render again with kq manifests, not a script of kq’s repository', () => {
    const out = mkdtempSync(join(tmpdir(), 'kq-manifests-'));
    try {
      const r = kq('hpa-prometheus', '--queue', 'emails', '--out-dir', out);
      expect(r.code, r.stderr).toBe(0);
      const stdout = kq('deployment', '--queue', 'emails').stdout;
      for (const text of [
        stdout,
        readFileSync(join(out, 'hpa-prometheus/kq.yaml'), 'utf8'),
        readFileSync(join(out, 'hpa-prometheus/prometheus-adapter-values.yaml'), 'utf8'),
      ]) {
        const header = text.split('\n')[0] ?? '';
        expect(header).toMatch(/render again with `kq manifests (deployment|hpa-prometheus)/);
        expect(text).not.toContain('npm run manifests');
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('an unknown approach exits 2 and lists the approaches', () => {
    const r = kq('keda');
    expect(r.code).toBe(2);
    for (const name of APPROACH_NAMES) expect(r.stderr).toContain(name);
    expect(r.stdout).toBe('');
  });

  it('a missing approach exits 2', () => {
    expect(kq().code).toBe(2);
  });

  it('refuses a Redis URL with a password in it, naming the option and the fix', () => {
    const r = kq('deployment', '--redis-url', 'redis://:hunter2@redis.example:6379/0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--redis-url/);
    expect(r.stderr).toMatch(/Secret kq-redis/);
    expect(r.stderr).not.toContain('hunter2@');
  });

  it('refuses bad values and combinations with exit 2', () => {
    expect(kq('deployment', '--replicas', '0').stderr).toMatch(/--replicas.*whole number from 1/);
    expect(kq('deployment', '--worker-memory-limit', 'lots').code).toBe(2);
    expect(kq('deployment', '--namespace', 'Bad_NS').code).toBe(2);
    expect(kq('keda-scaledobject', '--min-replicas', '5', '--max-replicas', '2').stderr).toMatch(
      /--min-replicas/,
    );
    expect(kq('deployment', '--no-redis-password').stderr).toMatch(/--redis-url/);
    expect(kq('all').stderr).toMatch(/--out-dir/);
  });

  it('--redis-mode cluster without a URL exits 2, naming the option, the value and the URL to pass', () => {
    const r = kq('keda-scaledobject', '--redis-mode', 'cluster');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--redis-mode "cluster"');
    expect(r.stderr).toContain('--redis-url redis+cluster://');
    expect(r.stdout).toBe('');
  });

  it('--help lists the options and the approaches', () => {
    const r = kq('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--redis-url');
    expect(r.stdout).toContain('--redis-mode');
    for (const name of APPROACH_NAMES) expect(r.stdout).toContain(name);
  });
});
