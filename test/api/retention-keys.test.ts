/**
 * Redis holds no more per job than BullMQ does: after jobs complete through the API and a real worker,
 * the keys left are BullMQ's retention (the job hashes its `removeOnComplete.count` keeps) and the
 * queue's own keys, the same set plain BullMQ leaves for the same jobs; nothing per job beyond.
 * 12,000 jobs here (past the 10,000 that default retention keeps); 20,000 in retention-keys-20k.test.ts.
 */
import { it } from 'vitest';
import { expectSameKeys, keysAfter } from './support/retention.js';

it('12,000 jobs leave BullMQ’s retention and the queue’s keys, as plain BullMQ does', async () => {
  expectSameKeys(await keysAfter(12_000));
});
