/**
 * `kubectl kustomize deploy/<approach>` builds, once the user has created deploy/secrets/*.env as its
 * README says (the build runs on a copy, so no secret file is ever written into the checkout).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { APPROACH_NAMES } from '../../src/k8s/render.js';

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!hasKubectl) console.warn('kubectl not found: skipping the `kubectl kustomize deploy/<approach>` tests');

const copy = mkdtempSync(join(tmpdir(), 'kq-deploy-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe.skipIf(!hasKubectl)('kubectl kustomize deploy/<approach>', () => {
  cpSync(resolve(import.meta.dirname, '../../deploy'), copy, { recursive: true });
  writeFileSync(join(copy, 'secrets/redis.env'), 'password=0123abcd\n');
  writeFileSync(join(copy, 'secrets/api.env'), 'tokens=tok1,tok2\n');

  for (const name of APPROACH_NAMES) {
    it(name, () => {
      const out = execFileSync('kubectl', ['kustomize', join(copy, name)], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      const built = parseAllDocuments(out).map((d) => d.toJSON());
      const rendered = parseAllDocuments(readFileSync(join(copy, name, 'kq.yaml'), 'utf8')).map((d) =>
        d.toJSON(),
      );
      expect(built).toHaveLength(rendered.length + 2);
      // The generated ones (hpa-prometheus also renders its scrape-job Secret in kq.yaml).
      const ownSecrets = new Set(rendered.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name));
      const secrets = built.filter((o) => o.kind === 'Secret' && !ownSecrets.has(o.metadata.name));
      expect(secrets.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort()).toEqual([
        'kq/kq-api',
        'kq/kq-redis',
      ]);
      // Names stay fixed (no hash suffix): KEDA's TriggerAuthentication refers to kq-redis by name.
      expect(
        Buffer.from(secrets.find((s) => s.metadata.name === 'kq-redis').data.password, 'base64').toString(),
      ).toBe('0123abcd');
      // Objects outside the kq namespace keep theirs (hpa-prometheus' Secret in monitoring).
      for (const obj of rendered)
        expect(
          built.find((b) => b.kind === obj.kind && b.metadata.name === obj.metadata.name)?.metadata.namespace,
        ).toBe(obj.metadata.namespace);
    });
  }

  it('without the secret files it fails, naming the missing file', () => {
    const bare = mkdtempSync(join(tmpdir(), 'kq-deploy-bare-'));
    try {
      cpSync(resolve(import.meta.dirname, '../../deploy'), bare, { recursive: true });
      rmSync(join(bare, 'secrets/redis.env'), { force: true });
      const r = spawnSync('kubectl', ['kustomize', join(bare, 'deployment')], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/redis\.env/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
