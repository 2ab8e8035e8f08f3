/**
 * The Job deadline reaches the worker: every approach whose worker pods run in Jobs with
 * `activeDeadlineSeconds` gives their workers the same value as ACTIVE_DEADLINE_SECONDS (the worker then
 * fails a running attempt before the deadline, test/worker/pod-deadline.test.ts), and `kq manifests
 * --handlers` refuses a job type whose timeout is unset or not below that deadline.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEADLINE_APPROACHES } from '../../src/k8s/job-deadline.js';
import { APPROACH_NAMES } from '../../src/k8s/render.js';
import { CLI } from '../helpers/kq-process.js';
import { type K8sObject, render, TWO_QUEUE_HANDLERS } from './manifest-fixture.js';

const TIMED = resolve(import.meta.dirname, '../fixtures/timed-handlers.mjs');

/** The Job specs an object makes (CronJob's template, ScaledJob's jobTargetRef, a Job). */
function jobSpecsOf(obj: K8sObject): Record<string, unknown>[] {
  // biome-ignore lint/suspicious/noExplicitAny: walking untyped JSON of several kinds
  const spec = obj.spec as Record<string, any> | undefined;
  if (obj.kind === 'CronJob') return [spec?.jobTemplate?.spec];
  if (obj.kind === 'ScaledJob') return [spec?.jobTargetRef];
  if (obj.kind === 'Job') return [spec as Record<string, unknown>];
  return [];
}

function manifests(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'manifests', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the Job deadline reaches the worker', () => {
  for (const approach of APPROACH_NAMES) {
    it(`${approach}: ACTIVE_DEADLINE_SECONDS on every worker of a Job with activeDeadlineSeconds`, () => {
      const objects = render(approach, ['--job-deadline-seconds', '900']);
      const jobs = objects.flatMap(jobSpecsOf).filter((s) => s?.activeDeadlineSeconds !== undefined);
      expect(jobs.length > 0, 'sets activeDeadlineSeconds').toBe(DEADLINE_APPROACHES.includes(approach));
      for (const job of jobs) {
        expect(job.activeDeadlineSeconds).toBe(900);
        // biome-ignore lint/suspicious/noExplicitAny: untyped JSON
        const containers = (job as any).template.spec.containers as {
          name: string;
          env: { name: string; value?: string }[];
        }[];
        const worker = containers.find((c) => c.name === 'worker');
        // The keda-scaledjob sweeper runs `kq sweep`, which moves jobs but runs none: no attempt to fail.
        if (!worker) {
          expect(containers.map((c) => c.name)).toEqual(['sweep']);
          continue;
        }
        expect(worker.env.find((e) => e.name === 'ACTIVE_DEADLINE_SECONDS')?.value).toBe('900');
      }
      // And nowhere else: a Deployment's worker has no deadline.
      if (!DEADLINE_APPROACHES.includes(approach))
        expect(JSON.stringify(objects)).not.toContain('ACTIVE_DEADLINE_SECONDS');
    });
  }
});

describe('kq manifests --handlers refuses a timeout not below the Job deadline', () => {
  it('an unset timeout: exit 2 naming the approach, the type and both values', () => {
    for (const approach of DEADLINE_APPROACHES) {
      const r = manifests(approach, '--handlers', TWO_QUEUE_HANDLERS);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(
        `kq manifests ${approach}: job type "invoice" has timeoutMs unset (no timeout), but ${approach}'s Jobs stop at --job-deadline-seconds 3600 (activeDeadlineSeconds, 3600000 ms)`,
      );
      expect(r.out).toBe('');
    }
    // Approaches without a Job deadline take the same module.
    expect(manifests('deployment', '--handlers', TWO_QUEUE_HANDLERS).code).toBe(0);
  });

  it('a timeout equal to the deadline is refused; below it, accepted', () => {
    const equal = manifests('keda-scaledjob', '--handlers', TIMED, '--job-deadline-seconds', '600');
    expect(equal.code, equal.err).toBe(2);
    expect(equal.err).toContain(
      `kq manifests keda-scaledjob: job type "report" has timeoutMs 600000, but keda-scaledjob's Jobs stop at --job-deadline-seconds 600 (activeDeadlineSeconds, 600000 ms): such a job would end only by the deadline. Set its options.timeoutMs below 600000 (defineJob), or raise --job-deadline-seconds above 600.`,
    );
    const below = manifests('keda-scaledjob', '--handlers', TIMED, '--job-deadline-seconds', '601');
    expect(below.code, below.err).toBe(0);
    expect(below.out).toContain('name: ACTIVE_DEADLINE_SECONDS\n');
    const all = manifests('all', '--handlers', TWO_QUEUE_HANDLERS, '--out-dir', '/nonexistent-kq-out');
    expect(all.code).toBe(2);
    expect(all.err).toContain('kq manifests cronjob: job type "invoice"');
  });
});
