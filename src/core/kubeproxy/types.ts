/** The explanation of Services from a node's kube-proxy rules, shared by the three modes. */

export type KubeProxyMode = 'iptables' | 'nftables' | 'ipvs';

/** Where a packet enters a Service. */
export type EntryKind = 'cluster-ip' | 'node-port' | 'external-ip' | 'load-balancer';

/** Who sends it. */
export type SourceKind = 'pod' | 'node' | 'outside';

/** One endpoint a path leads to, with its effective share of new connections. */
export interface EndpointShare {
  /** `IP:PORT` after DNAT. */
  address: string;
  /** 0…1: the chained probabilities multiplied out (iptables) or 1/N (nftables). */
  share: number;
  /** The rule chain that does the DNAT (KUBE-SEP-…, endpoint-…), when there is one. */
  chain?: string;
  /** Packets counted on the DNAT rule, when the dump has counters. */
  packets?: number;
}

/** What happens to a packet that takes one entry from one kind of source. */
export interface ServicePath {
  entry: EntryKind;
  /** `10.96.0.10:53`, or `<node>:30080` for a node port. */
  address: string;
  from: SourceKind;
  /** `unmatched`: no rule rewrites or stops it; `incomplete`: the dump lacks a chain it needs. */
  outcome: 'dnat' | 'drop' | 'reject' | 'unmatched' | 'incomplete';
  endpoints: EndpointShare[];
  /** True when the mark for masquerade is set on this path (for every endpoint). */
  masquerade: boolean;
  masqueradeReasons: string[];
  /** The part of new connections on this path (below 1 when a `statistic` rule splits it). */
  weight: number;
  /** The chains the packet walks, in order. */
  chains: string[];
  /** Conditions this path assumed (`source in 203.0.113.0/25`). */
  conditions: string[];
  /** Words for a person: why it ends here. */
  note?: string;
}

/** One Service port, explained. */
export interface ExplainedService {
  namespace: string;
  name: string;
  /** The port's name, or its number when unnamed. */
  port: string;
  protocol: string;
  clusterIP: string | null;
  servicePort: number | null;
  nodePort: number | null;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** The endpoints a pod reaching the cluster IP gets, with their shares. */
  endpoints: EndpointShare[];
  affinitySeconds: number | null;
  /** When and why the mark for masquerade is set. */
  masquerade: string[];
  findings: string[];
  paths: ServicePath[];
  /** The Service's own chains (KUBE-SVC-…, service-…). */
  chains: string[];
}

export interface ServiceExplanation {
  mode: KubeProxyMode;
  services: ExplainedService[];
  unread: string[];
  /** Things about the whole ruleset (masquerade rule missing, mode deprecated…). */
  notes: string[];
}

/** The JSON object `podpath service explain --json` prints. */
export interface ServiceExplanationJson {
  mode: KubeProxyMode;
  services: {
    namespace: string;
    name: string;
    port: string;
    protocol: string;
    clusterIP: string | null;
    nodePort: number | null;
    externalIPs: string[];
    endpoints: { address: string; share: number }[];
    affinitySeconds: number | null;
    masquerade: string[];
    findings: string[];
  }[];
  unread: string[];
}

/** What a Service manifest (or the API) says, to compare with the rules. */
export interface ServiceSpec {
  namespace: string;
  name: string;
  type: string;
  clusterIP: string | null;
  externalIPs: string[];
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  affinitySeconds: number | null;
  ports: {
    name: string;
    port: number;
    protocol: string;
    nodePort: number | null;
    targetPort: string | null;
  }[];
}
