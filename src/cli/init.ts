/** `kq init [dir]`: scaffolds a TypeScript application of job handlers (src/init/scaffold.ts). */
import type { Command } from '../cli.js';
import { formatHelp, parseOptions, stringOption } from '../config.js';
import { scaffold } from '../init/scaffold.js';

const specs = {
  name: stringOption('name', [], '', 'package.json name of a new package.json; empty = the folder name', {
    re: /^$|^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/,
    rule: 'must be an npm package name: lower-case letters, digits, "-", "." or "_"',
  }),
  kq: stringOption(
    'kq',
    [],
    '',
    'how package.json depends on kq if it does not yet (a version range, tarball or git URL); empty = ^<this kq version>',
  ),
};
const summary = 'Scaffold a TypeScript application of job handlers: jobs, tests, build, Dockerfile';

export const command: Command = {
  summary,
  async run(argv, env) {
    const { values, positionals, help } = parseOptions(specs, argv, env, 1);
    if (help) {
      process.stdout.write(formatHelp('Usage: kq init [dir] [options]', summary, specs));
      return 0;
    }
    const dir = positionals[0] ?? '.';
    const r = scaffold({ dir, name: values.name || undefined, kqSpec: values.kq || undefined });
    const cd = dir === '.' ? '' : `  cd ${dir}\n`;
    process.stdout.write(
      [
        `Created ${r.files.length} files in ${r.dir} (kq: ${r.kqSpec}):`,
        ...r.files.map((f) => `  ${f}`),
        '',
        ...(r.kqSpecDefaulted
          ? [
              `package.json depends on kq ${r.kqSpec}. Before kq is on a registry, install it from its tarball or git URL instead (npm install ./kq-<version>.tgz), or pass --kq <spec>.`,
              '',
            ]
          : []),
        'Next:',
        `${cd}  npm install`,
        '  npm test                                   # unit tests + a run through a real worker',
        '  npm run build && HANDLERS=dist/jobs.js npx kq dev   # API + workers on this machine',
        '',
      ].join('\n'),
    );
    return 0;
  },
};
