/**
 * `npm start`'s build step: builds only when something the build reads (src/, the tsconfigs, the bundler
 * script, package.json) is newer than what it wrote (dist/cli.js, dist/index.js). Right after `npm ci`
 * (whose `prepare` built) `npm start` then starts at once instead of building again.
 * `--check` prints `fresh` or `stale: <why>` and builds nothing. Run from the package root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();
const INPUTS = ['src', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/bundle.mjs'];
const OUTPUTS = ['dist/cli.js', 'dist/index.js'];

/** The newest file under `path` (a file or a folder), as [mtimeMs, path]. */
function newest(path) {
  if (!existsSync(path)) return [0, path];
  const st = statSync(path);
  if (!st.isDirectory()) return [st.mtimeMs, path];
  let best = [0, path];
  for (const entry of readdirSync(path)) {
    const n = newest(join(path, entry));
    if (n[0] > best[0]) best = n;
  }
  return best;
}

/** Why a build is needed, or undefined when dist/ is newer than every input. */
function staleReason() {
  let oldestOut = Number.POSITIVE_INFINITY;
  for (const out of OUTPUTS) {
    const p = join(root, out);
    if (!existsSync(p)) return `${out} is missing`;
    oldestOut = Math.min(oldestOut, statSync(p).mtimeMs);
  }
  for (const input of INPUTS) {
    const [mtime, path] = newest(join(root, input));
    if (mtime > oldestOut) return `${path.slice(root.length + 1)} is newer than the build`;
  }
  return undefined;
}

const why = staleReason();
if (process.argv.includes('--check')) {
  process.stdout.write(why ? `stale: ${why}\n` : 'fresh\n');
} else if (why) {
  process.stderr.write(`building (${why})\n`);
  const r = spawnSync('npm', ['run', 'build', '--silent'], {
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  process.exitCode = r.status ?? 1;
}
