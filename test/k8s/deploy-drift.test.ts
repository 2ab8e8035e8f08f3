/**
 * The committed deploy/ is exactly what the generator renders with default flags, so users applying
 * `kubectl apply -k deploy/<approach>` get what `kq manifests <approach>` prints.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPROACH_NAMES, kustomization, renderYaml } from '../../src/k8s/render.js';
import { manifestOptions } from './manifest-fixture.js';

const deploy = resolve(import.meta.dirname, '../../deploy');
const REGENERATE = 'deploy/ is out of date with the generator: run `npm run manifests` and commit deploy/';

describe('deploy/ matches the generator', () => {
  for (const name of APPROACH_NAMES) {
    it(name, () => {
      const rendered = {
        'kq.yaml': renderYaml(name, manifestOptions()),
        'kustomization.yaml': kustomization(),
      };
      for (const [file, text] of Object.entries(rendered)) {
        const path = resolve(deploy, name, file);
        const committed = existsSync(path) ? readFileSync(path, 'utf8') : '(missing)';
        expect(committed, `${REGENERATE} (deploy/${name}/${file} differs)`).toBe(text);
      }
      expect(existsSync(resolve(deploy, name, 'README.md')), `deploy/${name}/README.md is missing`).toBe(
        true,
      );
    });
  }
});
