/** `kq manifests`: placeholder until its issue lands. */
import type { Command } from '../cli.js';

export const command: Command = {
  summary: '(not built yet)',
  async run() {
    process.stderr.write('kq manifests: not built yet in this version.\n');
    return 2;
  },
};
