/**
 * Leak guard: anything a test opens through `track()` (connections, servers, child processes) must be
 * closed by the end of that test, or the test fails and the leftover is closed for it.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';

interface Tracked {
  name: string;
  isOpen(): boolean;
  close(): Promise<unknown> | unknown;
}

const open = new Set<Tracked>();

/** Registers a resource; returns it unchanged. */
export function track<T>(name: string, resource: T, isOpen: (r: T) => boolean, close: (r: T) => unknown): T {
  open.add({ name, isOpen: () => isOpen(resource), close: () => close(resource) });
  return resource;
}

export const trackProcess = (name: string, p: ChildProcess): ChildProcess =>
  track(
    name,
    p,
    (c) => c.exitCode === null && c.signalCode === null,
    (c) => c.kill('SIGKILL'),
  );

afterEach(async () => {
  // Give processes that were just told to stop a moment to do so.
  const deadline = Date.now() + 2000;
  while ([...open].some((t) => t.isOpen()) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 25));
  const leaked = [...open].filter((t) => t.isOpen());
  open.clear();
  for (const t of leaked) await t.close();
  if (leaked.length)
    throw new Error(`leak guard: the test left open: ${leaked.map((t) => t.name).join(', ')}`);
});
