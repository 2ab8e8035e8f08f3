/** Trigger metadata, in-process: every mistake is a ValidationError (INVALID_METADATA) naming key, value and rule. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { parseTriggerMetadata } from '../../src/keda-scaler/metadata.js';

function error(md: Record<string, string> | null | undefined): ValidationError {
  try {
    parseTriggerMetadata(md);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error(`accepted ${JSON.stringify(md)}`);
}

describe('parseTriggerMetadata', () => {
  it('defaults, KEDA’s own keys passed through, <key>FromEnv, numbers', () => {
    expect(parseTriggerMetadata({ queue: 'jobs' })).toEqual({
      queue: 'jobs',
      prefix: 'bull',
      metric: 'backlog',
      targetPerWorker: 1,
    });
    expect(
      parseTriggerMetadata({
        queueFromEnv: 'emails',
        prefix: '{kq}',
        metric: 'oldestWaitingSeconds',
        targetPerWorker: ' 2.5 ',
        scalerAddress: 'kq-keda-scaler:6000',
        enableTLS: 'true',
      }),
    ).toEqual({ queue: 'emails', prefix: '{kq}', metric: 'oldestWaitingSeconds', targetPerWorker: 2.5 });
    // An empty optional key means its default.
    expect(parseTriggerMetadata({ queue: 'q', prefix: '', metric: '', targetPerWorker: '' })).toEqual({
      queue: 'q',
      prefix: 'bull',
      metric: 'backlog',
      targetPerWorker: 1,
    });
  });

  it('names the key, the value and the rule, with code INVALID_METADATA and the key in details', () => {
    const cases: [Record<string, string> | null, string, string][] = [
      [
        null,
        'queue',
        'trigger metadata queue (missing) is required: the BullMQ queue name, e.g. queue: "jobs"',
      ],
      [
        { queue: '' },
        'queue',
        'trigger metadata queue ("") is required: the BullMQ queue name, e.g. queue: "jobs"',
      ],
      [
        { queue: 'has space' },
        'queue',
        'trigger metadata queue ("has space") must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
      ],
      [
        { queue: 'q', prefix: 'a b' },
        'prefix',
        'trigger metadata prefix ("a b") must be 1-50 letters, digits, "_", "-", ".", "{" or "}"',
      ],
      [
        { queue: 'q', metric: 'cpu' },
        'metric',
        'trigger metadata metric ("cpu") must be one of backlog, oldestWaitingSeconds',
      ],
      ...['0', 'lots', '-1', '1000001', '1e3'].map((v): [Record<string, string>, string, string] => [
        { queue: 'q', targetPerWorker: v },
        'targetPerWorker',
        `trigger metadata targetPerWorker (${JSON.stringify(v)}) must be a number above 0 and at most 1000000, e.g. "5"`,
      ]),
      [
        { queue: 'q', targetPerWoker: '5' },
        'targetPerWoker',
        'trigger metadata targetPerWoker ("5") is not a kq scaler key: use queue, prefix, metric, targetPerWorker (or <key>FromEnv)',
      ],
      [
        { queue: 'q', queueFromEnv: 'r' },
        'queueFromEnv',
        'trigger metadata queueFromEnv ("r") conflicts with queue: give one of them',
      ],
      // The first broken key in order: queue before prefix before metric before targetPerWorker.
      [{ queue: 'a b', metric: 'cpu' }, 'queue', 'trigger metadata queue ("a b") must be 1-100'],
      [{ queue: 'q', metric: 'cpu', targetPerWorker: '0' }, 'metric', 'trigger metadata metric ("cpu")'],
    ];
    for (const [md, key, message] of cases) {
      const e = error(md);
      expect(e.message, JSON.stringify(md)).toContain(message);
      expect(e.code).toBe('INVALID_METADATA');
      expect(e.details).toEqual({ key });
    }
  });
});
