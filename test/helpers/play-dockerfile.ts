/**
 * Plays a Dockerfile without Docker, to prove from the outside that its stages build from a clean
 * context and that the runtime stage it assembles can run.
 *
 * Each stage gets an empty folder that stands for its filesystem root (`/app` is `<stage>/app`). COPY
 * copies exactly what it names: from the clean build context (build-context.ts: what git knows, minus
 * `.dockerignore`), or with `--from` out of an earlier stage's folder. RUN runs `sh -c` in the mapped
 * WORKDIR with a clean env (PATH, HOME=`<stage>/root`, the stage's ARG/ENV). A
 * `--mount=type=cache,target=X` mount becomes a symlink at X to a host folder (`caches`), removed after
 * the RUN as BuildKit keeps cache mounts out of the layer. The last stage (or `target`) is the image.
 *
 * What it cannot play: the base image's own files. RUN uses the host's `node`/`npm`/`sh` (run the tests
 * on the image's Node major; `.ci/run` does), and absolute paths inside RUN commands are not remapped.
 * USER is recorded, not switched to.
 *
 * @example
 * const image = await playDockerfile({ caches: { '/root/.npm': hostNpmCache } });
 * spawn('node', image.entrypoint, { env: { ...image.env, REDIS_URL } }); ... image.close();
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { buildContextFiles } from './build-context.js';
import { expand, type Instruction, keyValues, parseDockerfile, type Stage } from './dockerfile-parse.js';

export interface PlayOptions {
  /** @default the repository root */
  context?: string;
  /** @default `<context>/Dockerfile` */
  dockerfile?: string;
  /** Stage to stop at (`--target`). @default the last stage */
  target?: string;
  /** Cache mount target (image path) -> host folder. @default a fresh empty folder per target */
  caches?: Record<string, string>;
  /** Extra env for every RUN (e.g. `npm_config_prefer_offline`), under the stage's own ENV. */
  env?: Record<string, string>;
  /** Longest a single RUN may take. @default 600_000 */
  runTimeoutMs?: number;
}

export interface PlayedStage {
  stage: Stage;
  /** Host folder standing for the stage's `/`. */
  root: string;
  workdir: string;
  env: Record<string, string>;
}

export interface PlayedImage {
  /** Host folder standing for the image's `/`. */
  root: string;
  /** ENV of the runtime stage. */
  env: Record<string, string>;
  /** The runtime stage's WORKDIR, mapped to the host. */
  workdir: string;
  /** `USER` of the runtime stage, as written. */
  user: string | undefined;
  /** ENTRYPOINT + CMD (exec form), with absolute image paths that exist in the image mapped to the host. */
  entrypoint: string[];
  labels: Record<string, string>;
  exposed: string[];
  stages: PlayedStage[];
  /** Output of every RUN, in order. */
  log: string;
  /** Maps an absolute image path to the host folder. */
  hostPath(imagePath: string): string;
  close(): void;
}

const ROOT = resolve(import.meta.dirname, '../..');

function run(cmd: string[], cwd: string, env: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((res, reject) => {
    const child = spawn(cmd[0] as string, cmd.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) res(out);
      else reject(Object.assign(new Error(`exit ${code ?? signal}`), { output: out }));
    });
  });
}

/** Plays the Dockerfile; see the module comment. */
export async function playDockerfile(options: PlayOptions = {}): Promise<PlayedImage> {
  const context = options.context ?? ROOT;
  const text = readFileSync(options.dockerfile ?? join(context, 'Dockerfile'), 'utf8');
  const all = parseDockerfile(text);
  const end = options.target ? all.findIndex((s) => s.name === options.target) : all.length - 1;
  if (end < 0) throw new Error(`Dockerfile has no stage named "${options.target}"`);
  const contextFiles = buildContextFiles(context);
  const work = mkdtempSync(join(tmpdir(), 'kq-play-'));
  const played: PlayedStage[] = [];
  let log = '';
  const meta = {
    labels: {} as Record<string, string>,
    exposed: [] as string[],
    user: undefined as string | undefined,
  };
  let entrypoint: string[] = [];
  let cmd: string[] = [];

  try {
    for (const stage of all.slice(0, end + 1)) {
      const root = join(work, `${stage.index}-${stage.name}`);
      mkdirSync(join(root, 'root'), { recursive: true });
      const ps: PlayedStage = { stage, root, workdir: '/', env: {} };
      const args: Record<string, string> = {};
      const vars = () => ({ ...args, ...ps.env });
      const fail = (ins: Instruction, why: string): never => {
        throw new Error(`Dockerfile line ${ins.line}, stage "${stage.name}", ${ins.op}: ${why}`);
      };
      const host = (p: string) => join(root, posix.resolve(ps.workdir, p));
      for (const ins of stage.instructions) {
        switch (ins.op) {
          case 'ARG':
            for (const [k, v] of keyValues(ins, {})) args[k] = options.env?.[k] ?? v;
            break;
          case 'ENV':
            for (const [k, v] of keyValues(ins, vars())) ps.env[k] = v;
            break;
          case 'LABEL':
            for (const [k, v] of keyValues(ins, vars())) meta.labels[k] = v;
            break;
          case 'WORKDIR':
            ps.workdir = posix.resolve(ps.workdir, expand(ins.args[0] ?? '/', vars()));
            mkdirSync(join(root, ps.workdir), { recursive: true });
            break;
          case 'USER':
            meta.user = ins.args[0];
            break;
          case 'EXPOSE':
            meta.exposed.push(...ins.args);
            break;
          case 'ENTRYPOINT':
          case 'CMD':
            if (!ins.json) fail(ins, 'use the exec (JSON) form, so node runs as PID 1 and gets SIGTERM');
            if (ins.op === 'ENTRYPOINT') entrypoint = ins.args;
            else cmd = ins.args;
            break;
          case 'COPY':
            copy(ins, played, contextFiles, context, vars(), host, fail);
            break;
          case 'RUN': {
            const shell = ins.json ? ins.args : ['sh', '-c', ins.args[0] ?? ''];
            const mounts = (ins.flags.mount ?? []).map((m) =>
              cacheMount(m, root, options.caches, work, ins, fail),
            );
            const env = {
              PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
              HOME: join(root, 'root'),
              ...options.env,
              ...args,
              ...ps.env,
            };
            try {
              log += `# ${stage.name}: RUN ${shell.join(' ')}\n`;
              log += await run(shell, join(root, ps.workdir), env, options.runTimeoutMs ?? 600_000);
            } catch (e) {
              const out = (e as { output?: string }).output ?? '';
              fail(ins, `\`${shell.join(' ')}\` failed (${(e as Error).message})\n${out.slice(-4000)}`);
            } finally {
              for (const link of mounts) rmSync(link, { force: true });
            }
            break;
          }
          default:
            fail(ins, 'not supported by the Dockerfile player');
        }
      }
      played.push(ps);
    }
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }

  const image = played.at(-1) as PlayedStage;
  const hostPath = (p: string) => join(image.root, posix.resolve(image.workdir, p));
  return {
    root: image.root,
    env: image.env,
    workdir: join(image.root, image.workdir),
    user: meta.user,
    entrypoint: [...entrypoint, ...cmd].map((a) =>
      a.startsWith('/') && existsSync(hostPath(a)) ? hostPath(a) : a,
    ),
    labels: meta.labels,
    exposed: meta.exposed,
    stages: played,
    log,
    hostPath,
    close: () => rmSync(work, { recursive: true, force: true }),
  };
}

function cacheMount(
  spec: string,
  root: string,
  caches: Record<string, string> | undefined,
  work: string,
  ins: Instruction,
  fail: (ins: Instruction, why: string) => never,
): string {
  const fields = Object.fromEntries(spec.split(',').map((kv) => kv.split('=') as [string, string]));
  if (fields.type !== 'cache' || !fields.target)
    return fail(ins, `only --mount=type=cache,target=... is played: ${spec}`);
  const source = caches?.[fields.target] ?? join(work, 'caches', fields.target.replace(/\//g, '_'));
  mkdirSync(source, { recursive: true });
  const link = join(root, fields.target);
  mkdirSync(dirname(link), { recursive: true });
  rmSync(link, { recursive: true, force: true });
  symlinkSync(source, link);
  return link;
}

function copy(
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
