/**
 * Comments that do not rot: no microsecond figures, dates or issue numbers in src/ comments. Figures
 * live in docs/performance.md, history in git. Code spans and `@example` code in a comment are values
 * (an example's input, an epoch), not history, and are left out.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from './source-files.js';

const RULES: [string, RegExp][] = [
  ['a microsecond figure', /\d\s*(µs|μs)|microsecond/i],
  [
    'a date',
    /\b(19|20)\d\d-\d\d(-\d\d)?\b|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? (19|20)\d\d\b|\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* (19|20)\d\d\b/,
  ],
  ['an issue number', /\b(issue|PR|pull request)s?\s*#?\d+|(^|[\s(])#\d+\b/i],
];

/** Every comment of a file, with the line it starts on. */
function commentsOf(path: string, text: string): { line: number; text: string }[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const seen = new Map<number, string>();
  const add = (ranges: ts.CommentRange[] | undefined) => {
    for (const r of ranges ?? []) seen.set(r.pos, text.slice(r.pos, r.end));
  };
  const visit = (node: ts.Node) => {
    add(ts.getLeadingCommentRanges(text, node.pos));
    add(ts.getTrailingCommentRanges(text, node.end));
    ts.forEachChild(node, visit);
  };
  visit(file);
  add(ts.getLeadingCommentRanges(text, file.endOfFileToken.pos));
  return [...seen].map(([pos, comment]) => ({
    line: file.getLineAndCharacterOfPosition(pos).line + 1,
    text: comment,
  }));
}

/** Finds what breaks the rules in one comment (code spans and `@example` code left out). */
function ruleBreaks(comment: string): string[] {
  const prose = comment.replace(/@example[\s\S]*?(?=\n\s*\*\s*@|\*\/|$)/g, '').replace(/`[^`\n]*`/g, '``');
  return RULES.filter(([, re]) => re.test(prose)).map(([name]) => name);
}

describe('source comments', () => {
  it('the rules catch what they are for, and leave code spans alone', () => {
    expect(ruleBreaks('// ~13 µs a job')).toEqual(['a microsecond figure']);
    expect(ruleBreaks('/* measured 2026-11-30 */')).toEqual(['a date']);
    expect(ruleBreaks('// measured on Nov 30, 2026')).toEqual(['a date']);
    expect(ruleBreaks('// see issue 22 item 3')).toEqual(['an issue number']);
    expect(ruleBreaks('// fixed in #41')).toEqual(['an issue number']);
    expect(ruleBreaks("/** @example isoTimeOf(0) === '1970-01-01T00:00:00.000Z' */")).toEqual([]);
    expect(ruleBreaks('/**\n * @example\n * run({ month: "2026-11" })\n * @param x 2 µs\n */')).toEqual([
      'a microsecond figure',
    ]);
    expect(ruleBreaks("/** it's `2026-11-30`, measured on 2026-11-30 (kq's) */")).toEqual(['a date']);
    expect(ruleBreaks('// 20 ms, 5 % of the CPU, item 3, a #private field')).toEqual([]);
  });

  it('src/ comments have no microsecond figures, dates or issue numbers', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(50);
    const hits: string[] = [];
    let comments = 0;
    for (const f of files) {
      for (const c of commentsOf(f.path, f.text)) {
        comments++;
        for (const rule of ruleBreaks(c.text)) hits.push(`${f.path}:${c.line}: ${rule}`);
      }
    }
    expect(comments).toBeGreaterThan(500);
    expect(hits).toEqual([]);
  });
});
