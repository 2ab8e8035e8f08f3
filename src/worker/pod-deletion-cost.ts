/**
 * Keeps this worker's pod annotation `controller.kubernetes.io/pod-deletion-cost` true, so that a
 * ReplicaSet scaling in (HPA, KEDA) deletes idle workers before busy ones.
 *
 * States: idle (cost 0, the lowest kq uses) and busy (at least one job running). A busy pod's cost encodes
 * when its busy period began, earlier = higher (`busyCost`): among busy pods the one that has worked the
 * longest goes last, and that order holds as time passes without another PATCH. The number of running
 * jobs is not in it: it changes with every job, and the API server asks not to be updated that often.
 *
 * Patching: at start (idle), then only when the pod turns idle <-> busy. Turning busy is sent at once: a
 * pod that just took a job must not stay the cheapest one to delete. Turning idle is sent at most once per
 * `intervalMs` after the previous PATCH: a change inside the interval waits for its end, and only the state
 * then is sent. So a worker flipping between short jobs sends at most two PATCHes per interval, and none
 * for an idle spell that ends before the interval does. One PATCH at a time; a change waits for the one in
 * flight.
 *
 * Best effort, never in the way: not in a cluster, no `POD_NAME`, a 401/403/404 (no Role, or the pod is
 * gone) turn it off for the life of the process; an unreachable or failing API server is retried after the
 * interval (at least 1 s). Each case is logged once; jobs run exactly as without it.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import {
  KubeHttpError,
  type KubeTarget,
  locateApiServer,
  patchPod,
  SERVICE_ACCOUNT_DIR,
} from './kube-client.js';

export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
export const IDLE_COST = 0;
const INT32_MAX = 2_147_483_647;
/** The start of 2020 in Unix seconds: busy costs counted from it stay a positive int32 for decades. */
const COST_EPOCH_S = 1_577_836_800;
/** Least wait before retrying a PATCH that failed, whatever `intervalMs` says: no tight retry loop. */
const RETRY_MIN_MS = 1000;

/**
 * The cost of a pod busy since `busySinceMs` (Unix ms): in [1, 2^31-1], higher for an earlier start.
 * @example busyCost(Date.parse('2026-01-01')) > busyCost(Date.parse('2026-01-02'))
 */
export function busyCost(busySinceMs: number): number {
  const s = Math.floor(busySinceMs / 1000) - COST_EPOCH_S;
  return Math.min(INT32_MAX, Math.max(1, INT32_MAX - s));
}

export interface PodDeletionCostOptions {
  /** `POD_DELETION_COST`: false = never patch. */
  enabled: boolean;
  /** `POD_NAME` (Downward API `metadata.name`). */
  podName: string;
  /** `POD_NAMESPACE`; empty = the service account's namespace file. */
  podNamespace: string;
  /** `KUBE_API_URL`; empty = the in-cluster API server. */
  kubeApiUrl: string;
  /** `POD_DELETION_COST_INTERVAL_MS`: least time between two PATCHes. */
  intervalMs: number;
  log: Logger;
  env?: Record<string, string | undefined>;
  serviceAccountDir?: string;
  /** Unix ms. @default Date.now */
  now?: () => number;
}

export interface PodDeletionCost {
  /** Tell it how many jobs run now; patches on idle <-> busy transitions. */
  update(running: number): void;
  /** Stops patching (pending PATCHes are dropped). */
  close(): void;
  /** Whether it still patches (false once turned off). */
  readonly active: boolean;
}

/** @example const cost = createPodDeletionCost({ ...options, log }); cost.update(processor.running.size); */
export function createPodDeletionCost(o: PodDeletionCostOptions): PodDeletionCost {
  const now = o.now ?? Date.now;
  const log = o.log.child({ component: 'pod-deletion-cost' });
  let target: KubeTarget | undefined;
  let namespace = o.podNamespace;
  let busySince: number | undefined;
  /** The state the API server has: undefined before the first PATCH succeeded. */
  let sentBusy: boolean | undefined;
  let lastPatchAt = Number.NEGATIVE_INFINITY;
  let retryAt = Number.NEGATIVE_INFINITY;
  let inFlight = false;
  let timer: NodeJS.Timeout | undefined;
  let active = false;
  let unreachableLogged = false;

  const off = (why: string) => {
    active = false;
    if (timer) clearTimeout(timer);
    log.info(
      { event: 'pod-deletion-cost.off', reason: why },
      `pod-deletion-cost off: ${why}; the worker runs as before, scale-in does not know which pods are busy`,
    );
  };

  function schedule() {
    if (!active || inFlight || timer) return;
    const busy = busySince !== undefined;
    if (busy === sentBusy) return;
    const at = Math.max(retryAt, busy ? Number.NEGATIVE_INFINITY : lastPatchAt + o.intervalMs);
    const wait = at - now();
    if (wait > 0) {
      timer = setTimeout(() => {
        timer = undefined;
        schedule();
      }, wait);
      timer.unref();
      return;
    }
    send(busySince === undefined ? IDLE_COST : busyCost(busySince), busy);
  }

  function send(cost: number, busy: boolean) {
    if (!target) return;
    inFlight = true;
    lastPatchAt = now();
    const patch = { metadata: { annotations: { [POD_DELETION_COST]: String(cost) } } };
    patchPod(target, namespace, o.podName, patch)
      .then(() => {
        sentBusy = busy;
        if (unreachableLogged)
          log.info({ event: 'pod-deletion-cost.reachable' }, 'API server reachable again');
        unreachableLogged = false;
        log.debug({ event: 'pod-deletion-cost.patched', cost }, `pod-deletion-cost ${cost}`);
      })
      .catch((err: Error) => {
        retryAt = now() + Math.max(o.intervalMs, RETRY_MIN_MS);
        if (err instanceof KubeHttpError && [401, 403, 404].includes(err.status)) {
          const hint =
            err.status === 404
              ? `pod ${namespace}/${o.podName} not found (POD_NAME / POD_NAMESPACE wrong?)`
              : 'no permission to patch its pod (a Role granting patch on pods, as kq manifests render)';
          off(`${hint}: ${err.message}`);
        } else if (!unreachableLogged) {
          unreachableLogged = true;
          log.warn(
            { event: 'pod-deletion-cost.unreachable', err: err.message },
            `pod-deletion-cost: cannot patch the pod (${err.message}); retrying every ${Math.max(o.intervalMs, RETRY_MIN_MS)} ms, the worker runs as before`,
          );
        }
      })
      .finally(() => {
        inFlight = false;
        schedule();
      });
  }

  if (!o.enabled) {
    log.debug({ event: 'pod-deletion-cost.off', reason: 'POD_DELETION_COST=0' });
  } else {
    const where = locateApiServer(o.env ?? process.env, {
      apiUrl: o.kubeApiUrl,
      serviceAccountDir: o.serviceAccountDir,
    });
    if (!namespace) {
      try {
        namespace = readFileSync(`${o.serviceAccountDir ?? SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim();
      } catch {}
    }
    if (!where.ok) off(where.why);
    else if (!o.podName) off('POD_NAME is unset (set it from the Downward API, metadata.name)');
    else if (!namespace) off('POD_NAMESPACE is unset and no service account namespace file');
    else {
      target = where.target;
      active = true;
      schedule();
    }
  }

  return {
    update(running) {
      if (running > 0) busySince ??= now();
      else busySince = undefined;
      schedule();
    },
    close() {
      active = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    get active() {
      return active;
    },
  };
}
