/**
 * What can be checked of the image without a Docker engine: the Dockerfile's runtime stage runs the
 * package's bin with node as PID 1, as the numeric user the manifests' runAsUser names, with production
 * dependencies only; the build context leaves out local artefacts. (image-build.test.ts plays the whole
 * Dockerfile and starts a worker from it; production-install.test.ts checks the npm-pack install.)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { KQ_UID } from '../../src/k8s/common.js';

const root = resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(resolve(root, 'Dockerfile'), 'utf8');
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));

it('the runtime stage: slim Node LTS, production deps, numeric non-root user, node runs the bin directly', () => {
  expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
  // Node 22 and 24 are the LTS lines in security support (20 ended 2026-04-30); every stage the same.
  expect(runtime).toMatch(/^\nFROM node:(22|24)-[\w.-]*slim\n/);
  expect(new Set(dockerfile.match(/^FROM \S+/gm)).size).toBe(1);
  expect(dockerfile).toMatch(/npm ci --omit=dev/);
  expect(runtime).toMatch(/COPY --from=\S+ \/app\/node_modules \.\/node_modules/);
  const user = /^USER (\d+):(\d+)$/m.exec(runtime);
  expect(user?.[1]).toBe(String(KQ_UID));
  expect(Number(user?.[1])).toBeGreaterThan(0);
  const entrypoint = /^ENTRYPOINT (.+)$/m.exec(runtime)?.[1] as string;
  // Exec form (JSON array): no shell in between, so SIGTERM reaches Node.
  expect(JSON.parse(entrypoint)).toEqual(['node', `/app/${pkg.bin.kq}`]);
  expect(runtime).toMatch(/WORKDIR \/app/);
  for (const label of ['title', 'version', 'revision', 'licenses', 'description'])
    expect(runtime).toContain(`org.opencontainers.image.${label}=`);
});

it('.dockerignore keeps local artefacts out of the build context', () => {
  const ignored = readFileSync(resolve(root, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['node_modules', 'dist', '.git', 'test']) expect(ignored).toContain(entry);
});

it("the runtime stage bakes Node's compile cache, as the runtime user, where the read-only pod reads it", () => {
  const cacheDir = /^ENV NODE_COMPILE_CACHE=(\S+)$/m.exec(runtime)?.[1];
  expect(cacheDir).toMatch(/^\/app\//);
  const relative = cacheDir?.slice('/app/'.length) as string;
  const user = runtime.search(/^USER /m);
  // Made as root and handed to the runtime user before USER; written by that user after it.
  const chown = runtime.search(new RegExp(`^RUN .*chown ${KQ_UID}:${KQ_UID} ${relative}`, 'm'));
  expect(chown).toBeGreaterThan(-1);
  expect(chown).toBeLessThan(user);
  const warm = runtime.slice(user);
  expect(warm).toMatch(new RegExp(`NODE_COMPILE_CACHE=${relative} node dist/cli\\.js`));
  for (const command of ['worker', 'api']) expect(warm).toContain(command);
});
