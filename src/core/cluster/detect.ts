/**
 * Minimal detection so the `cluster` branch can be tested on its own: node and pod rows,
 * Flannel VXLAN / host-gw from `kube-flannel-cfg` plus the `kube-flannel-ds` DaemonSet, and the
 * kube-proxy mode from `kube-system/kube-proxy`. The full detectors (Calico, Cilium, kindnet,
 * node annotations) come from the `detect` branch, which replaces this file on merge; anything
 * this file does not model is reported as `unknown`, never guessed.
 */
import { parse } from 'yaml';
import type {
  ClusterObjects,
  KubeProxyDetection,
  NetworkDetection,
  NodeSummary,
  PodSummary,
} from './types';

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function meta(o: unknown): { name: string; namespace: string } {
  const m = obj(obj(o)['metadata']);
  return { name: str(m['name']) ?? '', namespace: str(m['namespace']) ?? '' };
}

/** The tree's row for a v1 Node; fields that are absent come out null or empty. */
export function summarizeNode(node: unknown): NodeSummary {
  const m = obj(obj(node)['metadata']);
  const spec = obj(obj(node)['spec']);
  const status = obj(obj(node)['status']);
  const labels = obj(m['labels']);
  const roles = Object.keys(labels)
    .map((k) => /^node-role\.kubernetes\.io\/(.+)$/.exec(k)?.[1])
    .filter((r): r is string => !!r)
    .sort();
  const ready = arr(status['conditions'])
    .map(obj)
    .find((c) => c['type'] === 'Ready');
  const internal = arr(status['addresses'])
    .map(obj)
    .find((a) => a['type'] === 'InternalIP');
  const cidrs = arr(spec['podCIDRs']).filter((c): c is string => typeof c === 'string');
  const single = str(spec['podCIDR']);
  const providerId = str(spec['providerID']);
  return {
    name: str(m['name']) ?? '',
    roles,
    ready: ready ? ready['status'] === 'True' : null,
    internalIP: internal ? str(internal['address']) : null,
    podCIDRs: cidrs.length > 0 ? cidrs : single ? [single] : [],
    provider: providerId ? (/^([A-Za-z][\w+.-]*):\/\//.exec(providerId)?.[1] ?? null) : null,
    kubeletVersion: str(obj(status['nodeInfo'])['kubeletVersion']),
  };
}

/** The tree's row for a v1 Pod. */
export function summarizePod(pod: unknown): PodSummary {
  const m = meta(pod);
  const spec = obj(obj(pod)['spec']);
  const status = obj(obj(pod)['status']);
  return {
    namespace: m.namespace,
    name: m.name,
    node: str(spec['nodeName']),
    podIP: str(status['podIP']),
    hostNetwork: spec['hostNetwork'] === true,
    phase: str(status['phase']),
  };
}

/** Flannel VXLAN / host-gw from its ConfigMap and DaemonSet; everything else `unknown`. */
export function detectNetwork(objects: ClusterObjects): NetworkDetection {
  const evidence: string[] = [];
  const ds = objects.daemonSets.find((d) => meta(d).name === 'kube-flannel-ds');
  if (ds) evidence.push(`DaemonSet ${meta(ds).namespace}/kube-flannel-ds runs`);
  const cfg = objects.configMaps.find((c) => meta(c).name === 'kube-flannel-cfg');
  if (!ds || !cfg) return { cni: 'unknown', mode: null, details: {}, evidence };
  let netConf: Json = {};
  try {
    netConf = obj(JSON.parse(str(obj(obj(cfg)['data'])['net-conf.json']) ?? '{}'));
  } catch {
    return { cni: 'flannel', mode: null, details: {}, evidence };
  }
  const backend = obj(netConf['Backend']);
  const type = (str(backend['Type']) ?? '').toLowerCase();
  evidence.push(
    `ConfigMap ${meta(cfg).namespace}/kube-flannel-cfg net-conf.json Backend.Type ${type}`,
  );
  const details: Json = { backend: type, network: str(netConf['Network']) };
  if (type === 'vxlan') {
    details['vni'] = typeof backend['VNI'] === 'number' ? backend['VNI'] : 1;
    details['port'] = typeof backend['Port'] === 'number' ? backend['Port'] : 8472;
  }
  const mode = type === 'vxlan' ? 'flannel-vxlan' : type === 'host-gw' ? 'flannel-host-gw' : null;
  return { cni: 'flannel', mode, details, evidence };
}

/** kube-proxy's `mode:` from `kube-system/kube-proxy` (empty means iptables). */
export function detectKubeProxy(objects: ClusterObjects): KubeProxyDetection {
  const cm = objects.configMaps.find(
    (c) => meta(c).name === 'kube-proxy' && meta(c).namespace === 'kube-system',
  );
  if (!cm) return { mode: 'unknown', evidence: [] };
  const text = str(obj(obj(cm)['data'])['config.conf']);
  if (text === null) return { mode: 'unknown', evidence: [] };
  let mode: unknown;
  try {
    mode = obj(parse(text))['mode'];
  } catch {
    return { mode: 'unknown', evidence: ['kube-system/kube-proxy config.conf does not parse'] };
  }
  const m = typeof mode === 'string' ? mode : '';
  const said = `ConfigMap kube-system/kube-proxy config.conf mode: "${m}"`;
  if (m === '' || m === 'iptables') return { mode: 'iptables', evidence: [said] };
  if (m === 'ipvs' || m === 'nftables') return { mode: m, evidence: [said] };
  return { mode: 'unknown', evidence: [said] };
}
