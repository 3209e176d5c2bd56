/**
 * Flannel: the `kube-flannel-ds` DaemonSet, the `kube-flannel-cfg` ConfigMap's
 * `net-conf.json` (namespace kube-flannel; kube-system before v0.20) and the
 * `flannel.alpha.coreos.com/*` annotations flanneld writes on every node (the only
 * signal on k3s, which embeds Flannel).
 */
import {
  bool,
  isObject,
  num,
  obj,
  objectRef,
  parseJson,
  refText,
  str,
  stringMap,
} from './objectFields';
import { notModelled, type CniSignals } from './signals';
import type { ClusterObjects, DetectedNetworkMode } from './types';
import { configMapsNamed, containerWithImage, daemonSetView } from './workloads';

/** Flannel's defaults for the VXLAN backend (flannel `backend/vxlan`). */
export const FLANNEL_DEFAULT_VNI = 1;
export const FLANNEL_DEFAULT_PORT = 8472;

const ANNOTATION = 'flannel.alpha.coreos.com/';

interface FlannelNode {
  name: string;
  backendType: string | null;
  vtepMAC: string | null;
  vni: number | null;
  publicIP: string | null;
}

function flannelNodes(nodes: readonly unknown[]): FlannelNode[] {
  const out: FlannelNode[] = [];
  for (const node of nodes) {
    const ann = stringMap(obj(obj(node)['metadata'])['annotations']);
    if (!Object.keys(ann).some((k) => k.startsWith(ANNOTATION))) continue;
    const data = obj(parseJson(ann[`${ANNOTATION}backend-data`] ?? ''));
    out.push({
      name: objectRef(node, 'Node').name,
      backendType: ann[`${ANNOTATION}backend-type`] ?? null,
      vtepMAC: str(data['VtepMAC']),
      vni: num(data['VNI']),
      publicIP: ann[`${ANNOTATION}public-ip`] ?? null,
    });
  }
  return out;
}

function modeOf(backend: string): DetectedNetworkMode | null {
  if (backend === 'vxlan') return 'flannel-vxlan';
  if (backend === 'host-gw') return 'flannel-host-gw';
  return null;
}

/** Flannel's traces in the cluster, or null when there are none. */
export function detectFlannel(objects: ClusterObjects): CniSignals | null {
  const kinds = new Set<string>();
  const evidence: string[] = [];
  const details: Record<string, unknown> = {};

  for (const ds of objects.daemonSets.map(daemonSetView)) {
    const named = /^kube-flannel-ds(-|$)/.test(ds.ref.name) || ds.labels['app'] === 'flannel';
    const container = containerWithImage(ds, ['flannel']);
    if (named && container) {
      kinds.add('daemonset');
      details['daemonSet'] = refText(ds.ref).replace(/^DaemonSet /, '');
      evidence.push(`${refText(ds.ref)} runs flanneld (image ${container.image})`);
      break;
    }
  }

  let backendType: string | null = null;
  const cm = configMapsNamed(objects.configMaps, 'kube-flannel-cfg', [
    'kube-flannel',
    'kube-system',
  ])[0];
  if (cm) {
    const text = cm.data['net-conf.json'];
    const conf = text === undefined ? null : parseJson(text);
    if (!isObject(conf)) {
      evidence.push(
        text === undefined
          ? `${refText(cm.ref)} has no net-conf.json`
          : `${refText(cm.ref)} net-conf.json is not valid JSON`,
      );
    } else {
      kinds.add('configmap');
      details['configMap'] = refText(cm.ref).replace(/^ConfigMap /, '');
      const backend = obj(conf['Backend']);
      backendType = str(backend['Type'])?.toLowerCase() ?? null;
      const network = str(conf['Network']);
      if (network) details['network'] = network;
      const subnetLen = num(conf['SubnetLen']);
      if (subnetLen !== null) details['subnetLen'] = subnetLen;
      const nft = bool(conf['EnableNFTables']);
      if (nft !== null) details['enableNFTables'] = nft;
      const vni = num(backend['VNI']);
      const port = num(backend['Port']);
      const mtu = num(backend['MTU']);
      const directRouting = bool(backend['DirectRouting']);
      details['backend'] = backendType;
      if (vni !== null) details['vni'] = vni;
      if (port !== null) details['port'] = port;
      if (mtu !== null) details['mtu'] = mtu;
      if (directRouting !== null) details['directRouting'] = directRouting;
      evidence.push(
        `${refText(cm.ref)} net-conf.json Backend.Type=${backendType ?? '(missing)'}` +
          (network ? `, Network=${network}` : '') +
          (vni !== null ? `, VNI=${vni}` : '') +
          (port !== null ? `, Port=${port}` : '') +
          (directRouting !== null ? `, DirectRouting=${String(directRouting)}` : ''),
      );
    }
  }

  const nodes = flannelNodes(objects.nodes);
  if (nodes.length > 0) {
    kinds.add('node-annotations');
    details['nodes'] = nodes;
    const types = [...new Set(nodes.map((n) => n.backendType).filter((t) => t !== null))];
    for (const n of nodes) {
      evidence.push(
        `Node ${n.name} annotations ${ANNOTATION}backend-type=${n.backendType ?? '(none)'}` +
          (n.vtepMAC ? `, VtepMAC=${n.vtepMAC}` : '') +
          (n.vni !== null ? `, VNI=${n.vni}` : '') +
          (n.publicIP ? `, public-ip=${n.publicIP}` : ''),
      );
    }
    if (backendType === null && types.length === 1 && types[0]) {
      backendType = types[0].toLowerCase();
      details['backend'] = backendType;
    } else if (
      types.length > 1 ||
      (backendType !== null && types.some((t) => t.toLowerCase() !== backendType))
    ) {
      details['backendConflict'] = types;
      evidence.push(
        `Nodes disagree on the backend (${types.join(', ')}); the ConfigMap, when read, wins`,
      );
    }
    if (details['vni'] === undefined) {
      const vnis = [...new Set(nodes.map((n) => n.vni).filter((v) => v !== null))];
      if (vnis.length === 1 && vnis[0] !== undefined) details['vni'] = vnis[0];
    }
  }

  if (kinds.size === 0) return null;
  const mode = backendType === null ? null : modeOf(backendType);
  if (backendType === 'vxlan') {
    const defaults: string[] = [];
    if (details['vni'] === undefined) {
      details['vni'] = FLANNEL_DEFAULT_VNI;
      defaults.push('vni');
    }
    if (details['port'] === undefined) {
      details['port'] = FLANNEL_DEFAULT_PORT;
      defaults.push('port');
    }
    if (defaults.length > 0) details['defaulted'] = defaults;
    details['device'] = `flannel.${String(details['vni'])}`;
    if (details['directRouting'] === true) {
      details['note'] =
        'DirectRouting: nodes on one subnet route host-gw style; Podpath draws the VXLAN path.';
    }
  }
  if (mode === null) {
    details['notModelled'] = notModelled(
      backendType === null ? 'Flannel with an unknown backend' : `Flannel's ${backendType} backend`,
    );
  }
  return { cni: 'flannel', name: 'Flannel', kinds, mode, details, evidence };
}
