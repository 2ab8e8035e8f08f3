/** A `kq lab` stopped by SIGTERM mid-run takes its worker processes and its redis-server with it. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pidAlive, spawnKq } from '../helpers/kq-process.js';
import { waitFor } from '../helpers/wait.js';

/** Pids whose parent is `ppid`, from /proc. */
function children(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
      const ppidField = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      if (Number(ppidField) === ppid) out.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

describe('kq lab: interrupted', () => {
  it('SIGTERM stops the workers and the private Redis, exit 130', async () => {
    const lab = spawnKq(
      ['lab', 'run', 'deployment', '--engine', 'real', '--workload', 'steady', '--speed', '5'],
      {},
    );
    const pid = lab.proc.pid as number;
    // The private redis-server and the Deployment's two workers.
    const kids = await waitFor(
      'three child processes',
      () => {
        const c = children(pid);
        return c.length >= 3 ? c : undefined;
      },
      { timeoutMs: 30_000 },
    );
    lab.kill('SIGTERM');
    const { code } = await lab.waitForExit(20_000);
    expect(code).toBe(130);
    expect(lab.output()).toContain('interrupted');
    await waitFor('children gone', () => (kids.some(pidAlive) ? undefined : true), { timeoutMs: 5000 });
    expect(kids.filter(pidAlive)).toEqual([]);
  }, 60_000);
});
