// Unit tests: the handler runs as kq's worker runs it (schema, signal, progress, log), without Redis.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runJob, ValidationError } from 'kq';
import { report } from '../src/jobs.js';

test('report sums a month of usage and reports progress', async () => {
  const run = await runJob(report, { customerId: 'acme', month: '2026-11' });
  assert.equal(run.result.days, 30);
  assert.equal(run.result.customerId, 'acme');
  assert.ok(run.result.total > 0);
  assert.deepEqual(run.progress, [33, 67, 100]);
  assert.equal(run.logs.at(-1)?.msg, 'report done');
});

test('report refuses a month that is not YYYY-MM', async () => {
  await assert.rejects(runJob(report, { customerId: 'acme', month: 'November' }), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.match(err.message, /data\.month: must be YYYY-MM/);
    return true;
  });
});

test('report stops when its signal fires', async () => {
  const controller = new AbortController();
  controller.abort('cancelled by the test');
  await assert.rejects(
    runJob(report, { customerId: 'acme', month: '2026-11' }, { signal: controller.signal }),
    /cancelled by the test/,
  );
});
