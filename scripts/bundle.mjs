/**
 * Bundles the two entry points, `dist/cli.js` (the bin) and `dist/index.js` (the library), over the
 * files tsc emitted (tsc still writes the .d.ts files and the per-module .js the other scripts use).
 *
 * Why: a CronJob or ScaledJob pod pays process start-up on every run, and most of it is Node resolving
 * and reading hundreds of small files of bullmq and ioredis. One ESM bundle with code splitting keeps
 * the lazy `import()` of each CLI command lazy (a worker never loads the API's code) while the worker's
 * dependencies come from a few large files. Measured in docs/performance.md (cold start, memory).
 *
 * Bundled: bullmq, ioredis, pino, prom-client and their dependencies. External (loaded from
 * node_modules as before): zod, because handler modules build schemas with their own `zod` import and
 * its registries must be the same instance; the API's and manifests' packages (fastify and plugins,
 * bull-board, kubernetes-models, yaml, node-forge), which read files next to their own code; and
 * msgpackr's optional native extension.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const bundled = new Set(['bullmq', 'ioredis', 'pino', 'prom-client']);
const external = Object.keys(pkg.dependencies ?? {})
  .filter((name) => !bundled.has(name))
  .flatMap((name) => [name, `${name}/*`]);

// `--outdir=<dir>` writes the bundle elsewhere (benchmark development while others rebuild dist/).
const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice(9) ?? 'dist';

await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts', index: 'src/index.ts' },
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [...external, 'msgpackr-extract'],
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies (ioredis, pino) call require() and read __dirname inside an ES module.
  banner: {
    js: [
      "import { createRequire as __kqCreateRequire } from 'node:module';",
      "import { fileURLToPath as __kqFileURLToPath } from 'node:url';",
      'const require = __kqCreateRequire(import.meta.url);',
      'const __filename = __kqFileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },
});
