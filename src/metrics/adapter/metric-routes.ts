/**
 * The adapter's routes: discovery documents and the metric values, as plain data (`Reply`), so the HTTPS
 * layer in server.ts only authenticates, serialises and logs.
 */
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  externalMetricValueList,
  GROUP,
  GROUP_VERSION,
  isMetricName,
  type KubeStatus,
  METRICS,
  type MetricItem,
  type MetricName,
  status,
} from './kube-objects.js';
import { parseQueueSelector, SelectorError, selectQueues } from './label-selector.js';
import type { QueueValues } from './queue-values.js';

const METRIC_PATH = /^\/apis\/external\.metrics\.k8s\.io\/v1beta1\/namespaces\/([^/]+)\/([^/]+)$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export type Reply = { code: number; body: unknown };
export const ok = (body: unknown): Reply => ({ code: 200, body });
export const fail = (s: KubeStatus): Reply => ({ code: s.code, body: s });

async function metricValues(
  values: QueueValues,
  metric: MetricName,
  selectorText: string | null,
): Promise<Reply> {
  let selector: ReturnType<typeof parseQueueSelector>;
  try {
    selector = parseQueueSelector(selectorText);
  } catch (err) {
    if (!(err instanceof SelectorError)) throw err;
    return fail(
      status(400, 'BadRequest', `invalid labelSelector ${JSON.stringify(selectorText)}: ${err.message}`),
    );
  }
  const queues = await selectQueues(selector, () => values.queueNames());
  const parts = METRICS[metric];
  const items: MetricItem[] = await Promise.all(
    queues.map(async (queue) => {
      const { counts, readAt } = await values.counts(queue);
      return { labels: { queue }, value: parts.reduce((sum, p) => sum + counts[p], 0), readAt };
    }),
  );
  // The HPA treats an empty list as an error: nothing selected means nothing to do, i.e. "0".
  if (!items.length) items.push({ labels: {}, value: 0, readAt: Date.now() });
  return ok(externalMetricValueList(metric, items));
}

/** Answers a GET on `url` (after authentication); rejects only with the errors of `values`. */
export async function route(url: URL, values: QueueValues): Promise<Reply> {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/apis') return ok(apiGroupList());
  if (path === `/apis/${GROUP}`) return ok(apiGroup());
  if (path === `/apis/${GROUP_VERSION}`) return ok(apiResourceList());
  const m = METRIC_PATH.exec(path);
  if (!m) return fail(status(404, 'NotFound', `the server could not find the requested resource ${path}`));
  const [, namespace = '', metric = ''] = m;
  if (!DNS_LABEL.test(namespace)) {
    return fail(status(400, 'BadRequest', `namespace ${JSON.stringify(namespace)} is not a valid DNS label`));
  }
  if (!isMetricName(metric)) {
    return fail(
      status(
        404,
        'NotFound',
        `metric ${JSON.stringify(metric)} is not served by kq; known metrics: ${Object.keys(METRICS).join(', ')}`,
        { name: metric, group: GROUP, kind: 'ExternalMetricValueList' },
      ),
    );
  }
  return metricValues(values, metric, url.searchParams.get('labelSelector'));
}
