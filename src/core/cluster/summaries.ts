/**
 * The rows the Clusters tree and `podpath cluster` show for a Node and a Pod, read
 * from the API objects without trusting any field to be there.
 */
import { arr, bool, obj, str, stringMap } from './objectFields';
import type { NodeSummary, PodSummary } from './types';

// providerID schemes whose usual name differs from the scheme; others are shown as written.
const PROVIDER_NAMES: Record<string, string> = {
  hcloud: 'hetzner',
  oci: 'oracle',
  alicloud: 'alibaba',
  equinixmetal: 'equinix-metal',
  packet: 'equinix-metal',
};

/**
 * The provider named by a node's `spec.providerID` (`kind://docker/c/n` → `kind`,
 * `aws:///eu-west-1a/i-…` → `aws`); an unfamiliar scheme is returned as written.
 */
export function providerFromId(providerId: string | null): string | null {
  if (providerId === null) return null;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(providerId.trim());
  if (!m?.[1]) return null;
  const scheme = m[1].toLowerCase();
  return PROVIDER_NAMES[scheme] ?? scheme;
}

/** Roles from `node-role.kubernetes.io/<role>` labels and the older `kubernetes.io/role`. */
function nodeRoles(labels: Record<string, string>): string[] {
  const roles = new Set<string>();
  for (const key of Object.keys(labels)) {
    const m = /^node-role\.kubernetes\.io\/(.+)$/.exec(key);
    if (m?.[1]) roles.add(m[1]);
  }
  const legacy = labels['kubernetes.io/role'];
  if (legacy) roles.add(legacy);
  return [...roles].sort();
}

/**
 * The Ready condition: True → true, False or Unknown → false (kubectl shows both as
 * NotReady), null when the node has no Ready condition at all.
 */
function nodeReady(conditions: unknown[]): boolean | null {
  const ready = conditions.map(obj).find((c) => c['type'] === 'Ready');
  if (!ready) return null;
  const status = str(ready['status']);
  if (status === 'True') return true;
  if (status === 'False' || status === 'Unknown') return false;
  return null;
}

/** What the tree and `podpath cluster` show for a v1 Node; never throws. */
export function summarizeNode(node: unknown): NodeSummary {
  const o = obj(node);
  const meta = obj(o['metadata']);
  const spec = obj(o['spec']);
  const status = obj(o['status']);
  const addresses = arr(status['addresses']).map(obj);
  const internal = addresses.find((a) => a['type'] === 'InternalIP');
  const podCIDRs = arr(spec['podCIDRs'])
    .map(str)
    .filter((c): c is string => c !== null && c !== '');
  const single = str(spec['podCIDR']);
  if (podCIDRs.length === 0 && single) podCIDRs.push(single);
  return {
    name: str(meta['name']) ?? '?',
    roles: nodeRoles(stringMap(meta['labels'])),
    ready: nodeReady(arr(status['conditions'])),
    internalIP: internal ? str(internal['address']) : null,
    podCIDRs,
    provider: providerFromId(str(spec['providerID'])),
    kubeletVersion: str(obj(status['nodeInfo'])['kubeletVersion']),
  };
}

/** What the tree and `podpath cluster` show for a v1 Pod; never throws. */
export function summarizePod(pod: unknown): PodSummary {
  const o = obj(pod);
  const meta = obj(o['metadata']);
  const spec = obj(o['spec']);
  const status = obj(o['status']);
  const podIP = str(status['podIP']);
  return {
    namespace: str(meta['namespace']) ?? 'default',
    name: str(meta['name']) ?? '?',
    node: str(spec['nodeName']),
    podIP: podIP === '' ? null : podIP,
    hostNetwork: bool(spec['hostNetwork']) === true,
    phase: str(status['phase']),
  };
}
