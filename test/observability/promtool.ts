/** Runs Prometheus's `promtool` (Debian package `prometheus`; .ci/run installs it) on text or files. */
import { spawnSync } from 'node:child_process';

/** `promtool <args>` with `input` on stdin; its exit code and output, for the test to assert on. */
export function promtool(args: string[], input?: string): { code: number | null; output: string } {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`promtool did not run (apt-get install prometheus): ${r.error.message}`);
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}
