/**
 * `kq manifests <approach>`: prints one deployment approach as multi-document YAML, or writes them all.
 * The renderer (kubernetes-models) is loaded here only: the container image leaves kubernetes-models out
 * (a pod never renders manifests, and it is 20 MB), so there this command says where to run it instead.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from '../cli.js';
import { formatHelp, parseOptions } from '../config.js';
import { ConfigError } from '../errors.js';
import { applyHandlers } from '../k8s/handlers.js';
import { checkHandlerTimeouts } from '../k8s/job-deadline.js';
import { manifestOptionSpecs } from '../k8s/options.js';
import { importRenderer } from './import-renderer.js';

const summary =
  'Render Kubernetes manifests for one deployment approach, or the dashboard and alerts (`monitoring`), or `all` with --out-dir';

async function loadRenderer() {
  const [render, kustomize, monitoring] = await importRenderer('manifests', () =>
    Promise.all([
      import('../k8s/render.js'),
      import('../k8s/kustomize.js'),
      import('../k8s/monitoring/render.js'),
    ]),
  );
  return { ...render, ...kustomize, ...monitoring };
}

function approachList({ APPROACH_NAMES, approaches }: Awaited<ReturnType<typeof loadRenderer>>): string {
  return [
    ...APPROACH_NAMES.map((n) => `  ${n.padEnd(20)} ${approaches[n].summary}`),
    `  ${'monitoring'.padEnd(20)} Grafana dashboard ConfigMap + PrometheusRule alerts (any approach)`,
  ].join('\n');
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    process.stderr.write(`wrote ${path}\n`);
  }
}

export const command: Command = {
  summary,
  async run(argv, env) {
    const k8s = await loadRenderer();
    const { APPROACH_NAMES, isApproachName, renderYaml, writeApproachDir, monitoringFiles, monitoringYaml } =
      k8s;
    const { values, positionals, help } = parseOptions(manifestOptionSpecs, argv, env, 1);
    if (help) {
      process.stdout.write(
        `${formatHelp('Usage: kq manifests <approach|monitoring|all> [options]', summary, manifestOptionSpecs)}\nApproaches:\n${approachList(k8s)}\n`,
      );
      return 0;
    }
    const definitions = await applyHandlers(values);
    const [name] = positionals;
    for (const n of name === 'all' ? APPROACH_NAMES : isApproachName(name ?? '') ? [name as string] : [])
      checkHandlerTimeouts(n, values, definitions);
    if (name === 'all') {
      if (!values.outDir) {
        throw new ConfigError(
          '`kq manifests all` needs --out-dir <dir>: it writes one folder per approach.',
          {
            option: 'out-dir',
          },
        );
      }
      for (const n of APPROACH_NAMES) {
        for (const file of writeApproachDir(values.outDir, n, values))
          process.stderr.write(`wrote ${file}\n`);
      }
      writeFiles(values.outDir, monitoringFiles(values));
      return 0;
    }
    if (name === 'monitoring') {
      if (values.outDir) writeFiles(values.outDir, monitoringFiles(values));
      else process.stdout.write(monitoringYaml(values));
      return 0;
    }
    if (!name || !isApproachName(name)) {
      const what = name ? `Unknown approach ${JSON.stringify(name)}` : 'Missing <approach>';
      throw new ConfigError(
        `${what}: must be one of ${APPROACH_NAMES.join(', ')}, monitoring (or all with --out-dir).\n${approachList(k8s)}`,
        { option: 'approach', value: name ?? '' },
      );
    }
    if (values.outDir) {
      for (const file of writeApproachDir(values.outDir, name, values))
        process.stderr.write(`wrote ${file}\n`);
      return 0;
    }
    process.stdout.write(renderYaml(name, values));
    return 0;
  },
};
