/**
 * The offline labs as data: for each CNI datapath, the two "nodes", the pods,
 * their addresses, MACs and interface names, the faults that make sense, and
 * the plan input the datapath model needs. src/platform/netns/labBuild.ts
 * turns a definition into network namespaces; nothing here does I/O.
 *
 * Addresses, MACs and names follow the reference captures in
 * test/fixtures/netns/<lab>/ so that a lab's state matches them device for
 * device; devices the captures do not have get MACs derived from their role.
 */
import type { CniMode, Endpoint, NodeInfo, PlanInput } from '../datapath/types';
import { buildDatapathPlan } from '../datapath/plans';
import { dockerMac, stableHex, stableMac } from './stableMac';
import type { EntryKind, ServiceSpec, SourceKind } from '../kubeproxy/types';

export type FaultKind = 'missing-fdb' | 'missing-route' | 'mtu-mismatch' | 'blackhole';

export type LinkKind = 'veth' | 'bridge' | 'vxlan' | 'ipip';

/** The tunnel device of an overlay mode, per node. */
export interface LabTunnelSpec {
  device: 'flannel.1' | 'vxlan.calico' | 'tunl0';
  kind: 'vxlan' | 'ipip';
  /** Address on the device: Flannel `<subnet>.0/32`, Calico the tunnel IP from the node's block. */
  address: string;
  mtu: number;
  /** VXLAN only. */
  mac?: string;
  vni?: number;
  port?: number;
}

export interface LabNodeSpec {
  name: string;
  ip: string;
  /** MAC of the node's eth0 (Docker style, from the IP, as kind nodes have). */
  mac: string;
  /** The other end of eth0, a port of the underlay bridge. */
  underlayPort: string;
  underlayPortMac: string;
  /** Flannel node subnet (`10.244.0.0/24`) or Calico IPAM block (`192.168.49.64/26`). */
  podCidr: string;
  /** Flannel only: the `cni0` bridge. */
  bridge?: { name: 'cni0'; address: string; prefixLength: number; mac: string; mtu: number };
  tunnel?: LabTunnelSpec;
}

export interface LabPodSpec {
  name: string;
  node: string;
  ip: string;
  /** 24 for Flannel (the node subnet), 32 for Calico. */
  prefixLength: number;
  mac: string;
  mtu: number;
  /** Host side of the pod's veth pair (`veth6f3d2a91`, `cali1f5c8e2a9b3`). */
  hostInterface: string;
  hostMac: string;
}

export interface LabNetwork {
  /** Namespace infix: `pp-<short>-nodeA`. */
  short: string;
  underlay: { bridge: string; ip: string; prefixLength: number; mac: string; mtu: number };
  nodes: LabNodeSpec[];
  pods: LabPodSpec[];
  /** The cluster pod CIDR (`10.244.0.0/16`, Calico pool `192.168.0.0/16`). */
  clusterCidr: string;
  /** How routes to peer pod CIDRs are programmed. */
  routing: 'flannel-vxlan' | 'flannel-host-gw' | 'calico-bgp' | 'calico-vxlan' | 'calico-ipip';
  /** calico-bgp: iBGP AS of the node-to-node mesh. */
  bgpAsn?: number;
  /** Machines outside the cluster on the underlay (a Service lab's NodePort client). */
  clients?: LabClientSpec[];
}

/** A namespace outside the cluster, cabled to the underlay switch like a node. */
export interface LabClientSpec {
  name: string;
  ip: string;
  mac: string;
  underlayPort: string;
  underlayPortMac: string;
}

/** The kube-proxy modes a Service lab can write its rules in. */
export type LabKubeProxyMode = 'iptables' | 'nftables';
export const LAB_KUBE_PROXY_MODES: readonly LabKubeProxyMode[] = ['iptables', 'nftables'];

/**
 * A Service lab: the Service, its endpoint pods (each runs a small TCP server that
 * answers with its pod name), the client and the address it connects to.
 */
export interface LabServiceSetup {
  kind: 'clusterip' | 'nodeport' | 'affinity' | 'local';
  spec: ServiceSpec;
  /** Endpoint pods (names of network.pods) and the port their server listens on. */
  endpoints: { pod: string; node: string; ip: string; port: number }[];
  /** The pod (`podA`) or outside client (`client`) that sends the requests. */
  client: { name: string; kind: 'pod' | 'outside'; ip: string };
  /** Where the client connects: the cluster IP and port, or node A's address and node port. */
  target: { ip: string; port: number; node: string };
  /** The explainer's path the requests take (entry and kind of source). */
  entry: EntryKind;
  from: SourceKind;
  /** The service CIDR (nftables drops unallocated addresses in it). */
  serviceCidr: string;
}

export interface LabDefinition {
  /** `flannel-vxlan`, `flannel-vxlan-same-node`, … */
  id: string;
  title: string;
  description: string;
  mode: CniMode;
  sameNode: boolean;
  requires: { tools: string[]; linkKinds: LinkKind[] };
  /** Endpoints with IPs, MACs and interface names, and the nodes: what buildDatapathPlan needs. */
  planInput: PlanInput;
  /** Faults that make sense for this lab. */
  faults: FaultKind[];
  /** What the platform builds (additive to the published API; the builder's input). */
  network: LabNetwork;
  /** Service labs only: the Service, its endpoints and the client (kube-proxy rules on top). */
  service?: LabServiceSetup;
}

export interface FaultDefinition {
  kind: FaultKind;
  title: string;
  description: string;
  /**
   * The probe that reveals the fault when the default one does not: ICMP payload
   * bytes (`ping -s`) and the Don't Fragment bit (`ping -M do`).
   */
  probe?: { payloadBytes: number; dontFragment: boolean };
}

export const FAULTS: readonly FaultDefinition[] = [
  {
    kind: 'missing-fdb',
    title: 'Missing FDB entry',
    description:
      "Node A's VXLAN device has no forwarding entry for node B's VTEP MAC, so it does not know which node IP to send the encapsulated frame to and drops it: the probe is seen on the tunnel device but never leaves node A's eth0.",
  },
  {
    kind: 'missing-route',
    title: 'Missing route',
    description:
      "Node A has no route to the peer pod's subnet (the CNI agent has not programmed it), so the probe takes the default route or hits the node's blackholed block instead of the overlay and never reaches the peer.",
  },
  {
    kind: 'mtu-mismatch',
    title: 'MTU mismatch',
    description:
      "Pod A's interface is left at MTU 1500 while the tunnel device is smaller: a full-size packet with Don't Fragment leaves the pod, reaches node A, and is dropped when node A forwards it into the tunnel (ICMP 'fragmentation needed' goes back to the pod; later probes then fail inside the pod with 'message too long'). Only a large probe shows it: ping -M do -s 1472.",
    probe: { payloadBytes: 1472, dontFragment: true },
  },
  {
    kind: 'blackhole',
    title: 'Blackhole route',
    description:
      'Node A has a blackhole route for the peer pod: the probe reaches node A and is discarded by the routing decision, silently.',
  },
];

const NODE_A_IP = '172.18.0.5';
const NODE_B_IP = '172.18.0.6';
const UNDERLAY = {
  bridge: 'br-pp',
  ip: '172.18.0.1',
  prefixLength: 24,
  // the reference captures' underlay bridge MAC (a Docker network bridge)
  mac: '02:42:3b:7e:51:0a',
  mtu: 1500,
};

/** Underlay-side veth names as in the reference captures (Docker's `veth` + 7 hex). */
const UNDERLAY_PORTS: Record<string, string> = { nodeA: 'vethd0c1e5a', nodeB: 'veth7b93f2e' };

type Family = 'flannel' | 'calico';
type Routing = LabNetwork['routing'];

interface ModeSpec {
  routing: Routing;
  mode: CniMode;
  short: string;
  title: string;
  family: Family;
  podMtu: number;
  tunnel?: { device: LabTunnelSpec['device']; kind: 'vxlan' | 'ipip'; vni?: number; port?: number };
  linkKinds: LinkKind[];
  tools: string[];
  crossFaults: FaultKind[];
  sameFaults: FaultKind[];
  blurb: string;
}

const BASE_TOOLS = ['ip', 'bridge', 'sysctl', 'tcpdump', 'ping'];

const MODES: readonly ModeSpec[] = [
  {
    routing: 'flannel-vxlan',
    mode: 'flannel-vxlan',
    short: 'fv',
    title: 'Flannel VXLAN',
    family: 'flannel',
    podMtu: 1450,
    tunnel: { device: 'flannel.1', kind: 'vxlan', vni: 1, port: 8472 },
    linkKinds: ['veth', 'bridge', 'vxlan'],
    tools: BASE_TOOLS,
    crossFaults: ['missing-fdb', 'missing-route', 'mtu-mismatch', 'blackhole'],
    sameFaults: [],
    blurb:
      'cni0 bridge per node, flannel.1 VXLAN device (VNI 1, UDP 8472, nolearning), a static neighbour and FDB entry per peer node.',
  },
  {
    routing: 'flannel-host-gw',
    mode: 'flannel-host-gw',
    short: 'fh',
    title: 'Flannel host-gw',
    family: 'flannel',
    podMtu: 1500,
    linkKinds: ['veth', 'bridge'],
    tools: BASE_TOOLS,
    crossFaults: ['missing-route', 'blackhole'],
    sameFaults: [],
    blurb: "cni0 bridge per node, a route to each peer's pod subnet via the peer node's IP.",
  },
  {
    routing: 'calico-bgp',
    mode: 'calico-bgp',
    short: 'cb',
    title: 'Calico BGP',
    family: 'calico',
    podMtu: 1500,
    linkKinds: ['veth', 'bridge'],
    tools: [...BASE_TOOLS, 'bird', 'birdc'],
    crossFaults: ['missing-route', 'blackhole'],
    sameFaults: ['missing-route', 'blackhole'],
    blurb:
      'routed cali* veths with proxy ARP, /32 route per pod, blackholed block, peer blocks learned over a real iBGP session between two BIRD daemons.',
  },
  {
    routing: 'calico-vxlan',
    mode: 'calico-vxlan',
    short: 'cv',
    title: 'Calico VXLAN',
    family: 'calico',
    podMtu: 1450,
    tunnel: { device: 'vxlan.calico', kind: 'vxlan', vni: 4096, port: 4789 },
    linkKinds: ['veth', 'bridge', 'vxlan'],
    tools: BASE_TOOLS,
    crossFaults: ['missing-fdb', 'missing-route', 'mtu-mismatch', 'blackhole'],
    sameFaults: ['missing-route', 'blackhole'],
    blurb:
      'routed cali* veths, vxlan.calico device (VNI 4096, UDP 4789), routes via the peer tunnel IP as Felix programs them.',
  },
  {
    routing: 'calico-ipip',
    mode: 'calico-ipip',
    short: 'ci',
    title: 'Calico IPIP',
    family: 'calico',
    podMtu: 1480,
    tunnel: { device: 'tunl0', kind: 'ipip' },
    linkKinds: ['veth', 'bridge', 'ipip'],
    tools: BASE_TOOLS,
    crossFaults: ['missing-route', 'mtu-mismatch', 'blackhole'],
    sameFaults: ['missing-route', 'blackhole'],
    blurb:
      'routed cali* veths, tunl0 IP-in-IP device (MTU 1480), routes via the peer node over tunl0.',
  },
];

/** Pod and node addressing shared by every lab of one CNI family. */
const FLANNEL = {
  clusterCidr: '10.244.0.0/16',
  nodes: {
    nodeA: {
      podCidr: '10.244.0.0/24',
      gateway: '10.244.0.1',
      bridgeMac: 'fa:4b:2c:19:8e:70',
      vtepMac: 'b2:8f:4e:6a:1d:c3',
    },
    nodeB: {
      podCidr: '10.244.1.0/24',
      gateway: '10.244.1.1',
      bridgeMac: 'd6:33:7a:5e:0f:91',
      vtepMac: '3e:a5:91:07:bc:22',
    },
  },
  pods: {
    podA: {
      ip: '10.244.0.5',
      mac: '8a:d1:5c:e2:47:0b',
      host: 'veth6f3d2a91',
      hostMac: '0e:92:bb:41:7c:a5',
    },
    podB: {
      ip: '10.244.1.4',
      mac: 'ca:7e:03:b9:6d:14',
      host: 'vethc81b4e07',
      hostMac: '52:6d:e8:1f:a3:3c',
    },
    podBSameNode: { ip: '10.244.0.6' },
  },
};

const CALICO = {
  clusterCidr: '192.168.0.0/16',
  nodes: {
    nodeA: { podCidr: '192.168.49.64/26', tunnelIp: '192.168.49.64' },
    nodeB: { podCidr: '192.168.231.128/26', tunnelIp: '192.168.231.128' },
  },
  pods: {
    podA: { ip: '192.168.49.66', mac: '16:4a:9f:d2:30:7b', host: 'cali1f5c8e2a9b3' },
    podB: { ip: '192.168.231.131', mac: 'be:21:7c:0e:95:d8', host: 'cali7d04b6e1c52' },
    podBSameNode: { ip: '192.168.49.67' },
  },
};

/** Calico gives every host-side veth this MAC; pods reach it through proxy ARP for 169.254.1.1. */
export const CALICO_HOST_MAC = 'ee:ee:ee:ee:ee:ee';

function nodeSpec(spec: ModeSpec, name: 'nodeA' | 'nodeB'): LabNodeSpec {
  const ip = name === 'nodeA' ? NODE_A_IP : NODE_B_IP;
  const node: LabNodeSpec = {
    name,
    ip,
    mac: dockerMac(ip),
    underlayPort: UNDERLAY_PORTS[name] ?? `veth${stableHex(name, 7)}`,
    underlayPortMac: stableMac(`underlay/${name}`),
    podCidr: spec.family === 'flannel' ? FLANNEL.nodes[name].podCidr : CALICO.nodes[name].podCidr,
  };
  if (spec.family === 'flannel') {
    const f = FLANNEL.nodes[name];
    node.bridge = {
      name: 'cni0',
      address: f.gateway,
      prefixLength: 24,
      mac: f.bridgeMac,
      mtu: spec.podMtu,
    };
  }
  if (spec.tunnel) {
    const t = spec.tunnel;
    const tunnel: LabTunnelSpec = {
      device: t.device,
      kind: t.kind,
      address:
        spec.family === 'flannel'
          ? (FLANNEL.nodes[name].podCidr.split('/')[0] ?? '')
          : CALICO.nodes[name].tunnelIp,
      mtu: spec.podMtu,
    };
    if (t.kind === 'vxlan') {
      tunnel.mac =
        spec.family === 'flannel' ? FLANNEL.nodes[name].vtepMac : stableMac(`${t.device}/${name}`);
      if (t.vni !== undefined) tunnel.vni = t.vni;
      if (t.port !== undefined) tunnel.port = t.port;
    }
    node.tunnel = tunnel;
  }
  return node;
}

function podSpecs(spec: ModeSpec, sameNode: boolean): LabPodSpec[] {
  const mtu = spec.podMtu;
  if (spec.family === 'flannel') {
    const { podA, podB, podBSameNode } = FLANNEL.pods;
    const a: LabPodSpec = {
      name: 'podA',
      node: 'nodeA',
      ip: podA.ip,
      prefixLength: 24,
      mac: podA.mac,
      mtu,
      hostInterface: podA.host,
      hostMac: podA.hostMac,
    };
    const b: LabPodSpec = sameNode
      ? {
          name: 'podB',
          node: 'nodeA',
          ip: podBSameNode.ip,
          prefixLength: 24,
          mac: stableMac('flannel/podB/nodeA/eth0'),
          mtu,
          hostInterface: `veth${stableHex('flannel/podB/nodeA', 8)}`,
          hostMac: stableMac('flannel/podB/nodeA/host'),
        }
      : {
          name: 'podB',
          node: 'nodeB',
          ip: podB.ip,
          prefixLength: 24,
          mac: podB.mac,
          mtu,
          hostInterface: podB.host,
          hostMac: podB.hostMac,
        };
    return [a, b];
  }
  const { podA, podB, podBSameNode } = CALICO.pods;
  const a: LabPodSpec = {
    name: 'podA',
    node: 'nodeA',
    ip: podA.ip,
    prefixLength: 32,
    mac: podA.mac,
    mtu,
    hostInterface: podA.host,
    hostMac: CALICO_HOST_MAC,
  };
  const b: LabPodSpec = sameNode
    ? {
        name: 'podB',
        node: 'nodeA',
        ip: podBSameNode.ip,
        prefixLength: 32,
        mac: stableMac('calico/podB/nodeA/eth0'),
        mtu,
        // the name the datapath plans use for this pod (src/core/datapath/plans.ts)
        hostInterface: 'cali5e9b0d3a7c2',
        hostMac: CALICO_HOST_MAC,
      }
    : {
        name: 'podB',
        node: 'nodeB',
        ip: podB.ip,
        prefixLength: 32,
        mac: podB.mac,
        mtu,
        hostInterface: podB.host,
        hostMac: CALICO_HOST_MAC,
      };
  return [a, b];
}

function endpoint(pod: LabPodSpec): Endpoint {
  return {
    kind: 'pod',
    name: pod.name,
    node: pod.node,
    ip: pod.ip,
    mac: pod.mac,
    interface: 'eth0',
    hostInterface: pod.hostInterface,
  };
}

function nodeInfo(node: LabNodeSpec): NodeInfo {
  return {
    name: node.name,
    ip: node.ip,
    mac: node.mac,
    interface: 'eth0',
    subnet: '172.18.0.0/24',
  };
}

function defineLab(spec: ModeSpec, sameNode: boolean): LabDefinition {
  const short = sameNode ? `${spec.short}s` : spec.short;
  const nodes = [nodeSpec(spec, 'nodeA'), nodeSpec(spec, 'nodeB')];
  const pods = podSpecs(spec, sameNode);
  const [podA, podB] = pods as [LabPodSpec, LabPodSpec];
  const planInput: PlanInput = {
    mode: spec.mode,
    source: endpoint(podA),
    destination: endpoint(podB),
    nodes: nodes.map(nodeInfo),
    probe: { protocol: 'icmp' },
    initialTtl: 64,
  };
  if (spec.tunnel?.vni !== undefined) planInput.vni = spec.tunnel.vni;
  if (spec.tunnel?.port !== undefined) planInput.vxlanPort = spec.tunnel.port;
  const network: LabNetwork = {
    short,
    underlay: { ...UNDERLAY },
    nodes,
    pods,
    clusterCidr: spec.family === 'flannel' ? FLANNEL.clusterCidr : CALICO.clusterCidr,
    routing: spec.routing,
  };
  if (spec.routing === 'calico-bgp') network.bgpAsn = 64512;
  const where = sameNode ? 'two pods on node A' : 'a pod on each of two nodes';
  return {
    id: sameNode ? `${spec.mode}-same-node` : spec.mode,
    title: `${spec.title}${sameNode ? ', same node' : ''}`,
    description: `${spec.title} with ${where}: ${spec.blurb}`,
    mode: spec.mode,
    sameNode,
    requires: { tools: [...spec.tools], linkKinds: [...spec.linkKinds] },
    planInput,
    faults: sameNode ? [...spec.sameFaults] : [...spec.crossFaults],
    network,
  };
}

const SERVICE_CIDR = '10.96.0.0/12';
const CLUSTER_IP = '10.96.0.10';
const NODE_PORT = 30080;
const TARGET_PORT = 8080;

/** An extra Flannel pod for a Service lab (endpoints beyond pod B): MACs and names from its role. */
function extraFlannelPod(name: string, node: 'nodeA' | 'nodeB', ip: string, mtu: number) {
  return {
    name,
    node,
    ip,
    prefixLength: 24,
    mac: stableMac(`flannel/${name}/${node}/eth0`),
    mtu,
    hostInterface: `veth${stableHex(`flannel/${name}/${node}`, 8)}`,
    hostMac: stableMac(`flannel/${name}/${node}/host`),
  } satisfies LabPodSpec;
}

interface ServiceLabSpec {
  kind: LabServiceSetup['kind'];
  short: string;
  title: string;
  blurb: string;
  outside: boolean;
  affinitySeconds: number | null;
  externalTrafficPolicy: 'Cluster' | 'Local';
  /** Endpoint pods: podB (node B) always; podC (node A) and podD (node B) when listed. */
  endpoints: ('podB' | 'podC' | 'podD')[];
}

const SERVICE_LABS: readonly ServiceLabSpec[] = [
  {
    kind: 'clusterip',
    short: 'sc',
    title: 'Service ClusterIP',
    blurb:
      'pod A on node A connects to a ClusterIP Service (10.96.0.10:80) with three endpoints, one on node A and two on node B; kube-proxy rules DNAT each new connection to one of them (a third each).',
    outside: false,
    affinitySeconds: null,
    externalTrafficPolicy: 'Cluster',
    endpoints: ['podB', 'podC', 'podD'],
  },
  {
    kind: 'nodeport',
    short: 'sn',
    title: 'Service NodePort',
    blurb:
      "a client outside the cluster connects to node A's NodePort 30080; the only endpoint is on node B, so node A DNATs to it and MASQUERADEs the client's address.",
    outside: true,
    affinitySeconds: null,
    externalTrafficPolicy: 'Cluster',
    endpoints: ['podB'],
  },
  {
    kind: 'affinity',
    short: 'sa',
    title: 'Service session affinity',
    blurb:
      'pod A connects to a ClusterIP Service with sessionAffinity ClientIP (10800 s) and three endpoints: the first connection picks one, every later one goes to the same endpoint.',
    outside: false,
    affinitySeconds: 10800,
    externalTrafficPolicy: 'Cluster',
    endpoints: ['podB', 'podC', 'podD'],
  },
  {
    kind: 'local',
    short: 'sl',
    title: 'Service externalTrafficPolicy Local',
    blurb:
      "a client outside the cluster connects to node A's NodePort 30080 of a Service with externalTrafficPolicy Local: only node A's endpoint answers and the client's address is kept (no MASQUERADE).",
    outside: true,
    affinitySeconds: null,
    externalTrafficPolicy: 'Local',
    endpoints: ['podB', 'podC', 'podD'],
  },
];

function defineServiceLab(s: ServiceLabSpec): LabDefinition {
  const base = defineLab(MODES[0]!, false);
  const mtu = MODES[0]!.podMtu;
  const extra: Record<'podC' | 'podD', LabPodSpec> = {
    podC: extraFlannelPod('podC', 'nodeA', '10.244.0.6', mtu),
    podD: extraFlannelPod('podD', 'nodeB', '10.244.1.5', mtu),
  };
  // pod A stays in every Service lab (the plan's source): outside clients leave it idle
  const pods = [
    ...base.network.pods,
    ...s.endpoints.flatMap((e) => (e === 'podB' ? [] : [extra[e]])),
  ];
  const clientIp = '172.18.0.100';
  const clients: LabClientSpec[] = s.outside
    ? [
        {
          name: 'client',
          ip: clientIp,
          mac: dockerMac(clientIp),
          underlayPort: `veth${stableHex('underlay/client', 7)}`,
          underlayPortMac: stableMac('underlay/client'),
        },
      ]
    : [];
  const type = s.outside ? 'NodePort' : 'ClusterIP';
  const spec: ServiceSpec = {
    namespace: 'lab',
    name: `svc-${s.kind}`,
    type,
    clusterIP: CLUSTER_IP,
    externalIPs: [],
    loadBalancerIPs: [],
    loadBalancerSourceRanges: [],
    externalTrafficPolicy: s.externalTrafficPolicy,
    internalTrafficPolicy: 'Cluster',
    affinitySeconds: s.affinitySeconds,
    ports: [
      {
        name: 'http',
        port: 80,
        protocol: 'TCP',
        nodePort: s.outside ? NODE_PORT : null,
        targetPort: String(TARGET_PORT),
      },
    ],
  };
  const nodeA = base.network.nodes[0]!;
  return {
    ...base,
    id: `service-${s.kind}`,
    title: s.title,
    description: `${s.title} on Flannel VXLAN: ${s.blurb} The rules are kube-proxy's own (iptables or nftables mode).`,
    requires: {
      tools: [...base.requires.tools, 'python3', 'conntrack'],
      linkKinds: [...base.requires.linkKinds],
    },
    faults: [],
    network: { ...base.network, short: s.short, pods, ...(s.outside ? { clients } : {}) },
    service: {
      kind: s.kind,
      spec,
      endpoints: pods
        .filter((p) => (s.endpoints as string[]).includes(p.name))
        .map((p) => ({ pod: p.name, node: p.node, ip: p.ip, port: TARGET_PORT })),
      client: s.outside
        ? { name: 'client', kind: 'outside', ip: clientIp }
        : { name: 'podA', kind: 'pod', ip: FLANNEL.pods.podA.ip },
      target: s.outside
        ? { ip: nodeA.ip, port: NODE_PORT, node: nodeA.name }
        : { ip: CLUSTER_IP, port: 80, node: nodeA.name },
      entry: s.outside ? 'node-port' : 'cluster-ip',
      from: s.outside ? 'outside' : 'pod',
      serviceCidr: SERVICE_CIDR,
    },
  };
}

export const LABS: readonly LabDefinition[] = [
  ...MODES.flatMap((m) => [defineLab(m, false), defineLab(m, true)]),
  ...SERVICE_LABS.map(defineServiceLab),
];

/** The lab with this id, or undefined. */
export function findLab(id: string): LabDefinition | undefined {
  return LABS.find((l) => l.id === id);
}

/** The fault definition for a kind (always defined for a valid kind). */
export function findFault(kind: FaultKind): FaultDefinition | undefined {
  return FAULTS.find((f) => f.kind === kind);
}

/** Where the probe should stop being seen: a node and the interface captured there. */
export interface MissingPoint {
  location: string;
  interface: string;
}

/**
 * The capture point (node and interface) where the probe stops being seen when
 * `fault` is injected in `lab`; undefined when the fault does not apply.
 */
export function expectedMissingPoint(
  lab: LabDefinition,
  fault: FaultKind,
): MissingPoint | undefined {
  if (!lab.faults.includes(fault)) return undefined;
  const tunnel = lab.network.nodes[0]?.tunnel?.device;
  const peerPod = lab.network.pods[1];
  if (lab.sameNode) {
    // Calico same-node: no /32 route (or a blackhole) for pod B, so the routing
    // decision on node A drops it before pod B's cali interface.
    return peerPod ? { location: 'nodeA', interface: peerPod.hostInterface } : undefined;
  }
  switch (fault) {
    case 'missing-fdb':
      return { location: 'nodeA', interface: 'eth0' };
    case 'mtu-mismatch':
      return tunnel ? { location: 'nodeA', interface: tunnel } : undefined;
    case 'blackhole':
      return { location: 'nodeA', interface: tunnel ?? 'eth0' };
    case 'missing-route':
      // Without a tunnel the probe follows node A's default route out of eth0 to
      // the underlay gateway, which does not forward it: node B never sees it.
      return tunnel
        ? { location: 'nodeA', interface: tunnel }
        : { location: 'nodeB', interface: 'eth0' };
  }
}

/** Name of the plan hop where the probe should stop being seen when `fault` is injected in `lab`. */
export function expectedMissingHop(lab: LabDefinition, fault: FaultKind): string {
  const point = expectedMissingPoint(lab, fault);
  if (!point) throw new Error(`fault ${fault} does not apply to lab ${lab.id}`);
  const hop = buildDatapathPlan(lab.planInput).hops.find(
    (h) => h.location.name === point.location && h.interface === point.interface,
  );
  if (!hop)
    throw new Error(`lab ${lab.id} has no capture point ${point.location} ${point.interface}`);
  return hop.name;
}

/**
 * What injecting `kind` does in this lab, in the lab's own terms: the tunnel device it
 * has, who would write the missing state in a cluster, and where the probe goes instead
 * (a mode without an overlay has no "instead of the overlay").
 */
export function faultDescription(lab: LabDefinition, kind: FaultKind): string {
  const tunnel = lab.network.nodes[0]?.tunnel;
  const peer = lab.network.nodes[1];
  const podB = lab.network.pods[1];
  const calico = lab.network.routing.startsWith('calico');
  const writer: Record<LabNetwork['routing'], string> = {
    'flannel-vxlan': 'flanneld',
    'flannel-host-gw': 'flanneld',
    'calico-bgp': "BIRD (learned over iBGP from node B's BIRD)",
    'calico-vxlan': 'Felix',
    'calico-ipip': 'BIRD',
  };
  const who = writer[lab.network.routing];
  switch (kind) {
    case 'missing-route':
      if (lab.sameNode) {
        return `Node A has no /32 route for pod B${podB ? ` (${podB.ip})` : ''}: ${calico ? 'Felix' : 'the CNI'} has not programmed it, so the lookup falls through to the blackhole of node A's own block and the probe dies on node A.`;
      }
      if (tunnel) {
        return `Node A has no route to node B's pods${peer ? ` (${peer.podCidr})` : ''}: ${who} has not written it, so the probe follows node A's default route out of eth0 unencapsulated instead of into ${tunnel.device} (the overlay), and the underlay gateway does not route pod addresses.`;
      }
      return `Node A has no route to node B's pods${peer ? ` (${peer.podCidr})` : ''}: ${who} has not written it, so the probe follows node A's default route to the underlay gateway instead of going to node B${peer ? ` (${peer.ip})` : ''} directly, and the gateway does not route pod addresses.`;
    case 'blackhole':
      return `Node A has a blackhole route for pod B${podB ? ` (\`blackhole ${podB.ip}/32\`)` : ''}: the probe reaches node A and the routing decision discards it, silently.`;
    case 'missing-fdb':
      return `${tunnel?.device ?? 'The VXLAN device'} on node A has no forwarding entry for node B's VTEP MAC, so it does not know which node IP to send the encapsulated frame to and drops it: the probe is seen on ${tunnel?.device ?? 'the tunnel device'} but never leaves node A's eth0.`;
    case 'mtu-mismatch':
      return `Pod A's eth0 is left at MTU 1500 while ${tunnel?.device ?? 'the tunnel device'} takes ${tunnel?.mtu ?? 'less'}: a full-size ping with Don't Fragment leaves the pod and is dropped when node A forwards it into the tunnel (node A answers ICMP "fragmentation needed"). Only a large probe shows it (ping -M do -s 1472); a small one passes.`;
  }
}
