/**
 * Ctrl-C or SIGTERM during a lab run must not leave worker processes or the lab's redis-server behind
 * (a terminal's Ctrl-C reaches the whole process group, a plain `kill <pid>` only the lab): cleanups
 * registered here run on the first signal, then the process exits 130.
 */
type Cleanup = () => Promise<unknown> | unknown;

const cleanups = new Set<Cleanup>();
let installed = false;

async function onSignal(): Promise<void> {
  process.stderr.write('kq lab: interrupted, stopping workers and Redis\n');
  for (const c of [...cleanups].reverse()) await Promise.resolve(c()).catch(() => undefined);
  process.exit(130);
}

/** Registers `cleanup` until the returned function is called. @example const done = onInterrupt(() => runner.close()); */
export function onInterrupt(cleanup: Cleanup): () => void {
  if (!installed) {
    installed = true;
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
