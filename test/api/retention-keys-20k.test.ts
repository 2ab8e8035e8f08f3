/** Slow tier: the retention check of retention-keys.test.ts at the 20,000 jobs. */
import { it } from 'vitest';
import { expectSameKeys, keysAfter } from './support/retention.js';

it('20,000 jobs leave BullMQ’s retention and the queue’s keys, as plain BullMQ does', async () => {
  expectSameKeys(await keysAfter(20_000));
}, 180_000);
