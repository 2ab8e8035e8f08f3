/**
 * `kq init`: writes a TypeScript application of job handlers from the templates kq ships
 * (`templates/app`): a job definition, its unit and worker tests, the build, a Dockerfile on kq's image
 * and a README. An existing package.json is extended, never replaced (a folder where kq was just
 * installed keeps how it was installed: tarball, git URL or registry); any other existing file stops it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';

/** kq's package folder: the nearest package.json named kq above this module (dist/ or a bundle chunk). */
export function kqPackageDir(from = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kq')
      return dir;
  }
  throw new Error(`kq init: cannot find kq's package.json above ${from}`);
}

interface KqPackage {
  version: string;
  engines?: { node?: string };
  devDependencies?: Record<string, string>;
}

/**
 * Node's types for the oldest Node kq runs on (`engines.node` `>=22` -> `^22`), so an application's
 * types never offer an API its Node may lack, nor miss one it has.
 * @example nodeTypesRange('>=22') === '^22'
 */
export function nodeTypesRange(engines: string | undefined): string | undefined {
  const major = /^\s*>=\s*(\d+)/.exec(engines ?? '')?.[1];
  return major ? `^${major}` : undefined;
}

export interface ScaffoldOptions {
  /** Target folder; created when missing. */
  dir: string;
  /** package.json `name` for a new package.json. @default the folder's name */
  name?: string;
  /** How package.json depends on kq when it does not yet. @default `^<kq's version>` */
  kqSpec?: string;
}

export interface ScaffoldResult {
  dir: string;
  /** Files written, relative to `dir`. */
  files: string[];
  /** The dependency on kq in package.json afterwards. */
  kqSpec: string;
  /** True when kq init chose `kqSpec` (no dependency on kq before, no `kqSpec` option). */
  kqSpecDefaulted: boolean;
}

/** Template files, relative to the template folder (`_gitignore` is stored so: npm pack drops .gitignore). */
function templateFiles(root: string, sub = ''): string[] {
  return readdirSync(join(root, sub)).flatMap((entry) => {
    const rel = sub ? `${sub}/${entry}` : entry;
    return statSync(join(root, rel)).isDirectory() ? templateFiles(root, rel) : [rel];
  });
}

const target = (rel: string) => rel.replace(/(^|\/)_(gitignore|dockerignore)$/, '$1.$2');

function packageName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return name || 'kq-jobs';
}

/** Adds what the scaffold needs to package.json, keeping everything already there. */
function packageJson(existing: Record<string, unknown> | undefined, o: ScaffoldOptions, kq: KqPackage) {
  const name = o.name ?? packageName(o.dir);
  const pkg: Record<string, unknown> = existing
    ? { name, ...existing }
    : { name, version: '0.1.0', private: true };
  if (pkg.type !== undefined && pkg.type !== 'module') {
    throw new ConfigError(
      `package.json has "type": ${JSON.stringify(pkg.type)}; kq's scaffold compiles to ES modules and needs "type": "module". Change it, or run kq init in a new folder.`,
      { option: 'dir', value: o.dir },
    );
  }
  pkg.type = 'module';
  const scripts = { ...(pkg.scripts as Record<string, string> | undefined) };
  scripts.build ??= 'tsc -p tsconfig.build.json';
  scripts.test ??= 'tsc -p tsconfig.json && node --test .test-build/test/*.test.js';
  pkg.scripts = scripts;
  const deps = { ...(pkg.dependencies as Record<string, string> | undefined) };
  deps.kq ??= o.kqSpec ?? `^${kq.version}`;
  pkg.dependencies = deps;
  // The TypeScript kq is built with; Node's types for the oldest Node kq supports, which the
  // application then declares too.
  const dev = { ...(pkg.devDependencies as Record<string, string> | undefined) };
  dev.typescript ??= kq.devDependencies?.typescript ?? 'latest';
  dev['@types/node'] ??= nodeTypesRange(kq.engines?.node) ?? kq.devDependencies?.['@types/node'] ?? 'latest';
  pkg.devDependencies = dev;
  if (kq.engines?.node) pkg.engines ??= { node: kq.engines.node };
  return { pkg, kqSpec: deps.kq };
}

/** @example scaffold({ dir: 'my-jobs' }) // { files: ['Dockerfile', 'README.md', ...], ... } */
export function scaffold(o: ScaffoldOptions): ScaffoldResult {
  const kqDir = kqPackageDir();
  const kq = JSON.parse(readFileSync(join(kqDir, 'package.json'), 'utf8')) as KqPackage;
  const templates = join(kqDir, 'templates/app');
  const dir = resolve(o.dir);
  const files = templateFiles(templates).sort();
  const clashes = files.map(target).filter((f) => existsSync(join(dir, f)));
  if (clashes.length) {
    throw new ConfigError(
      `kq init: ${relative(process.cwd(), dir) || '.'} already has ${clashes.join(', ')}; nothing was written. Run it in a new or empty folder, or move those files away.`,
      { option: 'dir', value: o.dir },
    );
  }
  const pkgPath = join(dir, 'package.json');
  const existing = existsSync(pkgPath)
    ? (JSON.parse(readFileSync(pkgPath, 'utf8')) as Record<string, unknown>)
    : undefined;
  const kqSpecDefaulted = !o.kqSpec && !(existing?.dependencies as Record<string, string> | undefined)?.kq;
  const { pkg, kqSpec } = packageJson(existing, o, kq);
  const name = String(pkg.name ?? packageName(dir));
  const fill = (text: string) => text.replaceAll('{{name}}', name).replaceAll('{{kqVersion}}', kq.version);
  for (const rel of files) {
    const out = join(dir, target(rel));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, fill(readFileSync(join(templates, rel), 'utf8')));
  }
  writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
  return { dir, files: ['package.json', ...files.map(target)], kqSpec, kqSpecDefaulted };
}
