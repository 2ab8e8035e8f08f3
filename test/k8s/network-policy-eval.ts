/**
 * NetworkPolicy evaluated as the API documents it, for the reachability tests: a connection from pod A to
 * port P of pod B is allowed when B's Ingress side and A's Egress side both allow it. A side with no
 * policy selecting the pod (for that policy type) allows everything; otherwise one rule of one selecting
 * policy must match the peer (namespaceSelector AND podSelector within one peer; a podSelector alone
 * means the policy's own namespace) and the port (number, named container port, or range; TCP unless
 * stated). A host-network source (the kube-apiserver) is not a pod to selectors: only a rule without
 * `from` admits it. ipBlock peers are not modelled: the evaluator refuses them rather than guess.
 */
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';

export type Labels = Record<string, string>;
type Selector = NonNullable<INetworkPolicyPeer['podSelector']>;

export interface Pod {
  /** For messages only. */
  name: string;
  namespace: string;
  labels: Labels;
  /** Container ports, by number and (optional) name. */
  ports: { port: number; name?: string; protocol?: string }[];
  /** A host-network process (not selectable by pod or namespace selectors). */
  hostNetwork?: boolean;
}

/** A NetworkPolicy as rendered: its namespace is part of what it means. */
export type Policy = INetworkPolicy & { metadata: { namespace?: string; name?: string } };

/** Namespace labels as the API server sets them (kubernetes.io/metadata.name, since 1.21). */
export const namespaceLabels = (ns: string): Labels => ({ 'kubernetes.io/metadata.name': ns });

/** Label selector semantics: matchLabels AND every matchExpression; `{}` selects everything. */
export function selects(selector: Selector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key] as string);
    const ok =
      e.operator === 'In'
        ? inValues
        : e.operator === 'NotIn'
          ? !inValues
          : e.operator === 'Exists'
            ? has
            : e.operator === 'DoesNotExist'
              ? !has
              : unsupported(`matchExpressions operator ${e.operator}`);
    if (!ok) return false;
  }
  return true;
}

function unsupported(what: string): never {
  throw new Error(`network-policy-eval: ${what} is not modelled; extend the evaluator`);
}

function peerMatches(peer: INetworkPolicyPeer, policyNs: string, pod: Pod): boolean {
  if (peer.ipBlock) unsupported('an ipBlock peer');
  if (pod.hostNetwork) return false;
  const nsOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, namespaceLabels(pod.namespace))
    : pod.namespace === policyNs;
  return nsOk && (peer.podSelector ? selects(peer.podSelector, pod.labels) : true);
}

function portMatches(ports: INetworkPolicyPort[] | undefined, dst: Pod, port: number, protocol: string) {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') {
      return dst.ports.some(
        (c) => c.name === p.port && c.port === port && (c.protocol ?? 'TCP') === protocol,
      );
    }
    return p.endPort === undefined ? p.port === port : port >= p.port && port <= p.endPort;
  });
}

/** Policy types as the API defaults them: Ingress always, Egress when egress rules are given. */
function types(p: Policy): string[] {
  return p.spec?.policyTypes ?? (p.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

function selecting(policies: Policy[], pod: Pod, type: 'Ingress' | 'Egress'): Policy[] {
  if (pod.hostNetwork) return [];
  return policies.filter(
    (p) =>
      (p.metadata.namespace ?? 'default') === pod.namespace &&
      types(p).includes(type) &&
      selects(p.spec?.podSelector ?? {}, pod.labels),
  );
}

/** Whether any policy selects `pod` for incoming traffic (otherwise all of it is allowed). */
export const isolatedForIngress = (policies: Policy[], pod: Pod): boolean =>
  selecting(policies, pod, 'Ingress').length > 0;

/** Whether `src` may open a connection to `port` of `dst`. */
export function allowed(policies: Policy[], src: Pod, dst: Pod, port: number, protocol = 'TCP'): boolean {
  const ingress = selecting(policies, dst, 'Ingress');
  const inOk =
    ingress.length === 0 ||
    ingress.some((p) =>
      (p.spec?.ingress ?? []).some(
        (rule) =>
          (!rule.from ||
            rule.from.length === 0 ||
            rule.from.some((peer) => peerMatches(peer, dst.namespace, src))) &&
          portMatches(rule.ports, dst, port, protocol),
      ),
    );
  if (!inOk) return false;
  const egress = selecting(policies, src, 'Egress');
  return (
    egress.length === 0 ||
    egress.some((p) =>
      (p.spec?.egress ?? []).some(
        (rule) =>
          (!rule.to ||
            rule.to.length === 0 ||
            rule.to.some((peer) => peerMatches(peer, src.namespace, dst))) &&
          portMatches(rule.ports, dst, port, protocol),
      ),
    )
  );
}
