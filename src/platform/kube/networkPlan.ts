/**
 * The datapath plan of a live cluster: the detected mode fed into the core's plans with the
 * cluster's real node names and InternalIPs, real pods where the nodes run some, and the
 * VNI/port read from the CNI's configuration. Pure (no I/O); the session supplies the data.
 */
import type { NetworkDetection, NodeSummary, PodSummary } from '../../core/cluster/types';
import type { CniMode, Endpoint, NodeInfo, PlanInput } from '../../core/datapath/types';

export type LivePlan = { input: PlanInput; notes: string[] } | { reason: string };

const MODE_TO_PLAN: Record<string, { mode: CniMode; note?: string }> = {
  'flannel-vxlan': { mode: 'flannel-vxlan' },
  'flannel-host-gw': { mode: 'flannel-host-gw' },
  'calico-bgp': { mode: 'calico-bgp' },
  'calico-ipip': { mode: 'calico-ipip' },
  'calico-vxlan': { mode: 'calico-vxlan' },
  'calico-ipip-crosssubnet': { mode: 'calico-crosssubnet' },
  'calico-vxlan-crosssubnet': {
    mode: 'calico-vxlan',
    note: 'The pool is VXLAN CrossSubnet: nodes on one subnet are routed without encapsulation; the diagram shows the VXLAN path taken between subnets.',
  },
};

/** Two nodes to draw between: Ready ones with an InternalIP, workers first. */
export function pickPlanNodes(nodes: readonly NodeSummary[]): NodeSummary[] {
  const usable = nodes.filter((n) => n.internalIP && n.ready !== false);
  const workers = usable.filter(
    (n) => !n.roles.includes('control-plane') && !n.roles.includes('master'),
  );
  return [...workers, ...usable.filter((n) => !workers.includes(n))].slice(0, 2);
}

const PLAIN = /^[A-Za-z0-9._-]+$/;

/**
 * The PlanInput for `detection` between the first two usable nodes (or two pods of the only
 * node). Pods are real ones (not host-network) when `podsOn` knows some; otherwise the address
 * is an example from the node's podCIDR and a note says so.
 *
 * @param subnetOf the node's underlay subnet when known (Calico's IPv4Address annotation).
 */
export function livePlanInput(
  detection: NetworkDetection,
  nodes: readonly NodeSummary[],
  podsOn: (node: string) => readonly PodSummary[],
  subnetOf: (node: string) => string | undefined = () => undefined,
): LivePlan {
  const target = detection.mode ? MODE_TO_PLAN[detection.mode] : undefined;
  if (!target) {
    return {
      reason:
        detection.cni === 'unknown'
          ? 'The CNI of this cluster was not recognised, so there is no datapath to draw.'
          : `The cluster runs ${detection.cni}${detection.mode ? ` (${detection.mode})` : ''}, which Podpath does not model yet.`,
    };
  }
  const picked = pickPlanNodes(nodes);
  const first = picked[0];
  if (!first) return { reason: 'No Ready node with an InternalIP to draw the datapath on.' };
  const second = picked[1] ?? first;
  const notes: string[] = [];
  if (target.note) notes.push(target.note);
  const infos: NodeInfo[] = [...new Set([first, second])].map((n) => ({
    name: n.name,
    ip: n.internalIP ?? '',
    interface: 'eth0',
    subnet: subnetOf(n.name),
  }));
  const podFor = (node: NodeSummary, index: number, avoid?: string): Endpoint => {
    const real = podsOn(node.name).filter(
      (p) => !p.hostNetwork && p.podIP && PLAIN.test(p.name) && p.podIP !== avoid,
    );
    const pod = real[0];
    if (pod?.podIP) {
      return { kind: 'pod', name: pod.name, node: node.name, ip: pod.podIP, interface: 'eth0' };
    }
    const example = exampleAddress(node.podCIDRs[0], index + 2);
    notes.push(
      example
        ? `No pod with its own IP runs on ${node.name}; ${example} is an example address from its podCIDR ${node.podCIDRs[0] ?? ''}.`
        : `No pod with its own IP runs on ${node.name} and it has no podCIDR.`,
    );
    return {
      kind: 'pod',
      name: `pod-on-${node.name}`.slice(0, 63),
      node: node.name,
      ip: example ?? '0.0.0.0',
      interface: 'eth0',
    };
  };
  const source = podFor(first, 0);
  const destination = podFor(second, 1, source.ip);
  if (source.ip === destination.ip || destination.ip === '0.0.0.0' || source.ip === '0.0.0.0') {
    return { reason: notes.join(' ') || 'No two pod addresses to draw between.' };
  }
  const d = detection.details;
  const input: PlanInput = {
    mode: target.mode,
    source,
    destination,
    nodes: infos,
    probe: { protocol: 'icmp' },
    vni: typeof d['vni'] === 'number' ? d['vni'] : undefined,
    vxlanPort: typeof d['port'] === 'number' ? d['port'] : undefined,
  };
  if (typeof d['mtu'] === 'number') notes.push(`The CNI configures MTU ${d['mtu']}.`);
  return { input, notes };
}

/** The `n`th address of an IPv4 CIDR (`10.244.1.0/24`, 2 → `10.244.1.2`). */
function exampleAddress(cidr: string | undefined, n: number): string | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr ?? '');
  if (!m) return null;
  const base = m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
  const v = base + n;
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}
