/** `kq metrics-adapter`: placeholder until its issue lands. */
import type { Command } from '../cli.js';

export const command: Command = {
  summary: '(not built yet)',
  async run() {
    process.stderr.write('kq metrics-adapter: not built yet in this version.\n');
    return 2;
  },
};
