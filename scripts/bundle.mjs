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
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const bundled = new Set(['bullmq', 'ioredis', 'pino', 'prom-client']);
const external = Object.keys(pkg.dependencies ?? {})
  .filter((name) => !bundled.has(name))
  .flatMap((name) => [name, `${name}/*`]);

/**
 * Marks packages as free of import side effects, so esbuild drops the modules kq never uses (bullmq's
 * index re-exports flows, job schedulers with cron parsing and telemetry; kq uses Queue and Worker).
 */
function sideEffectFree(names) {
  const inPackage = new RegExp(`/node_modules/(${names.join('|')})/`);
  return {
    name: 'side-effect-free',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === 'side-effect-free') return undefined;
        if (!inPackage.test(args.importer) && !names.includes(args.path)) return undefined;
        const r = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'side-effect-free',
        });
        // Unresolvable optional requires (bullmq's pg / valkey-glide adapters) stay esbuild's business.
        if (r.errors.length || r.external || !inPackage.test(r.path)) return undefined;
        return { path: r.path, sideEffects: false };
      });
    },
  };
}

// `--outdir=<dir>` writes the bundle elsewhere (benchmark development while others rebuild dist/).
const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice(9) ?? 'dist';

// Chunk names carry content hashes: drop the previous build's, so stale chunks do not pile up.
rmSync(resolve(root, outdir, 'chunks'), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts', index: 'src/index.ts' },
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // ES module builds first: only those can be tree-shaken (bullmq's `main` is CommonJS).
  mainFields: ['module', 'main'],
  target: 'node20',
  external: [...external, 'msgpackr-extract'],
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [sideEffectFree(['bullmq'])],
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
