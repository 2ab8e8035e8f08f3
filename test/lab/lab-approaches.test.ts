/**
 * What the lab reads from each approach's rendered objects: every approach builds a controller, the
 * hpa-prometheus scrape config is found in its Secret, and a ScaledJob pod's K8S_JOB_NAME fieldRef is
 * the played Job's name.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import { describe, expect, it } from 'vitest';
import { SCRAPE_SECRET } from '../../src/k8s/approaches/hpa-prometheus.js';
import { APPROACH_NAMES } from '../../src/k8s/render.js';
import { createClock } from '../../src/lab/clock.js';
import { buildController } from '../../src/lab/controllers/approaches.js';
import type { QueueSource } from '../../src/lab/controllers/controller.js';
import { renderedScrapeInterval } from '../../src/lab/controllers/external-hpa.js';
import { JOB_NAME_LABEL } from '../../src/lab/controllers/job.js';
import type { RenderedObject } from '../../src/lab/controllers/objects.js';
import { createPodRunner } from '../../src/lab/pod-runner.js';
import { approachTailMs, renderForLab } from '../../src/lab/run-approach.js';
import { workerEnv } from '../../src/lab/worker-env.js';
import { manifestOptions } from '../k8s/manifest-fixture.js';

// Building a controller reads nothing: a source with an empty queue is enough.
const source: QueueSource = {
  keyLength: async () => 0,
  backlog: async () => 0,
  runnableBacklog: async () => ({ runnableAndRunning: 0, known: false }),
};
const deps = { source, prefix: 'bull', scrapeIntervalMs: 30_000, adapterCacheMs: 5_000 };

describe('kq lab: the approaches it plays', () => {
  it('builds a controller for every approach kq renders; its tail is the one read from the objects', async () => {
    expect(APPROACH_NAMES).toHaveLength(8);
    const clock = createClock(1);
    // A real runner: building a controller starts no pod, and close() proves none was left.
    const runner = createPodRunner({
      clock,
      redisUrl: 'redis://127.0.0.1:1',
      ledgerFile: '/dev/null',
      startLatencyMs: 0,
      nodeStartMs: 0,
    });
    try {
      for (const name of APPROACH_NAMES) {
        const objects = renderForLab(name, manifestOptions(), 'lab');
        const built = buildController(name, objects, { ...deps, runner, clock, queue: 'lab' });
        expect(approachTailMs(name, manifestOptions()), name).toBe(built.tailMs);
        expect(built.tailMs, name).toBeGreaterThanOrEqual(0);
      }
      expect(runner.pods).toEqual([]);
    } finally {
      await runner.close();
    }
    // keda-scaledjob plays its sweeper too: one scheduled run after the last job (60 s) + grace.
    expect(approachTailMs('keda-scaledjob', manifestOptions())).toBeGreaterThanOrEqual(60_000);
    expect(approachTailMs('deployment', manifestOptions())).toBe(0);
  });

  it('finds the hpa-prometheus scrape config in its Secret and reads scrape_interval when set', () => {
    const objects = renderForLab('hpa-prometheus', manifestOptions(), 'lab');
    // As rendered the job sets no interval: Prometheus's global one (the lab's option) applies.
    expect(renderedScrapeInterval(objects)).toBeUndefined();
    const withInterval = objects.map((o) => {
      const s = o as RenderedObject & { stringData?: Record<string, string> };
      if (o.kind !== 'Secret' || o.metadata?.name !== SCRAPE_SECRET.name) return o;
      const text = s.stringData?.[SCRAPE_SECRET.key] ?? '';
      return {
        ...s,
        stringData: {
          [SCRAPE_SECRET.key]: text.replace('- job_name:', '- scrape_interval: 15s\n  job_name:'),
        },
      };
    });
    expect(renderedScrapeInterval(withInterval)).toBe(15_000);
    const asData = withInterval.map((o) => {
      const s = o as RenderedObject & { stringData?: Record<string, string> };
      if (!s.stringData) return o;
      const text = s.stringData[SCRAPE_SECRET.key] ?? '';
      return {
        ...s,
        stringData: undefined,
        data: { [SCRAPE_SECRET.key]: Buffer.from(text).toString('base64') },
      };
    });
    expect(renderedScrapeInterval(asData)).toBe(15_000);
    expect(() => renderedScrapeInterval(objects.filter((o) => o.kind !== 'Secret'))).toThrow(
      /no Secret kq-prometheus-scrape with key kq-scrape.yaml/,
    );
  });

  it("resolves a ScaledJob pod's K8S_JOB_NAME fieldRef to its Job's name; an unknown fieldRef is an error", () => {
    for (const name of ['keda-scaledjob', 'keda-external-job'] as const) {
      const sj = renderForLab(name, manifestOptions(), 'lab').find(
        (o) => o.kind === 'ScaledJob',
      ) as unknown as {
        spec: { jobTargetRef: { template: { spec: { containers: IContainer[] } } } };
      };
      const container = sj.spec.jobTargetRef.template.spec.containers[0] as IContainer;
      const o = { redisUrl: 'redis://127.0.0.1:1', speed: 10, ledgerFile: '/tmp/x' };
      const env = workerEnv(container, {
        ...o,
        pod: { name: 'sj-3-0', labels: { [JOB_NAME_LABEL]: 'sj-3' } },
      });
      expect(env.K8S_JOB_NAME, name).toBe('sj-3');
      expect(env.MAX_JOBS, name).toBe('1');
      // The Job's 3600 s deadline, in workload time: a tenth of it at speed 10.
      expect(env.ACTIVE_DEADLINE_SECONDS, name).toBe('360');
      expect(() => workerEnv(container, { ...o, pod: { name: 'p-0', labels: {} } }), name).toThrow(
        /env K8S_JOB_NAME reads fieldRef "metadata.labels\['batch.kubernetes.io\/job-name'\]", which the lab cannot resolve for pod p-0/,
      );
    }
  });
});
