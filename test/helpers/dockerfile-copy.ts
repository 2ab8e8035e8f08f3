/**
 * COPY for the Dockerfile player (play-dockerfile.ts), as BuildKit does it: each source is a context file,
 * a context folder (its files go into the destination), a glob, or with `--from` a path in an earlier
 * stage; a file goes into the destination folder when it ends in `/`, when there are several sources, or
 * when that folder exists. Only files of the clean build context are ever copied from the context.
 */
import { cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { expand, type Instruction } from './dockerfile-parse.js';
import type { PlayedStage } from './play-dockerfile.js';

export function copy(
  ins: Instruction,
  played: PlayedStage[],
  contextFiles: string[],
  context: string,
  vars: Record<string, string>,
  host: (p: string) => string,
  fail: (ins: Instruction, why: string) => never,
): void {
  const words = ins.args.map((a) => expand(a, vars));
  if (words.length < 2) fail(ins, 'needs a source and a destination');
  const dest = words.pop() as string;
  const from = ins.flags.from?.[0];
  const intoDir = dest.endsWith('/') || words.length > 1;
  const target = host(dest);
  for (const src of words) {
    let sources: { path: string; rel: string }[];
    if (from !== undefined) {
      const stage = played.find((s) => s.stage.name === from || String(s.stage.index) === from);
      if (!stage) fail(ins, `--from=${from} names no earlier stage`);
      const path = join((stage as PlayedStage).root, posix.resolve('/', src));
      if (!existsSync(path)) fail(ins, `${src} does not exist in stage "${from}"`);
      sources = [{ path, rel: basename(src) }];
    } else {
      sources = contextSources(src, contextFiles, context);
      if (sources.length === 0)
        fail(ins, `"${src}" is not in the build context (check .dockerignore and git)`);
    }
    for (const s of sources) {
      if (s.rel === '') {
        // A folder of the context: its files (only those in the context) go into dest.
        const prefix = posix.normalize(src).replace(/^\.\/?|\/$/g, '');
        for (const f of contextFiles.filter((f) => prefix === '' || f.startsWith(`${prefix}/`))) {
          const out = join(target, prefix === '' ? f : f.slice(prefix.length + 1));
          mkdirSync(dirname(out), { recursive: true });
          cpSync(join(context, f), out);
        }
      } else if (statSync(s.path).isDirectory()) {
        cpSync(s.path, target, { recursive: true, verbatimSymlinks: true });
      } else {
        const isDir = intoDir || (existsSync(target) && statSync(target).isDirectory());
        const out = isDir ? join(target, basename(s.rel)) : target;
        mkdirSync(dirname(out), { recursive: true });
        cpSync(s.path, out);
      }
    }
  }
}

/** Context files a COPY source names: one file, a folder (rel '' = copy the folder's files), or a glob. */
function contextSources(src: string, files: string[], context: string): { path: string; rel: string }[] {
  const clean = posix.normalize(src).replace(/^\.\/?|\/$/g, '');
  if (/[*?[]/.test(clean)) {
    const re = new RegExp(
      `^${clean
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}$`,
    );
    return files.filter((f) => re.test(f)).map((f) => ({ path: join(context, f), rel: f }));
  }
  if (files.includes(clean)) return [{ path: join(context, clean), rel: clean }];
  if (clean === '' || files.some((f) => f.startsWith(`${clean}/`)))
    return [{ path: join(context, clean), rel: '' }];
  return [];
}
