/** The label selector grammar the HPA and kubectl send, reduced to kq's single `queue` label. */
import { describe, expect, it } from 'vitest';
import { parseQueueSelector, SelectorError, selectQueues } from '../../src/metrics/adapter/label-selector.js';

const known = async () => ['a', 'b', 'c'];
const pick = async (text: string | null) => selectQueues(parseQueueSelector(text), known);

describe('parseQueueSelector', () => {
  it('selects like Kubernetes: =, ==, in, !=, notin, exists, !exists, combined with ","', async () => {
    expect(await pick(null)).toEqual(['a', 'b', 'c']);
    expect(await pick('')).toEqual(['a', 'b', 'c']);
    expect(await pick('queue=b')).toEqual(['b']);
    expect(await pick(' queue == b ')).toEqual(['b']);
    expect(await pick('queue=unknown')).toEqual(['unknown']);
    expect(await pick('queue in (c, a,x)')).toEqual(['a', 'c', 'x']);
    expect(await pick('queue in (a,b),queue notin (b)')).toEqual(['a']);
    expect(await pick('queue!=a')).toEqual(['b', 'c']);
    expect(await pick('queue notin (a,c)')).toEqual(['b']);
    expect(await pick('queue')).toEqual(['a', 'b', 'c']);
    expect(await pick('!queue')).toEqual([]);
    expect(await pick('queue=a,queue=b')).toEqual([]);
    expect(await pick('queue=jobs.v2_x-1')).toEqual(['jobs.v2_x-1']);
  });

  it('does not list queues when the selector pins the names', async () => {
    let listed = false;
    await selectQueues(parseQueueSelector('queue in (a,b)'), async () => {
      listed = true;
      return [];
    });
    expect(listed).toBe(false);
  });

  it.each([
    ['queue=', /queue value ""/],
    ['queue=-a', /queue value "-a"/],
    ['queue in (a', /expected "," or "\)"/],
    ['queue in ()', /queue value/],
    ['queue in a', /expected "\("/],
    ['env=prod', /label "env" is not supported/],
    ['app.kubernetes.io/name=kq', /is not supported/],
    ['queue>3', /unsupported operator ">"/],
    ['queue=a,', /trailing ","/],
    ['queue=a b', /expected "," between requirements/],
    [',queue=a', /expected a label key/],
    ['queue=a;', /expected "," between requirements/],
  ])('rejects %j', (text, message) => {
    expect(() => parseQueueSelector(text)).toThrow(SelectorError);
    expect(() => parseQueueSelector(text)).toThrow(message);
  });
});
