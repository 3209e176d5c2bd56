/**
 * Calico: the `calico-node` DaemonSet (manifest install: kube-system; operator:
 * calico-system) and its env, the `calico-config` ConfigMap, the operator's
 * `Installation`, the IP pools (v3 API or the crd.projectcalico.org/v1 CRDs that
 * `kubectl get ippools` returns) and the `projectcalico.org/*` node annotations.
 * The mode is per pool; IP pools read from the API win over the Installation and
 * the env, which only say how the first pool was created.
 */
import { bool, num, obj, objectRef, refText, str, stringMap, arr } from './objectFields';
import { notModelled, type CniSignals } from './signals';
import type { ClusterObjects, DetectedNetworkMode } from './types';
import { configMapsNamed, containerWithImage, daemonSetView, resolveEnv } from './workloads';

type EncapMode = 'Always' | 'CrossSubnet' | 'Never';

export interface CalicoPool {
  name: string;
  cidr: string | null;
  blockSize: number | null;
  ipipMode: EncapMode | null;
  vxlanMode: EncapMode | null;
  natOutgoing: boolean | null;
  disabled: boolean;
  /** Where the pool was read: `IPPool default-ipv4-ippool`, `Installation default`, `DaemonSet … env`. */
  source: string;
  mode: DetectedNetworkMode | null;
}

export interface CalicoNode {
  name: string;
  ipv4Address: string | null;
  ipipTunnelAddr: string | null;
  vxlanTunnelAddr: string | null;
}

function encapMode(v: unknown): EncapMode | null {
  const s = str(v)?.trim().toLowerCase();
  if (s === 'always') return 'Always';
  if (s === 'crosssubnet' || s === 'cross-subnet') return 'CrossSubnet';
  // Calico accepts "Off" as a synonym for Never.
  if (s === 'never' || s === 'off') return 'Never';
  return null;
}

/**
 * The datapath of one pool. Neither encapsulation means plain routing, which only
 * works when BIRD distributes the routes (backend `bird`); Calico refuses a pool
 * with both.
 */
function poolMode(
  ipip: EncapMode | null,
  vxlan: EncapMode | null,
  backend: string | null,
): DetectedNetworkMode | null {
  const ipipOn = ipip !== null && ipip !== 'Never';
  const vxlanOn = vxlan !== null && vxlan !== 'Never';
  if (ipipOn && vxlanOn) return null;
  if (ipipOn) return ipip === 'CrossSubnet' ? 'calico-ipip-crosssubnet' : 'calico-ipip';
  if (vxlanOn) return vxlan === 'CrossSubnet' ? 'calico-vxlan-crosssubnet' : 'calico-vxlan';
  if (ipip === null && vxlan === null) return null;
  return backend === 'vxlan' || backend === 'none' ? null : 'calico-bgp';
}

function isIpv4Cidr(cidr: string | null): boolean {
  return cidr !== null && /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr.trim());
}

const INSTALLATION_ENCAP: Record<string, [EncapMode, EncapMode]> = {
  ipip: ['Always', 'Never'],
  ipipcrosssubnet: ['CrossSubnet', 'Never'],
  vxlan: ['Never', 'Always'],
  vxlancrosssubnet: ['Never', 'CrossSubnet'],
  none: ['Never', 'Never'],
};

function calicoNodes(nodes: readonly unknown[]): CalicoNode[] {
  const out: CalicoNode[] = [];
  for (const node of nodes) {
    const ann = stringMap(obj(obj(node)['metadata'])['annotations']);
    const entry: CalicoNode = {
      name: objectRef(node, 'Node').name,
      ipv4Address: ann['projectcalico.org/IPv4Address'] ?? null,
      ipipTunnelAddr: ann['projectcalico.org/IPv4IPIPTunnelAddr'] ?? null,
      vxlanTunnelAddr: ann['projectcalico.org/IPv4VXLANTunnelAddr'] ?? null,
    };
    if (entry.ipv4Address || entry.ipipTunnelAddr || entry.vxlanTunnelAddr) out.push(entry);
  }
  return out;
}

/** Calico's traces in the cluster, or null when there are none. */
export function detectCalico(objects: ClusterObjects): CniSignals | null {
  const kinds = new Set<string>();
  const evidence: string[] = [];
  const details: Record<string, unknown> = {};
  let backend: string | null = null;
  const env: Record<string, string> = {};
  let envSource = '';

  const ds = objects.daemonSets
    .map(daemonSetView)
    .find(
      (d) => d.ref.name === 'calico-node' && containerWithImage(d, ['calico/node', 'calico-node']),
    );
  if (ds) {
    kinds.add('daemonset');
    const node = containerWithImage(ds, ['calico/node', 'calico-node']);
    details['daemonSet'] = refText(ds.ref).replace(/^DaemonSet /, '');
    evidence.push(`${refText(ds.ref)} runs calico-node (image ${node?.image ?? '?'})`);
    envSource = `${refText(ds.ref)} env`;
    for (const e of node?.env ?? []) {
      if (
        !/^(CALICO_IPV[46]POOL_|CALICO_NETWORKING_BACKEND$|CLUSTER_TYPE$|FELIX_VXLAN|FELIX_IPINIP)/.test(
          e.name,
        )
      )
        continue;
      const v = resolveEnv(e, objects.configMaps, ds.ref.namespace);
      if (!v) continue;
      env[e.name] = v.value;
      evidence.push(
        `${envSource} ${e.name}=${v.value}${v.from === 'value' ? '' : ` (from ${v.from})`}`,
      );
    }
    if (Object.keys(env).length > 0) details['env'] = env;
    backend = env['CALICO_NETWORKING_BACKEND']?.toLowerCase() ?? null;
  }

  const cm = configMapsNamed(objects.configMaps, 'calico-config', [
    'kube-system',
    'calico-system',
  ])[0];
  if (cm) {
    kinds.add('configmap');
    const cmBackend = cm.data['calico_backend'];
    if (cmBackend !== undefined) {
      backend ??= cmBackend.toLowerCase();
      evidence.push(`${refText(cm.ref)} calico_backend=${cmBackend}`);
    }
    const mtu = num(cm.data['veth_mtu']);
    // veth_mtu "0" means auto-detected by calico-node, so it says nothing about the MTU.
    if (mtu !== null && mtu > 0) {
      details['mtu'] = mtu;
      evidence.push(`${refText(cm.ref)} veth_mtu=${mtu}`);
    }
  }

  let bgpDisabled = false;
  const installationPools: CalicoPool[] = [];
  for (const inst of objects.installations) {
    const ref = objectRef(inst, 'Installation');
    const net = obj(obj(obj(inst)['spec'])['calicoNetwork']);
    kinds.add('installation');
    const bgp = str(net['bgp']);
    if (bgp !== null) {
      evidence.push(`${refText(ref)} spec.calicoNetwork.bgp=${bgp}`);
      bgpDisabled = bgp.toLowerCase() === 'disabled';
    }
    const mtu = num(net['mtu']);
    if (mtu !== null && details['mtu'] === undefined) details['mtu'] = mtu;
    for (const p of arr(net['ipPools']).map(obj)) {
      const encapText = str(p['encapsulation']);
      const encap = encapText ? INSTALLATION_ENCAP[encapText.toLowerCase()] : undefined;
      const cidr = str(p['cidr']);
      const name = str(p['name']) ?? cidr ?? '?';
      evidence.push(
        `${refText(ref)} spec.calicoNetwork.ipPools[${name}] encapsulation=${encapText ?? '(unset)'}${cidr ? `, cidr=${cidr}` : ''}`,
      );
      installationPools.push({
        name,
        cidr,
        blockSize: num(p['blockSize']),
        ipipMode: encap?.[0] ?? null,
        vxlanMode: encap?.[1] ?? null,
        natOutgoing: str(p['natOutgoing']) === null ? null : str(p['natOutgoing']) === 'Enabled',
        disabled: false,
        source: refText(ref),
        mode: null,
      });
    }
  }
  if (bgpDisabled) backend ??= 'none';

  const apiPools: CalicoPool[] = [];
  for (const pool of objects.ipPools) {
    const ref = objectRef(pool, 'IPPool');
    const apiVersion = str(obj(pool)['apiVersion']) ?? '';
    if (ref.kind !== 'IPPool' || !/projectcalico\.org\//.test(apiVersion)) continue;
    kinds.add('ippools');
    const spec = obj(obj(pool)['spec']);
    const entry: CalicoPool = {
      name: ref.name,
      cidr: str(spec['cidr']),
      blockSize: num(spec['blockSize']),
      ipipMode: encapMode(spec['ipipMode']) ?? 'Never',
      vxlanMode: encapMode(spec['vxlanMode']) ?? 'Never',
      natOutgoing: bool(spec['natOutgoing']),
      disabled: bool(spec['disabled']) === true,
      source: `IPPool ${ref.name} (${apiVersion})`,
      mode: null,
    };
    evidence.push(
      `IPPool ${ref.name} (${apiVersion}) cidr=${entry.cidr ?? '?'}, ipipMode=${str(spec['ipipMode']) ?? '(unset: Never)'}, vxlanMode=${str(spec['vxlanMode']) ?? '(unset: Never)'}`,
    );
    apiPools.push(entry);
  }

  const envPool = (): CalicoPool[] => {
    const ipip = encapMode(env['CALICO_IPV4POOL_IPIP']);
    const vxlan = encapMode(env['CALICO_IPV4POOL_VXLAN']);
    if (ipip === null && vxlan === null) return [];
    return [
      {
        name: 'default-ipv4-ippool',
        cidr: env['CALICO_IPV4POOL_CIDR'] ?? null,
        blockSize: num(env['CALICO_IPV4POOL_BLOCK_SIZE']),
        ipipMode: ipip ?? 'Never',
        vxlanMode: vxlan ?? 'Never',
        natOutgoing: bool(env['CALICO_IPV4POOL_NAT_OUTGOING']),
        disabled: false,
        source: envSource,
        mode: null,
      },
    ];
  };
  const pools =
    apiPools.length > 0 ? apiPools : installationPools.length > 0 ? installationPools : envPool();
  for (const p of pools) p.mode = poolMode(p.ipipMode, p.vxlanMode, backend);

  const nodes = calicoNodes(objects.nodes);
  if (nodes.length > 0) {
    kinds.add('node-annotations');
    details['nodes'] = nodes;
    for (const n of nodes) {
      const parts = [
        n.ipv4Address && `IPv4Address=${n.ipv4Address}`,
        n.ipipTunnelAddr && `IPv4IPIPTunnelAddr=${n.ipipTunnelAddr}`,
        n.vxlanTunnelAddr && `IPv4VXLANTunnelAddr=${n.vxlanTunnelAddr}`,
      ].filter(Boolean);
      evidence.push(`Node ${n.name} annotations projectcalico.org/${parts.join(', ')}`);
    }
  }

  if (kinds.size === 0) return null;
  if (backend !== null) details['backend'] = backend;
  details['pools'] = pools;

  const ipv4 = pools.filter((p) => !p.disabled && (isIpv4Cidr(p.cidr) || p.cidr === null));
  const main = ipv4.find((p) => p.name === 'default-ipv4-ippool') ?? ipv4[0];
  let mode: DetectedNetworkMode | null = main?.mode ?? null;
  if (main) {
    details['pool'] = main.name;
    const others = [...new Set(ipv4.map((p) => p.mode))];
    if (others.length > 1) {
      details['modesDiffer'] = true;
      evidence.push(
        `IPv4 pools use different modes (${ipv4.map((p) => `${p.name}: ${p.mode ?? 'not modelled'}`).join(', ')}); the overall mode is ${main.name}'s`,
      );
    }
  } else if (nodes.some((n) => n.vxlanTunnelAddr) && !nodes.some((n) => n.ipipTunnelAddr)) {
    // No pool was readable, but the tunnel addresses Calico allocates name the encapsulation.
    mode = null;
    details['tunnelHint'] = 'vxlan';
  } else if (nodes.some((n) => n.ipipTunnelAddr) && !nodes.some((n) => n.vxlanTunnelAddr)) {
    mode = null;
    details['tunnelHint'] = 'ipip';
  }
  if (main && main.mode === null) {
    details['notModelled'] =
      main.ipipMode !== 'Never' && main.vxlanMode !== 'Never'
        ? `Pool ${main.name} asks for both IPIP and VXLAN, which Calico refuses.`
        : notModelled(`Calico without BGP or encapsulation (backend ${backend ?? 'unknown'})`);
  } else if (!main) {
    details['notModelled'] = `No Calico IP pool could be read, so the mode is not known${
      details['tunnelHint']
        ? ` (node tunnel addresses suggest ${String(details['tunnelHint'])})`
        : ''
    }.`;
  }
  return { cni: 'calico', name: 'Calico', kinds, mode, details, evidence };
}
