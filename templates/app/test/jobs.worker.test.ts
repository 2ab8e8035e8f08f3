// Integration test: the job goes through a real kq worker and Redis (REDIS_URL, or a private
// redis-server the helper starts and stops), as it will in production.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestWorker, type TestWorker } from 'kq';
import { report } from '../src/jobs.js';

let worker: TestWorker;
before(async () => {
  worker = await createTestWorker({ jobs: [report] });
});
after(() => worker.close());

test('report runs through a real worker', async () => {
  const result = await worker.run('report', { customerId: 'acme', month: '2026-02' });
  assert.deepEqual(Object.keys(result as object).sort(), ['customerId', 'days', 'month', 'total']);
  assert.equal((result as { days: number }).days, 28);
});

test('an invalid payload is refused before it is stored, as the API refuses it', async () => {
  await assert.rejects(worker.run('report', { customerId: '' }), /Payload for job type "report" is invalid/);
});
