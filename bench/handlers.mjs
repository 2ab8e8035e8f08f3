// kq job types for the benchmarks, loaded by `kq worker` through HANDLERS. `noop` does nothing; `order`
// has a real schema (what ingest posts); `stamp`
// writes the time its handler started to fd 3 (a pipe the bench opens), for the latency and cold-start
// scenarios: the same line the baseline worker script writes. Logs on stdout go to /dev/null.
import { writeSync } from 'node:fs';

// The same build as the CLI that loads this module (KQ_DIST, see procs.mjs), as a user's
// `import { defineJob, z } from 'kq'` (zod from kq's bundle, as docs/worker.md recommends).
const { defineJob, z } = await import(
  new URL('index.js', `file://${process.env.KQ_DIST ?? new URL('../dist', import.meta.url).pathname}/`).href
);

export const noop = defineJob({
  name: 'noop',
  schema: z.unknown(),
  handler: () => null,
});

/** A job type with a real schema, so the ingest benchmark pays for validation as a user's API would. */
export const order = defineJob({
  name: 'order',
  schema: z.object({
    customerId: z.string().min(1).max(64),
    sku: z.string().regex(/^[A-Z0-9-]{3,32}$/),
    quantity: z.number().int().min(1).max(1000),
    note: z.string().max(500).optional(),
  }),
  handler: () => null,
});

export const stamp = defineJob({
  name: 'stamp',
  schema: z.object({ t: z.number() }).passthrough(),
  handler: ({ data }) => {
    const now = performance.timeOrigin + performance.now();
    writeSync(3, `BENCH ${JSON.stringify({ sent: data.t, started: now })}\n`);
    return null;
  },
});
