/**
 * Bundles the two entry points, `dist/cli.js` (the bin) and `dist/index.js` (the library), over the
 * files tsc emitted (tsc still writes the .d.ts files and the per-module .js the other scripts use).
 *
 * Why: a CronJob or ScaledJob pod pays process start-up on every run, and most of it is Node resolving
 * and reading hundreds of small files of bullmq and ioredis. One ESM bundle with code splitting keeps
 * the lazy `import()` of each CLI command lazy (a worker never loads the API's code) while the worker's
 * dependencies come from a few large files. Measured in docs/performance.md (cold start, memory).
 *
 * Bundled: bullmq, ioredis, pino, prom-client, zod and their dependencies (with @opentelemetry/api, which
 * prom-client requires: bundled, a worker with tracing off reads no OpenTelemetry file from node_modules). zod is re-exported by the
 * library entry (`import { defineJob, z } from 'kq'`), so handler modules share kq's instance and a worker
 * loads it once, from one chunk. External (loaded from node_modules as before): the API's and manifests'
 * packages (fastify and plugins, bull-board, kubernetes-models, yaml, node-forge), which read files next
 * to their own code; and msgpackr's optional native extension. Parts kq does not use are loaded on first
 * use (`lazy`, below).
 */
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const bundled = new Set(['bullmq', 'ioredis', 'pino', 'prom-client', 'zod', '@opentelemetry/api']);
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

/**
 * Modules a worker start would compile and run for features kq does not use, loaded from node_modules on
 * first use instead (the same module bullmq or zod would load, resolved from that package):
 * - cron-parser (with luxon, ~360 KB of source): bullmq's job schedulers, which kq does not create;
 * - zod's translated error messages, every locale but `en` (~300 KB): `z.locales.de()` still works.
 */
const lazy = {
  name: 'lazy-modules',
  setup(b) {
    const stub = (from, specifier, exportsCode) => ({
      loader: 'js',
      contents: [
        "import { createRequire } from 'node:module';",
        'let real;',
        `const load = () => (real ??= createRequire(createRequire(import.meta.url).resolve(${JSON.stringify(from)}))(${JSON.stringify(specifier)}));`,
        exportsCode,
      ].join('\n'),
    });
    b.onResolve({ filter: /^cron-parser$/ }, () => ({ path: 'cron-parser', namespace: 'kq-lazy' }));
    b.onResolve({ filter: /^\.\/[a-zA-Z-]+\.js$/ }, (args) => {
      if (!/zod\/v4\/locales\/index\.js$/.test(args.importer) || args.path === './en.js') return undefined;
      return { path: `zod/v4/locales/${args.path.slice(2, -3)}.cjs`, namespace: 'kq-lazy' };
    });
    b.onLoad({ filter: /^cron-parser$/, namespace: 'kq-lazy' }, () =>
      stub(
        'bullmq',
        'cron-parser',
        'export const CronExpressionParser = { parse: (...args) => load().CronExpressionParser.parse(...args) };',
      ),
    );
    b.onLoad({ filter: /^zod\//, namespace: 'kq-lazy' }, (args) =>
      stub('zod', args.path, 'export default (...args) => load()(...args);'),
    );
  },
};

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
  plugins: [lazy, sideEffectFree(['bullmq'])],
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
