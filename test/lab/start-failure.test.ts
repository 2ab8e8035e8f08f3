/**
 * A lab worker that exits at start (here: a flag `kq worker` refuses; from an installed kq before the
 * fix: a module missing from the package) is reported with its own output, so the run can stop with it
 * instead of playing on and counting every job as lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { createClock } from '../../src/lab/clock.js';
import { createPodRunner, REDIS_UNREACHABLE, type StartFailure } from '../../src/lab/pod-runner.js';
import { waitFor } from '../helpers/wait.js';

it('a container that exits non-zero before worker.started is reported with its output', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kq-lab-start-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const failures: StartFailure[] = [];
  const runner = createPodRunner({
    clock: createClock(1000),
    // Never reached: the worker refuses its arguments before it connects.
    redisUrl: 'redis://127.0.0.1:1',
    ledgerFile: join(dir, 'ledger.txt'),
    startLatencyMs: 0,
    nodeStartMs: 0,
    onStartFailure: (f) => failures.push(f),
  });
  onTestFinished(() => runner.close());
  const pod = runner.create(
    'deployment',
    {
      restartPolicy: 'Never',
      containers: [
        { name: 'worker', args: ['worker', '--no-such-flag'], env: [{ name: 'QUEUE', value: 'x' }] },
      ],
    },
    {},
  );
  await waitFor('the worker to exit', () => pod.endedAt !== undefined, { timeoutMs: 30_000, intervalMs: 20 });
  expect(pod.phase).toBe('Failed');
  expect(failures).toHaveLength(1);
  expect(failures[0]?.pod).toBe(pod.name);
  expect(failures[0]?.exit).toBe('2');
  expect(failures[0]?.output).toMatch(/Unknown option --no-such-flag/);
});

it('a pod that exits because Redis did not answer is a fault the lab plays, not a start failure', () => {
  // A keda-scaledjob sweeper pod (kq sweep) on a Redis too slow to answer, as seen on a loaded machine.
  const sweeper =
    'kq sweep: Command timed out\n    at Timeout._onTimeout (node_modules/ioredis/built/Command.js)';
  for (const output of [
    sweeper,
    'connect ECONNREFUSED 127.0.0.1:6379',
    'LOADING Redis is loading the dataset',
  ])
    expect(output).toMatch(REDIS_UNREACHABLE);
  expect('Unknown option --no-such-flag').not.toMatch(REDIS_UNREACHABLE);
});
