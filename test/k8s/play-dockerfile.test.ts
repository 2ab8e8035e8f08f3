/**
 * The Dockerfile player itself (test/helpers/play-dockerfile.ts), on small Dockerfiles in a throwaway git
 * repository: what a COPY may see, stage-to-stage copies, ENV, cache mounts, the ENTRYPOINT mapping, and
 * the errors it must raise where `docker build` fails. No npm here, so it runs in well under a second.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { playDockerfile } from '../helpers/play-dockerfile.js';

const repo = mkdtempSync(join(tmpdir(), 'kq-play-test-'));
const caches = mkdtempSync(join(tmpdir(), 'kq-play-cache-'));
afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
  rmSync(caches, { recursive: true, force: true });
});

function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(repo, path, '..'), { recursive: true });
    writeFileSync(join(repo, path), text);
  }
}

execFileSync('git', ['init', '-q'], { cwd: repo });
write({
  'a.txt': 'A\n',
  'sub/b.txt': 'B\n',
  'debug.log': 'ignored by .dockerignore\n',
  'build/out.txt': 'ignored by .gitignore: not in a fresh clone\n',
  '.gitignore': 'build/\n',
  '.dockerignore': '*.log\n',
});

const play = (dockerfile: string) => {
  write({ Dockerfile: dockerfile });
  return playDockerfile({ context: repo, caches: { '/root/.cache': caches } });
};

describe('playDockerfile', () => {
  it('copies what COPY names, runs RUN in the stage, copies between stages, keeps ENV and maps the ENTRYPOINT', async () => {
    const image = await play(
      [
        'FROM node:24-bookworm-slim AS one',
        'WORKDIR /w',
        'COPY a.txt sub ./',
        'RUN --mount=type=cache,target=/root/.cache cat a.txt b.txt > both.txt && \\',
        '    echo cached > "$HOME/.cache/marker"',
        'FROM node:24-bookworm-slim',
        'ENV GREETING="hello world"',
        'WORKDIR /app',
        'COPY --from=one /w/both.txt ./',
        'USER 10001:10001',
        'ENTRYPOINT ["node", "/app/both.txt"]',
      ].join('\n'),
    );
    try {
      expect(readFileSync(join(image.workdir, 'both.txt'), 'utf8')).toBe('A\nB\n');
      expect(image.env).toEqual({ GREETING: 'hello world' });
      expect(image.user).toBe('10001:10001');
      expect(image.entrypoint).toEqual(['node', join(image.workdir, 'both.txt')]);
      // The cache mount's content stays in the cache, not in the stage.
      expect(readFileSync(join(caches, 'marker'), 'utf8')).toBe('cached\n');
      expect(existsSync(join(image.stages[0]?.root ?? '', 'root/.cache'))).toBe(false);
    } finally {
      await image.close();
    }
  });

  it('a COPY of a folder brings only its context files: nothing .dockerignore or .gitignore leaves out', async () => {
    const image = await play(['FROM node:24-bookworm-slim', 'WORKDIR /app', 'COPY . ./'].join('\n'));
    try {
      expect(
        execFileSync('find', ['.', '-type', 'f'], { cwd: image.workdir, encoding: 'utf8' })
          .split('\n')
          .sort(),
      ).toEqual(['', './.dockerignore', './.gitignore', './Dockerfile', './a.txt', './sub/b.txt']);
    } finally {
      await image.close();
    }
  });

  it('fails like docker build: a COPY of something outside the context, a failing RUN', async () => {
    await expect(play(['FROM node:24-bookworm-slim', 'COPY debug.log ./'].join('\n'))).rejects.toThrow(
      /line 2, stage "0", COPY: "debug.log" is not in the build context/,
    );
    await expect(play(['FROM node:24-bookworm-slim', 'COPY build/out.txt ./'].join('\n'))).rejects.toThrow(
      /"build\/out.txt" is not in the build context/,
    );
    await expect(
      play(['FROM node:24-bookworm-slim AS b', 'WORKDIR /x', 'RUN echo boom >&2; exit 3'].join('\n')),
    ).rejects.toThrow(/line 3, stage "b", RUN: `sh -c echo boom >&2; exit 3` failed \(exit 3\)\nboom/);
    await expect(play(['FROM node:24-bookworm-slim', 'HEALTHCHECK CMD true'].join('\n'))).rejects.toThrow(
      /HEALTHCHECK is not supported/,
    );
  });

  it('outside a git work tree every file of the folder is in the context (minus .dockerignore)', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'kq-play-plain-'));
    try {
      writeFileSync(join(plain, 'x.txt'), 'X\n');
      writeFileSync(join(plain, 'skip.log'), 'no\n');
      writeFileSync(join(plain, '.dockerignore'), '*.log\n');
      writeFileSync(join(plain, 'Dockerfile'), 'FROM node:24-bookworm-slim\nWORKDIR /app\nCOPY . ./\n');
      const image = await playDockerfile({ context: plain });
      try {
        expect(readdirSync(image.workdir).sort()).toEqual(['.dockerignore', 'Dockerfile', 'x.txt']);
      } finally {
        await image.close();
      }
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});
