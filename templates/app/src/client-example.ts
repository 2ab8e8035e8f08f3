/**
 * Sending work from an application with kq's typed client (`kq/client`: fetch only, so it also runs in
 * browsers and edge runtimes). `typeof jobs` types every call: a payload that `report`'s schema would
 * refuse does not compile. With `kq dev` running: `npm run build && node dist/client-example.js`
 * (KQ_URL and KQ_TOKEN for another API).
 */
import { createClient, KqClientError } from 'kq/client';
import type * as jobs from './jobs.js';

const kq = createClient<typeof jobs>({
  url: process.env.KQ_URL ?? 'http://127.0.0.1:8080',
  ...(process.env.KQ_TOKEN ? { token: process.env.KQ_TOKEN } : {}),
});

try {
  const id = await kq.enqueue('report', { customerId: 'acme', month: '2026-11' });
  const job = await kq.wait(id, { timeoutMs: 30_000 });
  console.log(JSON.stringify({ id, status: job.status, result: job.result }));
} catch (err) {
  if (!(err instanceof KqClientError)) throw err;
  console.error(`kq answered ${err.status} ${err.code}: ${err.message}`);
  process.exitCode = 1;
}
