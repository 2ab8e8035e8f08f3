/** The TypeScript files under src/, for the tests that read kq's own source. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const SRC = resolve(import.meta.dirname, '../../src');

export interface SourceFile {
  /** Relative to the repository root, e.g. `src/log.ts`. */
  path: string;
  text: string;
}

export function sourceFiles(dir = SRC): SourceFile[] {
  const out: SourceFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (entry.name.endsWith('.ts'))
      out.push({ path: relative(resolve(SRC, '..'), p), text: readFileSync(p, 'utf8') });
  }
  return out;
}
