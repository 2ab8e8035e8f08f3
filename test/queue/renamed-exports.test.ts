/**
 * Names renamed for one meaning each (issue 28) stay importable under their old names, as deprecated
 * aliases of the new ones: a library user's code keeps compiling and behaving the same.
 */
import { describe, expect, it } from 'vitest';
import * as kq from '../../src/index.js';

describe('deprecated aliases of renamed exports', () => {
  it('createQueueRegistry is createQueueCache', () => {
    expect(kq.createQueueRegistry).toBe(kq.createQueueCache);
  });

  it('registryKeys is directoryKeys, naming the same Redis key', () => {
    expect(kq.registryKeys).toBe(kq.directoryKeys);
    expect(kq.directoryKeys('bull').queues).toBe('bull:kq:queues');
  });
});
