/**
 * Reads a Dockerfile into stages of instructions, the subset a Node image uses: FROM (AS), ARG, ENV,
 * WORKDIR, COPY (--from, --chown, --chmod, --link), RUN (shell or exec form, --mount=type=cache), USER,
 * LABEL, EXPOSE, ENTRYPOINT, CMD. Anything else is an error, so a Dockerfile that grows an instruction the
 * player cannot honour fails loudly instead of being skipped. Line continuations (`\`) and comment lines
 * are handled as BuildKit does; `${VAR}` / `$VAR` are expanded from ARG and ENV where Docker expands them.
 */

export interface Instruction {
  /** Upper-case keyword, e.g. `COPY`. */
  op: string;
  /** `--name=value` flags before the arguments. */
  flags: Record<string, string[]>;
  /** Arguments after the flags: JSON form as given, shell form split on spaces (RUN keeps one string). */
  args: string[];
  /** True for the JSON (exec) form of RUN / ENTRYPOINT / CMD / COPY. */
  json: boolean;
  /** 1-based line of the instruction in the Dockerfile, for error messages. */
  line: number;
}

export interface Stage {
  /** `AS` name, or the stage's index as a string. */
  name: string;
  index: number;
  /** The base image, `FROM <image>`. */
  from: string;
  instructions: Instruction[];
}

const KNOWN = new Set([
  'ARG',
  'ENV',
  'WORKDIR',
  'COPY',
  'RUN',
  'USER',
  'LABEL',
  'EXPOSE',
  'ENTRYPOINT',
  'CMD',
]);

/** Joins continuation lines and drops comments; keeps each instruction's first line number. */
function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let current: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && !current)) return;
    const continued = /\\\s*$/.test(raw);
    const part = continued ? raw.replace(/\\\s*$/, '') : raw;
    if (current) current.text += ` ${part.trim()}`;
    else current = { text: part.trim(), line: i + 1 };
    if (!continued) {
      out.push(current);
      current = undefined;
    }
  });
  if (current) out.push(current);
  return out;
}

/** Splits on blanks outside quotes (`LABEL a="x y" b=z`); the quotes stay, `keyValues` removes them. */
function words(text: string): string[] {
  return text.match(/(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'])+/g) ?? [];
}

function parseInstruction(text: string, line: number): Instruction {
  const m = /^(\S+)\s*(.*)$/.exec(text);
  if (!m) throw new Error(`Dockerfile line ${line}: cannot read "${text}"`);
  const op = (m[1] as string).toUpperCase();
  let rest = m[2] as string;
  const flags: Record<string, string[]> = {};
  for (let f = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest); f; f = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest)) {
    const name = f[1] as string;
    flags[name] = [...(flags[name] ?? []), f[2] ?? 'true'];
    rest = rest.slice(f[0].length);
  }
  if (rest.startsWith('[')) {
    try {
      const args = JSON.parse(rest) as unknown;
      if (Array.isArray(args) && args.every((a) => typeof a === 'string'))
        return { op, flags, args, json: true, line };
    } catch {
      // Not valid JSON: Docker then treats it as shell form, and so do we.
    }
  }
  const args = op === 'RUN' || op === 'CMD' || op === 'ENTRYPOINT' ? [rest] : words(rest);
  return { op, flags, args, json: false, line };
}

/** Parses a Dockerfile's text into its stages. @example const stages = parseDockerfile(readFileSync('Dockerfile', 'utf8')); */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const { text: l, line } of logicalLines(text)) {
    const ins = parseInstruction(l, line);
    if (ins.op === 'FROM') {
      const [from, as, name] = ins.args;
      if (!from) throw new Error(`Dockerfile line ${line}: FROM without an image`);
      const index = stages.length;
      const stageName = as?.toUpperCase() === 'AS' && name ? name : String(index);
      stages.push({ name: stageName, index, from, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (ins.op === 'ARG') continue; // ARGs before the first FROM only parameterise FROM lines.
      throw new Error(`Dockerfile line ${line}: ${ins.op} before the first FROM`);
    }
    if (!KNOWN.has(ins.op))
      throw new Error(`Dockerfile line ${line}: ${ins.op} is not supported by the Dockerfile player`);
    stage.instructions.push(ins);
  }
  if (stages.length === 0) throw new Error('Dockerfile has no FROM');
  return stages;
}

/** `KEY=value` pairs of ENV / LABEL / ARG (also the legacy `ENV KEY value` form). */
export function keyValues(ins: Instruction, vars: Record<string, string>): [string, string][] {
  if (ins.op === 'ENV' && ins.args.length >= 2 && !(ins.args[0] as string).includes('='))
    return [[ins.args[0] as string, expand(ins.args.slice(1).join(' '), vars)]];
  return ins.args.map((a) => {
    const i = a.indexOf('=');
    if (i < 0) return [a, vars[a] ?? ''];
    return [a.slice(0, i), expand(unquote(a.slice(i + 1)), vars)];
  });
}

function unquote(v: string): string {
  if (/^".*"$/.test(v)) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return /^'.*'$/.test(v) ? v.slice(1, -1) : v;
}

/** Expands `$VAR` and `${VAR}` (with `:-default`) the way Docker does in COPY, WORKDIR, ENV and LABEL. */
export function expand(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)/g, (_, a, def, b) => {
    const v = vars[(a ?? b) as string];
    return v === undefined || v === '' ? (def ?? '') : v;
  });
}
