/**
 * The Kubernetes objects the adapter answers with, built to the shapes of the API reference:
 * `Status` (meta/v1) for every error, discovery (`APIGroupList`, `APIGroup`, `APIResourceList`) and
 * `ExternalMetricValueList` (external.metrics.k8s.io/v1beta1).
 */
export const GROUP = 'external.metrics.k8s.io';
export const VERSION = 'v1beta1';
export const GROUP_VERSION = `${GROUP}/${VERSION}`;

/** The metrics kq serves, and which counts each one adds up. */
export const METRICS = {
  /** waiting + prioritized + active: what still needs a worker (the number to scale on). */
  kq_queue_backlog: ['waiting', 'prioritized', 'active'],
  /** waiting + prioritized: jobs no worker has taken yet (delayed jobs are not due, so not counted). */
  kq_queue_waiting: ['waiting', 'prioritized'],
  /** jobs running now. */
  kq_queue_active: ['active'],
} as const satisfies Record<string, readonly ('waiting' | 'prioritized' | 'active')[]>;

export type MetricName = keyof typeof METRICS;

export const isMetricName = (name: string): name is MetricName => Object.hasOwn(METRICS, name);

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'ServiceUnavailable'
  | 'InternalError';

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: StatusReason;
  code: number;
  details?: { name?: string; group?: string; kind?: string };
}

/** @example status(404, 'NotFound', 'no such metric') */
export function status(
  code: number,
  reason: StatusReason,
  message: string,
  details?: KubeStatus['details'],
): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
    ...(details ? { details } : {}),
  };
}

const groupVersion = { groupVersion: GROUP_VERSION, version: VERSION };

export function apiGroup() {
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: GROUP,
    versions: [groupVersion],
    preferredVersion: groupVersion,
  };
}

export function apiGroupList() {
  const { kind: _kind, apiVersion: _apiVersion, ...group } = apiGroup();
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [group] };
}

/** Discovery of the version: one namespaced, get-only resource per metric, as custom-metrics-apiserver does. */
export function apiResourceList() {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GROUP_VERSION,
    resources: Object.keys(METRICS).map((name) => ({
      name,
      singularName: '',
      namespaced: true,
      kind: 'ExternalMetricValueList',
      verbs: ['get'],
    })),
  };
}

export interface MetricItem {
  /** Label set of the series; `{queue}` normally, `{}` for the placeholder when nothing matched. */
  labels: Record<string, string>;
  value: number;
  /** When the value was read from Redis (ms since epoch): a cached value keeps its read time. */
  readAt: number;
}

/** metav1.Time: RFC 3339 in UTC, whole seconds. */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Counts are whole and non-negative, so the decimal digits are already a canonical quantity. */
export function quantity(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a count: ${n}`);
  return String(n);
}

export function externalMetricValueList(metric: MetricName, items: MetricItem[]) {
  return {
    kind: 'ExternalMetricValueList',
    apiVersion: GROUP_VERSION,
    metadata: {},
    items: items.map((i) => ({
      metricName: metric,
      metricLabels: i.labels,
      timestamp: rfc3339(i.readAt),
      value: quantity(i.value),
    })),
  };
}
