/**
 * What the cluster explorer reads from a live cluster and what the core makes of it:
 * raw API objects in, node/pod summaries and the detected CNI and kube-proxy mode out.
 * The shapes of NodeSummary, PodSummary, NetworkDetection and KubeProxyDetection are
 * the `podpath cluster --json` output, so fields are only ever added.
 */

/** The raw objects detection looks at; every list may be empty, and any item may be malformed. */
export interface ClusterObjects {
  /** v1 Node JSON. */
  nodes: unknown[];
  /** apps/v1 DaemonSet JSON (all namespaces). */
  daemonSets: unknown[];
  /**
   * v1 ConfigMap JSON: kube-flannel/kube-flannel-cfg, kube-system/kube-flannel-cfg,
   * kube-system/kube-proxy, kube-system/kube-proxy-config (EKS), kube-system/cilium-config,
   * kube-system/calico-config, kube-system/kubeadm-config (Service CIDR).
   */
  configMaps: unknown[];
  /** projectcalico.org/v3 and crd.projectcalico.org/v1 IPPool JSON. */
  ipPools: unknown[];
  /** operator.tigera.io/v1 Installation JSON. */
  installations: unknown[];
  /** networking.k8s.io/v1 ServiceCIDR JSON (Kubernetes 1.33+), for the Service CIDR. */
  serviceCidrs?: unknown[];
  /** kube-system Pods labelled `component=kube-apiserver` (kubeadm static pods). */
  apiServerPods?: unknown[];
}

export interface NodeSummary {
  name: string;
  roles: string[];
  /** The Ready condition; null when the node reports none. */
  ready: boolean | null;
  internalIP: string | null;
  podCIDRs: string[];
  /** `kind`, `aws`, `gce`, `azure`, `k3s`… from `spec.providerID`; null without one. */
  provider: string | null;
  kubeletVersion: string | null;
}

export interface PodSummary {
  namespace: string;
  name: string;
  node: string | null;
  podIP: string | null;
  hostNetwork: boolean;
  phase: string | null;
}

export type DetectedCni = 'flannel' | 'calico' | 'cilium' | 'kindnet' | 'unknown';

export type DetectedNetworkMode =
  | 'flannel-vxlan'
  | 'flannel-host-gw'
  | 'calico-bgp'
  | 'calico-ipip'
  | 'calico-vxlan'
  | 'calico-ipip-crosssubnet'
  | 'calico-vxlan-crosssubnet';

export interface NetworkDetection {
  cni: DetectedCni;
  /** The datapath Podpath can model; null when the CNI or its mode is not modelled or not known. */
  mode: DetectedNetworkMode | null;
  /** What was read (vni, port, mtu, pools, …); see the detectors for the keys per CNI. */
  details: Record<string, unknown>;
  /** One sentence per signal, each naming the object that said so. */
  evidence: string[];
}

export type KubeProxyMode = 'iptables' | 'ipvs' | 'nftables' | 'none' | 'unknown';

export interface KubeProxyDetection {
  mode: KubeProxyMode;
  evidence: string[];
  /** `clusterCIDR` of the KubeProxyConfiguration (the pod range kube-proxy treats as local), when set. */
  clusterCIDR?: string;
}
