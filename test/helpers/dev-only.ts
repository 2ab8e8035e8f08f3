/**
 * The dev dependencies a production install must not hold: those the lock file marks dev-only. A dev
 * dependency that a production dependency also needs (ajv: fastify's validator, our tests' CRD
 * validator) is installed in production legitimately.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** @example for (const name of devOnly()) expect(installed).not.toContain(`node_modules/${name}`); */
export function devOnly(): string[] {
  const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')).packages;
  return Object.keys(pkg.devDependencies).filter((name) => lock[`node_modules/${name}`]?.dev === true);
}
