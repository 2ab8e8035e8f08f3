/**
 * `kq lab`: the command is thin so that `kq --help` (which loads every command for its summary) does not
 * load the lab, whose manifest renderer needs kubernetes-models, left out of the container image.
 */
import type { Command } from '../cli.js';
import { LAB_SUMMARY } from '../lab/summary.js';
import { importRenderer } from './import-renderer.js';

export const command: Command = {
  summary: LAB_SUMMARY,
  async run(argv, env) {
    const { runLabCommand } = await importRenderer('lab', () => import('../lab/lab-command.js'));
    return runLabCommand(argv, env);
  },
};
