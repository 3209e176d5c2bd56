/**
 * Datapath plans: for a CNI mode and two endpoints, the ordered capture points
 * ("hops") a packet crosses, what happens to it on the way to each, and the
 * tcpdump filter that captures it there.
 */

export type CniMode =
  | 'flannel-vxlan'
  | 'flannel-host-gw'
  | 'calico-bgp'
  | 'calico-ipip'
  | 'calico-vxlan'
  | 'calico-crosssubnet'
  | 'kubenet';

/** Where a capture point sits; one Mermaid participant per distinct location. */
export interface HopLocation {
  kind: 'pod' | 'node' | 'underlay';
  /** `podA`, `nodeA`, `underlay`… */
  name: string;
  /** Node the pod runs on (pods only). */
  node?: string;
}

/**
 * What happened to the packet between the previous capture point and this one.
 * `origin` is the first hop (the packet leaves the source).
 */
export type HopAction =
  'origin' | 'veth' | 'bridged' | 'routed' | 'encapsulated' | 'wire' | 'decapsulated' | 'delivered';

export interface Encapsulation {
  type: 'vxlan' | 'ipip';
  /** Bytes added in front of the inner IP packet: 50 for VXLAN over IPv4, 20 for IPIP. */
  overheadBytes: number;
  /** VXLAN only. */
  vni?: number;
  /** VXLAN only: outer UDP destination port. */
  dstPort?: number;
  /** Outer source and destination (the node IPs). */
  outerSrc?: string;
  outerDst?: string;
}

export interface PlanHop {
  /** File-name style: `03-nodeA-flannel.1`. */
  name: string;
  location: HopLocation;
  /** Interface tcpdump listens on at this hop. */
  interface: string;
  action: HopAction;
  /** One sentence: what happens here, for people. */
  description: string;
  /** Short label for the diagram arrow into this hop, e.g. `VXLAN encap +50 B, UDP 8472, VNI 1`. */
  label: string;
  /** Inner IPv4 TTL expected here when the source sends with TTL `initialTtl`. */
  expectedTtl: number;
  /** Outer headers present on the wire at this hop, or null when the packet is not encapsulated here. */
  encapsulation: Encapsulation | null;
  /** MTU of the interface at this hop. */
  mtu: number;
  /** tcpdump filter expression that captures the probe (and its outer headers) at this hop. */
  filter: string;
}

export interface Endpoint {
  kind: 'pod' | 'node';
  /** `podA`, `nodeB`… */
  name: string;
  /** Node the endpoint runs on (for a node endpoint, its own name). */
  node: string;
  ip: string;
  mac?: string;
  /** Interface inside the pod (usually `eth0`). */
  interface?: string;
  /** Host side of the pod's veth (`veth…` / `cali…`) when known. */
  hostInterface?: string;
}

export interface NodeInfo {
  name: string;
  ip: string;
  mac?: string;
  /** Underlay interface, usually `eth0`. */
  interface?: string;
  /** Subnet of the node IP, e.g. `172.18.0.0/24` (CrossSubnet decides on it). */
  subnet?: string;
}

export type Probe =
  { protocol: 'icmp' } | { protocol: 'tcp'; port: number } | { protocol: 'udp'; port: number };

export interface PlanInput {
  mode: CniMode;
  source: Endpoint;
  destination: Endpoint;
  nodes: NodeInfo[];
  probe?: Probe;
  /** TTL the source sends with (Linux default 64). */
  initialTtl?: number;
  /** VXLAN VNI / port overrides (Flannel ConfigMap `VNI`, `Port`). */
  vni?: number;
  vxlanPort?: number;
  /**
   * VXLAN modes: the MTU of the tunnel device and the pods when the cluster sets one (Flannel's
   * Backend `MTU`, Calico's `veth_mtu`); default: 1500 less the encapsulation.
   */
  tunnelMtu?: number;
}

export interface DatapathPlan {
  mode: CniMode;
  /** `Flannel VXLAN, cross-node`. */
  title: string;
  sameNode: boolean;
  source: Endpoint;
  destination: Endpoint;
  hops: PlanHop[];
  initialTtl: number;
  /** Facts about the mode worth stating once (routes, MTU reasons). */
  notes: string[];
}
