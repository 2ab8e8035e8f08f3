/**
 * The real engine ticks its controllers a few ms late by varying amounts (a wall-clock loop on a busy
 * machine); the model ticks them on time. Both must take the same decisions at the same times: a scale
 * event is a whole HPA sync period old at the next sync, and a cooldown counted from the last active poll
 * ends at a poll, as in a cluster, not a few ms short of one because the earlier tick came later.
 */
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/config.js';
import type { ApproachName } from '../../src/k8s/render.js';
import { buildController } from '../../src/lab/controllers/approaches.js';
import { every, type QueueSource } from '../../src/lab/controllers/controller.js';
import { labOptionSpecs } from '../../src/lab/options.js';
import { type LabPod, newLabPod, type PodRunner } from '../../src/lab/pod-runner.js';
import { renderForLab } from '../../src/lab/run-approach.js';
import { labManifest } from '../../src/lab/run-lab.js';

function stubRunner(): PodRunner {
  const pods: LabPod[] = [];
  let seq = 0;
  return {
    pods,
    create(owner, spec, labels = {}) {
      const pod = newLabPod(`${owner}-${seq++}`, owner, labels, 0, spec);
      pods.push(pod);
      return pod;
    },
    terminate(pod) {
      pod.terminating = true;
      pod.endedAt = 0;
    },
    kill: () => false,
    liveProcesses: () => 0,
    active: () => pods.filter((p) => p.endedAt === undefined),
    close: async () => undefined,
  };
}

/**
 * Plays `name` against a backlog of 6 for the first 40 s, then 0, ticking every 100 ms plus `late(t)`;
 * returns the replicas the controller asked for after each tick, each change with the tick's nominal time.
 */
async function play(name: ApproachName, late: (t: number) => number): Promise<[number, number][]> {
  let now = 0;
  const backlog = () => (now < 40_000 ? 6 : 0);
  const source: QueueSource = {
    keyLength: async () => backlog(),
    backlog: async () => backlog(),
    runnableBacklog: async () => ({ runnableAndRunning: backlog(), known: true }),
  };
  const manifest = labManifest(parseOptions(labOptionSpecs, [], {}).values);
  const c = buildController(name, renderForLab(name, manifest, 'q'), {
    runner: stubRunner(),
    clock: { speed: 1, now: () => now, toWall: (ms) => ms, toWorkload: (ms) => ms, at: (t) => t, start() {} },
    source,
    prefix: 'bull',
    queue: 'q',
    scrapeIntervalMs: 30_000,
    adapterCacheMs: 1000,
  });
  c.atRest();
  const changes: [number, number][] = [];
  for (let t = 0; t <= 400_000; t += 100) {
    now = t + late(t);
    await c.tick(now);
    const replicas = c.stats().replicas as number;
    if (replicas !== changes.at(-1)?.[1]) changes.push([t, replicas]);
  }
  return changes;
}

// The ticks that take the first decisions come 19 ms late, the ones a period later 1 ms late: timed at
// the ticks, the scale-up at 0 s would still be within the 15 s policy period at the 15 s sync, and the
// last activity at 30 s less than the 300 s cooldown old at the 330 s poll.
const uneven = (t: number) => (t === 0 || t === 30_000 ? 19 : 1);

describe('controllers on late ticks', () => {
  it('every() answers the period time, whatever the tick', () => {
    const poll = every(15_000);
    expect([3, 14_000, 15_001, 29_999, 30_019, 61_000].map(poll)).toEqual([
      0,
      undefined,
      15_000,
      undefined,
      30_000,
      61_000,
    ]);
  });

  it('keda-external: 5 then 6 pods within 15 s, and zero at the 330 s poll, on time or late', async () => {
    const onTime = await play('keda-external', () => 0);
    expect(onTime).toEqual([
      [0, 5],
      [15_000, 6],
      [330_000, 0],
    ]);
    expect(await play('keda-external', uneven)).toEqual(onTime);
  });

  it('hpa-adapter: from 1 to 5 then 6 pods within 15 s, on time or late', async () => {
    const onTime = await play('hpa-adapter', () => 0);
    expect(onTime.slice(0, 2)).toEqual([
      [0, 5],
      [15_000, 6],
    ]);
    expect(await play('hpa-adapter', uneven)).toEqual(onTime);
  });
});
