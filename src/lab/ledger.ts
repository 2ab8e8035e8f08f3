/** Reads the ledger the lab's handler writes (see lab-jobs.ts): one line per handler start, failure, end. */
import { existsSync, readFileSync } from 'node:fs';

export interface LedgerEntry {
  event: 'start' | 'done' | 'fail';
  id: string;
  attempt: number;
  pid: number;
  /** Wall epoch ms. */
  wallMs: number;
}

export function readLedger(file: string): LedgerEntry[] {
  if (!existsSync(file)) return [];
  const out: LedgerEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [event, id, attempt, pid, at] = line.split(' ');
    if ((event === 'start' || event === 'done' || event === 'fail') && id) {
      out.push({ event, id, attempt: Number(attempt), pid: Number(pid), wallMs: Number(at) });
    }
  }
  return out;
}
