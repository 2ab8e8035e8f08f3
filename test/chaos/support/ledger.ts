/**
 * The chaos suite's own record of handler runs (written by test/fixtures/chaos-handlers.mjs to a Redis the
 * faults never touch), and the counts derived from it.
 */
import type { Redis } from 'ioredis';

export interface LedgerEntry {
  id: string;
  pid: number;
  at: number;
}

export interface Ledger {
  started: LedgerEntry[];
  done: LedgerEntry[];
}

const parse = (raw: string): LedgerEntry => {
  const [id = '', pid = '0', at = '0'] = raw.split('|');
  return { id, pid: Number(pid), at: Number(at) };
};

export async function readLedger(redis: Redis, queue: string): Promise<Ledger> {
  const [started, done] = await Promise.all([
    redis.lrange(`chaos:${queue}:started`, 0, -1),
    redis.lrange(`chaos:${queue}:done`, 0, -1),
  ]);
  return { started: started.map(parse), done: done.map(parse) };
}

export async function countDone(redis: Redis, queue: string): Promise<number> {
  return redis.llen(`chaos:${queue}:done`);
}

export async function clearLedger(redis: Redis, queue: string): Promise<void> {
  await redis.del(`chaos:${queue}:started`, `chaos:${queue}:done`);
}

/** Per job id: how many handler runs finished. */
export function doneCounts(ledger: Ledger): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of ledger.done) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
  return counts;
}

/** Ids that finished, and extra finishes beyond the first (at-least-once duplicates). */
export function completionStats(ledger: Ledger, ids: readonly string[]) {
  const counts = doneCounts(ledger);
  const missing = ids.filter((id) => !counts.has(id));
  let duplicates = 0;
  for (const n of counts.values()) duplicates += n - 1;
  return { finished: ids.length - missing.length, missing, duplicates };
}
