/**
 * The lab clusters Podpath builds on kind: one per CNI mode of the walkthroughs,
 * named as the datapath plans name them, each with the pod subnet its CNI expects.
 */

export type KindLabMode =
  | 'flannel-vxlan'
  | 'flannel-host-gw'
  | 'calico-bgp'
  | 'calico-ipip'
  | 'calico-vxlan'
  | 'calico-vxlan-crosssubnet'
  | 'kindnet';

export type KubeProxyMode = 'iptables' | 'nftables' | 'ipvs';

export type LabCni = 'flannel' | 'calico' | 'kindnet';

export interface KindLabModeInfo {
  mode: KindLabMode;
  title: string;
  cni: LabCni;
  /** The pod subnet the CNI's manifest expects (kind's `networking.podSubnet`). */
  podSubnet: string;
  /** Kernel modules the datapath needs on the host (kind nodes share its kernel). */
  modules: readonly string[];
}

export const FLANNEL_POD_SUBNET = '10.244.0.0/16';
export const CALICO_POD_SUBNET = '192.168.0.0/16';

export const KIND_LAB_MODES: readonly KindLabModeInfo[] = [
  {
    mode: 'flannel-vxlan',
    title: 'Flannel VXLAN',
    cni: 'flannel',
    podSubnet: FLANNEL_POD_SUBNET,
    modules: ['br_netfilter', 'vxlan'],
  },
  {
    mode: 'flannel-host-gw',
    title: 'Flannel host-gw',
    cni: 'flannel',
    podSubnet: FLANNEL_POD_SUBNET,
    modules: ['br_netfilter'],
  },
  {
    mode: 'calico-bgp',
    title: 'Calico BGP (IPIP and VXLAN Never)',
    cni: 'calico',
    podSubnet: CALICO_POD_SUBNET,
    modules: ['br_netfilter'],
  },
  {
    mode: 'calico-ipip',
    title: 'Calico IPIP',
    cni: 'calico',
    podSubnet: CALICO_POD_SUBNET,
    modules: ['br_netfilter', 'ipip'],
  },
  {
    mode: 'calico-vxlan',
    title: 'Calico VXLAN',
    cni: 'calico',
    podSubnet: CALICO_POD_SUBNET,
    modules: ['br_netfilter', 'vxlan'],
  },
  {
    mode: 'calico-vxlan-crosssubnet',
    title: 'Calico VXLAN CrossSubnet',
    cni: 'calico',
    podSubnet: CALICO_POD_SUBNET,
    modules: ['br_netfilter', 'vxlan'],
  },
  {
    mode: 'kindnet',
    title: "kind's default (kindnet)",
    cni: 'kindnet',
    // kind's own default pod subnet.
    podSubnet: FLANNEL_POD_SUBNET,
    modules: [],
  },
];

export const KUBE_PROXY_MODES: readonly KubeProxyMode[] = ['iptables', 'nftables', 'ipvs'];

/** The mode's row, or undefined for a name that is not a lab mode. */
export function kindLabMode(name: string): KindLabModeInfo | undefined {
  return KIND_LAB_MODES.find((m) => m.mode === name);
}

export function isKubeProxyMode(s: string): s is KubeProxyMode {
  return (KUBE_PROXY_MODES as readonly string[]).includes(s);
}

/** kind cluster names become container and context names: lower-case DNS labels. */
export function isKindClusterName(name: string): boolean {
  return /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name);
}

/** The label every lab node carries, so the Labs view can find the clusters Podpath made. */
export const LAB_LABEL = 'podpath.dev/lab';
export const LAB_MODE_LABEL = 'podpath.dev/lab-mode';
