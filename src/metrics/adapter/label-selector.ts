/**
 * A parser for the Kubernetes label selector syntax (`queue=jobs`, `queue in (a,b)`, `queue!=x`,
 * `queue notin (a)`, `queue`, `!queue`), reduced to what kq's metrics can answer: they carry one
 * label, `queue`, so a requirement on any other key is a 400 rather than a silent empty match.
 */
import { QUEUE_NAME_RULE } from '../../config.js';

export class SelectorError extends Error {}

export interface QueueSelector {
  /** Names the selector pins (`=`, `==`, `in`), intersected; undefined = not pinned, use every known queue. */
  only?: Set<string>;
  /** Names excluded (`!=`, `notin`). */
  except: Set<string>;
  /** `!queue`: nothing can match. */
  none: boolean;
}

// key: optional DNS-subdomain prefix + "/" + name; kept loose here, the key must be `queue` anyway.
const TOKEN = /\s*(!=|==|=|\(|\)|,|!|[-A-Za-z0-9_./]+|\S)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  for (;;) {
    const start = TOKEN.lastIndex;
    if (/^\s*$/.test(text.slice(start))) return tokens;
    const m = TOKEN.exec(text);
    if (!m?.[1]) throw new SelectorError(`unexpected text at position ${start}`);
    tokens.push(m[1]);
  }
}

function checkValue(v: string | undefined): string {
  if (v === undefined || !QUEUE_NAME_RULE.re.test(v) || ['in', 'notin'].includes(v)) {
    throw new SelectorError(`queue value ${JSON.stringify(v ?? '')} ${QUEUE_NAME_RULE.rule}`);
  }
  return v;
}

/**
 * Parses `labelSelector`; an empty or missing selector selects every known queue.
 * @example parseQueueSelector('queue in (a,b)').only // Set {'a', 'b'}
 */
export function parseQueueSelector(text: string | null | undefined): QueueSelector {
  const sel: QueueSelector = { except: new Set(), none: false };
  const pin = (names: string[]) => {
    const next = new Set(names);
    sel.only = sel.only ? new Set([...sel.only].filter((n) => next.has(n))) : next;
  };
  const tokens = tokenize(text ?? '');
  let i = 0;
  const next = () => tokens[i++];
  const expectKey = (k: string | undefined) => {
    if (k === undefined || !/^[A-Za-z0-9]/.test(k))
      throw new SelectorError(`expected a label key, got ${JSON.stringify(k ?? 'end')}`);
    if (k !== 'queue') {
      throw new SelectorError(
        `label ${JSON.stringify(k)} is not supported: kq's external metrics carry one label, queue`,
      );
    }
  };
  const readSet = (): string[] => {
    if (next() !== '(') throw new SelectorError('expected "(" after in / notin');
    const values: string[] = [];
    for (;;) {
      values.push(checkValue(next()));
      const sep = next();
      if (sep === ')') return values;
      if (sep !== ',')
        throw new SelectorError(`expected "," or ")" in a value list, got ${JSON.stringify(sep ?? 'end')}`);
    }
  };
  while (i < tokens.length) {
    let tok = next();
    if (tok === '!') {
      expectKey(next());
      sel.none = true;
    } else {
      expectKey(tok);
      const op = tokens[i];
      if (op === '=' || op === '==') {
        i++;
        pin([checkValue(next())]);
      } else if (op === '!=') {
        i++;
        sel.except.add(checkValue(next()));
      } else if (op === 'in') {
        i++;
        pin(readSet());
      } else if (op === 'notin') {
        i++;
        for (const v of readSet()) sel.except.add(v);
      } else if (op !== undefined && op !== ',') {
        throw new SelectorError(`unsupported operator ${JSON.stringify(op)}: use =, ==, !=, in or notin`);
      }
      // else: bare `queue` (exists) - every item has the label, so it restricts nothing.
    }
    tok = next();
    if (tok !== undefined && tok !== ',')
      throw new SelectorError(`expected "," between requirements, got ${JSON.stringify(tok)}`);
    if (tok === ',' && i >= tokens.length) throw new SelectorError('trailing ","');
  }
  return sel;
}

/** The queue names a selector picks, given the queues that exist (only read when the selector is not pinned). */
export async function selectQueues(sel: QueueSelector, known: () => Promise<string[]>): Promise<string[]> {
  if (sel.none) return [];
  const base = sel.only ? [...sel.only].sort() : await known();
  return base.filter((n) => !sel.except.has(n));
}
