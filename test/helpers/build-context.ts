/**
 * The build context `docker build .` would send from a fresh clone: the files git knows (tracked, or new
 * and not git-ignored, so a local `node_modules/` or `dist/` never counts), minus what `.dockerignore`
 * excludes. Ignore patterns follow Docker's rules: `*` and `?` stay within one path segment, `**` spans
 * segments, a leading `/` is dropped, a pattern that matches a folder excludes everything under it, and a
 * later `!pattern` re-includes; the last matching pattern wins.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface IgnoreRule {
  re: RegExp;
  negate: boolean;
}

function toRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Parses `.dockerignore` text into rules. */
export function dockerignoreRules(text: string): IgnoreRule[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { re: toRegExp(pattern), negate };
    });
}

/** True when `path` (relative, `/`-separated) or one of its parent folders is excluded. */
export function isIgnored(path: string, rules: IgnoreRule[]): boolean {
  const parts = path.split('/');
  let ignored = false;
  for (const rule of rules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.re.test(parts.slice(0, n).join('/'))) {
        ignored = !rule.negate;
        break;
      }
    }
  }
  return ignored;
}

/**
 * Lists the context's files (relative paths, sorted).
 * @example const files = buildContextFiles('/work/repo'); // ['package.json', 'src/cli.ts', ...]
 */
export function buildContextFiles(contextDir: string): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: contextDir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
    .split('\0')
    .filter(Boolean);
  const ignoreFile = join(contextDir, '.dockerignore');
  const rules = existsSync(ignoreFile) ? dockerignoreRules(readFileSync(ignoreFile, 'utf8')) : [];
  // Deleted but still tracked files are not in the working tree, so not in the context either.
  return [...new Set(listed)]
    .filter(
      (f) =>
        !isIgnored(f, rules) && existsSync(join(contextDir, f)) && statSync(join(contextDir, f)).isFile(),
    )
    .sort();
}
