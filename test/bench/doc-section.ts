import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** A file of the repository, by its path from the root (the docs and bench/results.json). */
export const readRepo = (path: string): string => readFileSync(resolve(root, path), 'utf8');

/** A count as the docs print it: 700,493. */
export const shownCount = (n: number): string => n.toLocaleString('en-US');

/**
 * The part of a Markdown document under one heading: from the heading line to the next heading of the same
 * or a higher level (or the end). The docs tests read their figures from their own section only.
 * @example docSection(read('docs/performance.md'), 'Waiting for jobs')
 */
export function docSection(doc: string, heading: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, '') === heading);
  if (start < 0) return '';
  const level = (lines[start] as string).indexOf(' ');
  let inFence = false;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('```')) inFence = !inFence;
    const m = !inFence && /^(#+) /.exec(line);
    if (m && (m[1] as string).length <= level) {
      end = i;
      break;
    }
  }
  return lines.slice(start, end).join('\n');
}
