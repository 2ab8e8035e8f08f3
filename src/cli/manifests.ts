/** `kq manifests <approach>`: prints one deployment approach as multi-document YAML, or writes them all. */
import type { Command } from '../cli.js';
import { formatHelp, parseOptions } from '../config.js';
import { ConfigError } from '../errors.js';
import { applyHandlers } from '../k8s/handlers.js';
import { writeApproachDir } from '../k8s/kustomize.js';
import { manifestOptionSpecs } from '../k8s/options.js';
import { APPROACH_NAMES, approaches, isApproachName, renderYaml } from '../k8s/render.js';

const summary = 'Render Kubernetes manifests for one deployment approach (or `all` with --out-dir)';

function approachList(): string {
  return APPROACH_NAMES.map((n) => `  ${n.padEnd(20)} ${approaches[n].summary}`).join('\n');
}

export const command: Command = {
  summary,
  async run(argv, env) {
    const { values, positionals, help } = parseOptions(manifestOptionSpecs, argv, env, 1);
    if (help) {
      process.stdout.write(
        `${formatHelp('Usage: kq manifests <approach|all> [options]', summary, manifestOptionSpecs)}\nApproaches:\n${approachList()}\n`,
      );
      return 0;
    }
    await applyHandlers(values);
    const [name] = positionals;
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
      return 0;
    }
    if (!name || !isApproachName(name)) {
      const what = name ? `Unknown approach ${JSON.stringify(name)}` : 'Missing <approach>';
      throw new ConfigError(
        `${what}: must be one of ${APPROACH_NAMES.join(', ')} (or all with --out-dir).\n${approachList()}`,
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
