/**
 * The committed deploy/ is exactly what the generator renders with default flags, so users applying
 * `kubectl apply -k deploy/<approach>` get what `kq manifests <approach>` prints.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployFiles } from '../../src/k8s/kustomize.js';
import { APPROACH_NAMES } from '../../src/k8s/render.js';
import { manifestOptions } from './manifest-fixture.js';

const deploy = resolve(import.meta.dirname, '../../deploy');
const REGENERATE = 'deploy/ is out of date with the generator: run `npm run manifests` and commit deploy/';

describe('deploy/ matches the generator', () => {
  for (const name of APPROACH_NAMES) {
    it(name, () => {
      for (const [file, text] of Object.entries(deployFiles(name, manifestOptions()))) {
        const path = resolve(deploy, file);
        const committed = existsSync(path) ? readFileSync(path, 'utf8') : '(missing)';
        expect(committed, `${REGENERATE} (deploy/${file} differs)`).toBe(text);
      }
      expect(existsSync(resolve(deploy, name, 'README.md')), `deploy/${name}/README.md is missing`).toBe(
        true,
      );
    });
  }
});
