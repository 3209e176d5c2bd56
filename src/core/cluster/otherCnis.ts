/**
 * CNIs Podpath names but does not model: Cilium (read in detail from
 * `cilium-config`, since its kube-proxy replacement decides the kube-proxy mode),
 * kindnet (kind's default) and a table of others recognised by DaemonSet and image.
 */
import { obj, objectRef, refText } from './objectFields';
import { notModelled, type CniSignals } from './signals';
import type { ClusterObjects } from './types';
import { configMapsNamed, containerWithImage, daemonSetView } from './workloads';

/** What `cilium-config` says about routing and kube-proxy replacement. */
export interface CiliumConfig {
  routingMode: string | null;
  tunnelProtocol: string | null;
  kubeProxyReplacement: string | null;
  ipam: string | null;
  /** The ConfigMap read, for evidence. */
  ref: string;
}

/** `cilium-config` from kube-system (or any namespace), null when it was not read. */
export function readCiliumConfig(objects: ClusterObjects): CiliumConfig | null {
  const cm = configMapsNamed(objects.configMaps, 'cilium-config', ['kube-system'])[0];
  if (!cm) return null;
  const d = cm.data;
  // Cilium < 1.14 had `tunnel: vxlan|geneve|disabled` instead of routing-mode + tunnel-protocol.
  const legacyTunnel = d['tunnel'];
  let routingMode = d['routing-mode'] ?? null;
  let tunnelProtocol = d['tunnel-protocol'] ?? null;
  if (legacyTunnel !== undefined) {
    routingMode ??= legacyTunnel === 'disabled' ? 'native' : 'tunnel';
    if (legacyTunnel !== 'disabled') tunnelProtocol ??= legacyTunnel;
  }
  return {
    routingMode,
    tunnelProtocol,
    kubeProxyReplacement: d['kube-proxy-replacement'] ?? null,
    ipam: d['ipam'] ?? null,
    ref: refText(cm.ref),
  };
}

/** Whether a `kube-proxy-replacement` value means Cilium serves Services itself. */
export function ciliumReplacesKubeProxy(value: string | null): boolean {
  return value === 'true' || value === 'strict';
}

export function detectCilium(objects: ClusterObjects): CniSignals | null {
  const kinds = new Set<string>();
  const evidence: string[] = [];
  const details: Record<string, unknown> = {};
  const ds = objects.daemonSets
    .map(daemonSetView)
    .find((d) => d.ref.name === 'cilium' && containerWithImage(d, ['cilium/cilium', 'cilium']));
  if (ds) {
    kinds.add('daemonset');
    details['daemonSet'] = refText(ds.ref).replace(/^DaemonSet /, '');
    evidence.push(
      `${refText(ds.ref)} runs the Cilium agent (image ${containerWithImage(ds, ['cilium'])?.image ?? '?'})`,
    );
  }
  const config = readCiliumConfig(objects);
  if (config) {
    kinds.add('configmap');
    details['routingMode'] = config.routingMode;
    details['tunnelProtocol'] = config.tunnelProtocol;
    details['kubeProxyReplacement'] = config.kubeProxyReplacement;
    if (config.ipam !== null) details['ipam'] = config.ipam;
    evidence.push(
      `${config.ref} routing-mode=${config.routingMode ?? '(unset)'}, tunnel-protocol=${config.tunnelProtocol ?? '(unset)'}, kube-proxy-replacement=${config.kubeProxyReplacement ?? '(unset)'}`,
    );
  }
  if (kinds.size === 0) return null;
  details['notModelled'] = notModelled('Cilium');
  return { cni: 'cilium', name: 'Cilium', kinds, mode: null, details, evidence };
}

export function detectKindnet(objects: ClusterObjects): CniSignals | null {
  const ds = objects.daemonSets
    .map(daemonSetView)
    .find((d) => d.ref.name === 'kindnet' && containerWithImage(d, ['kindnetd']));
  if (!ds) return null;
  const kinds = new Set(['daemonset']);
  const evidence = [
    `${refText(ds.ref)} runs kindnetd (image ${containerWithImage(ds, ['kindnetd'])?.image ?? '?'})`,
  ];
  const kindNodes = objects.nodes.filter((n) =>
    String(obj(obj(n)['spec'])['providerID'] ?? '').startsWith('kind://'),
  );
  if (kindNodes.length > 0) {
    kinds.add('kind-nodes');
    evidence.push(
      `${kindNodes.length} node(s) have providerID kind://… (e.g. Node ${objectRef(kindNodes[0], 'Node').name})`,
    );
  }
  return {
    cni: 'kindnet',
    name: 'kindnet',
    kinds,
    mode: null,
    details: {
      daemonSet: refText(ds.ref).replace(/^DaemonSet /, ''),
      notModelled: notModelled('kindnet'),
    },
    evidence,
  };
}

interface KnownCni {
  name: string;
  daemonSets: readonly string[];
  images: readonly string[];
  /** Built from another CNI's parts (Canal is calico-node + flanneld): wins over their traces. */
  dominates?: boolean;
}

// DaemonSet names and image fragments from each project's install manifests.
const OTHER_CNIS: readonly KnownCni[] = [
  {
    name: 'Canal (Calico policy with Flannel networking)',
    daemonSets: ['canal'],
    images: ['calico/node', 'flannel'],
    dominates: true,
  },
  { name: 'Weave Net', daemonSets: ['weave-net'], images: ['weave-kube', 'weave'] },
  { name: 'kube-router', daemonSets: ['kube-router'], images: ['kube-router'] },
  { name: 'Antrea', daemonSets: ['antrea-agent'], images: ['antrea'] },
  {
    name: 'Amazon VPC CNI',
    daemonSets: ['aws-node'],
    images: ['amazon-k8s-cni', 'amazon-vpc-cni'],
  },
  { name: 'OVN-Kubernetes', daemonSets: ['ovnkube-node'], images: ['ovn'] },
  { name: 'Kube-OVN', daemonSets: ['kube-ovn-cni'], images: ['kube-ovn'] },
  { name: 'Azure CNI', daemonSets: ['azure-cns'], images: ['azure-cns', 'azure-cni'] },
  { name: 'GKE Dataplane V2', daemonSets: ['anetd'], images: ['cilium'], dominates: true },
];

/** Every other CNI recognised by DaemonSet name and image; one CniSignals each. */
export function detectOtherCnis(objects: ClusterObjects): CniSignals[] {
  const out: CniSignals[] = [];
  const views = objects.daemonSets.map(daemonSetView);
  for (const known of OTHER_CNIS) {
    const ds = views.find(
      (d) => known.daemonSets.includes(d.ref.name) && containerWithImage(d, known.images),
    );
    if (!ds) continue;
    out.push({
      cni: 'unknown',
      name: known.name,
      kinds: new Set(['daemonset']),
      dominates: known.dominates === true,
      mode: null,
      details: {
        name: known.name,
        daemonSet: refText(ds.ref).replace(/^DaemonSet /, ''),
        notModelled: notModelled(known.name),
      },
      evidence: [
        `${refText(ds.ref)} runs ${known.name} (image ${containerWithImage(ds, known.images)?.image ?? '?'})`,
      ],
    });
  }
  return out;
}
