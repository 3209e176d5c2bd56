/**
 * Turns a detection and the cluster's nodes (and optionally two real pods) into the
 * datapath planner's PlanInput, so the diagram shows the cluster's own node names,
 * addresses, VNI and port. The planner's mode names differ from the detection's:
 * IPIP CrossSubnet is `calico-crosssubnet`, and VXLAN CrossSubnet is planned per
 * pair (routed like BGP on one subnet, VXLAN across subnets), as Felix does.
 */
import { ipv4Network, isIpv4 } from '../datapath/planInput';
import { isCniMode } from '../datapath/plans';
import type { CniMode, Endpoint, NodeInfo, PlanInput } from '../datapath/types';
import { arr, isObject, num, obj, str } from './objectFields';
import type { NetworkDetection, NodeSummary, PodSummary } from './types';

export type ClusterPlanResult =
  | {
      ok: true;
      input: PlanInput;
      /** MTU the cluster configures, when it says (passed to the planner for the VXLAN modes). */
      mtu: number | null;
      /** The VXLAN device name on the nodes (`flannel.<VNI>`, `vxlan.calico`), when known. */
      tunnelDevice: string | null;
      notes: string[];
    }
  | { ok: false; reason: string };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The address `offset` after the network address of `cidr` (`10.244.1.0/24`, 2 → `10.244.1.2`). */
function addressInCidr(cidr: string, offset: number): string | null {
  const [base, bits] = cidr.split('/');
  if (base === undefined || !isIpv4(base)) return null;
  const prefix = Number(bits);
  const net = ipv4Network(base, Number.isInteger(prefix) ? prefix : 32);
  const netBase = net?.split('/')[0];
  return netBase ? numberToIpv4(ipv4ToNumber(netBase) + offset) : null;
}

interface CalicoNodeFacts {
  ipv4Address: string | null;
  tunnel: string | null;
}

function calicoNodeFacts(detection: NetworkDetection, node: string): CalicoNodeFacts {
  const entry = arr(detection.details['nodes'])
    .map(obj)
    .find((n) => n['name'] === node);
  if (!entry) return { ipv4Address: null, tunnel: null };
  return {
    ipv4Address: str(entry['ipv4Address']),
    tunnel: str(entry['ipipTunnelAddr']) ?? str(entry['vxlanTunnelAddr']),
  };
}

function nodeInfo(detection: NetworkDetection, node: NodeSummary): NodeInfo | string {
  const calico = calicoNodeFacts(detection, node.name);
  // Calico writes the address with its prefix length (172.18.0.3/16): that gives the subnet.
  const [calicoIp, calicoBits] = (calico.ipv4Address ?? '').split('/');
  const ip = node.internalIP ?? (calicoIp && isIpv4(calicoIp) ? calicoIp : null);
  if (!ip) return `node ${node.name} has no InternalIP address`;
  if (!NAME.test(node.name)) return `node name "${node.name}" cannot be used in a capture plan`;
  const info: NodeInfo = { name: node.name, ip, interface: 'eth0' };
  const bits = Number(calicoBits);
  if (calicoIp === ip && Number.isInteger(bits)) {
    const subnet = ipv4Network(ip, bits);
    if (subnet) info.subnet = subnet;
  }
  return info;
}

/** Two nodes for an example path: Ready workers first, then any node, by name. */
function pickNodes(nodes: readonly NodeSummary[]): NodeSummary[] {
  const usable = nodes.filter((n) => n.internalIP !== null);
  const score = (n: NodeSummary): number =>
    (n.ready === false ? 2 : 0) +
    (n.roles.includes('control-plane') || n.roles.includes('master') ? 1 : 0);
  return [...usable]
    .sort((a, b) => score(a) - score(b) || a.name.localeCompare(b.name))
    .slice(0, 2);
}

/** An example pod address on `node`: inside Calico's tunnel block, else the node's podCIDR. */
function examplePodIp(detection: NetworkDetection, node: NodeSummary, n: number): string | null {
  if (detection.cni === 'calico') {
    const tunnel = calicoNodeFacts(detection, node.name).tunnel;
    if (tunnel && isIpv4(tunnel)) return numberToIpv4(ipv4ToNumber(tunnel) + n);
  }
  const cidr = node.podCIDRs.find((c) => isIpv4(c.split('/')[0] ?? ''));
  return cidr ? addressInCidr(cidr, 1 + n) : null;
}

function endpoint(role: string, pod: PodSummary): Endpoint | string {
  if (!pod.node) return `${role} pod ${pod.namespace}/${pod.name} is not scheduled on a node`;
  if (!pod.podIP) return `${role} pod ${pod.namespace}/${pod.name} has no IP yet`;
  if (pod.hostNetwork) return `${role} pod ${pod.namespace}/${pod.name} uses the host network`;
  return {
    kind: 'pod',
    name: NAME.test(pod.name) ? pod.name : role,
    node: pod.node,
    ip: pod.podIP,
    interface: 'eth0',
  };
}

/**
 * The planner's mode for a whole cluster's detected mode, when one mode fits every pair of
 * nodes: null for VXLAN CrossSubnet (routed or encapsulated depends on the pair's subnets)
 * and for what Podpath does not model.
 */
export function clusterCniMode(mode: NetworkDetection['mode']): CniMode | null {
  switch (mode) {
    case 'flannel-vxlan':
    case 'flannel-host-gw':
    case 'calico-bgp':
    case 'calico-ipip':
    case 'calico-vxlan':
      return mode;
    case 'calico-ipip-crosssubnet':
      return 'calico-crosssubnet';
    case 'calico-vxlan-crosssubnet':
    case null:
      return null;
  }
}

function plannerMode(
  detection: NetworkDetection,
  a: NodeInfo,
  b: NodeInfo,
  notes: string[],
): CniMode | string {
  switch (detection.mode) {
    case 'flannel-vxlan':
    case 'flannel-host-gw':
    case 'calico-bgp':
    case 'calico-ipip':
    case 'calico-vxlan':
      return detection.mode;
    case 'calico-ipip-crosssubnet':
      return 'calico-crosssubnet';
    case 'calico-vxlan-crosssubnet': {
      if (a.name === b.name) return 'calico-vxlan';
      const known = a.subnet !== undefined && b.subnet !== undefined;
      if (known && a.subnet !== b.subnet) {
        notes.push(
          `VXLAN CrossSubnet: ${a.name} (${a.subnet}) and ${b.name} (${b.subnet}) are on different subnets, so this pair is encapsulated in VXLAN.`,
        );
        return 'calico-vxlan';
      }
      notes.push(
        known
          ? `VXLAN CrossSubnet: ${a.name} and ${b.name} share ${a.subnet}, so this pair is routed without encapsulation (drawn as Calico's routed path).`
          : `VXLAN CrossSubnet: the nodes' subnets are not known, so they are assumed shared and drawn routed without encapsulation.`,
      );
      return 'calico-bgp';
    }
    case null:
      return str(detection.details['notModelled']) ?? `${detection.cni} has no datapath in Podpath`;
  }
}

/**
 * The planner input for the detected datapath between `podA` and `podB`, or, without
 * pods, between example addresses on two of the cluster's nodes (Ready workers first).
 * Returns `ok: false` with one sentence when the mode is not modelled or the nodes or
 * pods lack what a plan needs; never throws.
 */
export function planInputFromCluster(
  detection: NetworkDetection,
  nodes: readonly NodeSummary[],
  podA?: PodSummary,
  podB?: PodSummary,
): ClusterPlanResult {
  if (detection.mode === null) {
    return {
      ok: false,
      reason: str(detection.details['notModelled']) ?? "The cluster's CNI mode is not known.",
    };
  }
  const notes: string[] = [];
  let source: Endpoint;
  let destination: Endpoint;
  if (podA && podB) {
    const a = endpoint('podA', podA);
    const b = endpoint('podB', podB);
    if (typeof a === 'string') return { ok: false, reason: a };
    if (typeof b === 'string') return { ok: false, reason: b };
    if (b.name === a.name) b.name = a.name === 'podB' ? 'podA' : 'podB';
    source = a;
    destination = b;
  } else {
    const picked = pickNodes(nodes);
    const first = picked[0];
    if (!first) return { ok: false, reason: 'No node with an InternalIP address was read.' };
    const second = picked[1] ?? first;
    const ipA = examplePodIp(detection, first, 1);
    const ipB = examplePodIp(detection, second, second === first ? 2 : 1);
    if (!ipA || !ipB) {
      return {
        ok: false,
        reason: `Node ${ipA ? second.name : first.name} gives no pod address range to draw an example from.`,
      };
    }
    source = { kind: 'pod', name: 'podA', node: first.name, ip: ipA, interface: 'eth0' };
    destination = { kind: 'pod', name: 'podB', node: second.name, ip: ipB, interface: 'eth0' };
    notes.push(
      `podA (${ipA}) and podB (${ipB}) are example addresses from the nodes' pod ranges; pick two pods to trace real ones.`,
    );
  }
  const infos: NodeInfo[] = [];
  for (const name of new Set([source.node, destination.node])) {
    const node = nodes.find((n) => n.name === name);
    if (!node) return { ok: false, reason: `Node ${name} is not among the nodes read.` };
    const info = nodeInfo(detection, node);
    if (typeof info === 'string') return { ok: false, reason: info };
    infos.push(info);
  }
  const infoA = infos[0] as NodeInfo;
  const infoB = infos[1] ?? infoA;
  const mode = plannerMode(detection, infoA, infoB, notes);
  if (!isCniMode(mode)) return { ok: false, reason: mode };

  const input: PlanInput = {
    mode,
    source,
    destination,
    nodes: infos,
    probe: { protocol: 'icmp' },
    initialTtl: 64,
  };
  const d = detection.details;
  let tunnelDevice: string | null = null;
  if (detection.cni === 'flannel' && mode === 'flannel-vxlan') {
    const vni = num(d['vni']);
    const port = num(d['port']);
    if (vni !== null) input.vni = vni;
    if (port !== null) input.vxlanPort = port;
    tunnelDevice = str(d['device']);
  }
  if (detection.cni === 'calico' && mode === 'calico-vxlan') {
    const env = isObject(d['env']) ? d['env'] : {};
    const vni = num(env['FELIX_VXLANVNI']);
    const port = num(env['FELIX_VXLANPORT']);
    if (vni !== null) input.vni = vni;
    if (port !== null) input.vxlanPort = port;
    tunnelDevice = 'vxlan.calico';
  }
  const mtu = num(d['mtu']);
  if (mtu !== null && (mode === 'flannel-vxlan' || mode === 'calico-vxlan')) input.tunnelMtu = mtu;
  else if (mtu !== null)
    notes.push(`The cluster configures MTU ${mtu}; the plan draws the mode's default.`);
  return { ok: true, input, mtu, tunnelDevice, notes };
}
