/**
 * The offline labs as argv lists: what `ip` and `bridge` must run to build a lab of the
 * catalogue (src/core/labs/catalog.ts), and BIRD's configuration per node. Pure, so the
 * exact commands are tested without root; src/platform/netns/labBuild.ts runs them.
 *
 * Commands are plain `ip -n <ns> …` (no `ip netns exec` where netlink can target the
 * namespace directly: it is faster); each list is one device's or one namespace's
 * commands in order, and lists for different namespaces may run concurrently.
 */
import type { BirdConfigInput } from './birdConfig';
import type { FaultKind, LabClientSpec, LabDefinition, LabNodeSpec, LabPodSpec } from './catalog';
import { LAB_PREFIX } from './runRecord';

/** The underlay (the switch between the nodes) namespace's role. */
export const UNDERLAY_ROLE = 'ul';

/** Namespace name of a lab role: `pp-fv-nodeA`, `pp-fv-podA`, `pp-fv-ul`. */
export function labNamespace(lab: LabDefinition, role: string): string {
  return `${LAB_PREFIX}${lab.network.short}-${role}`;
}

/** Every namespace a lab has: the underlay, its nodes and its pods. */
export function labNamespaces(lab: LabDefinition): string[] {
  return [
    UNDERLAY_ROLE,
    ...lab.network.nodes.map((n) => n.name),
    ...lab.network.pods.map((p) => p.name),
    ...(lab.network.clients ?? []).map((c) => c.name),
  ].map((r) => labNamespace(lab, r));
}

function nodeOf(lab: LabDefinition, name: string): LabNodeSpec {
  const node = lab.network.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`lab ${lab.id} has no node ${name}`);
  return node;
}

/** `ip netns exec <ns> sysctl -q -e -w …` (-e: keys a kernel lacks, like bridge-nf-call without br_netfilter, are skipped). */
export function sysctlArgv(ns: string, settings: Record<string, string>): string[] {
  return [
    'ip',
    'netns',
    'exec',
    ns,
    'sysctl',
    '-q',
    '-e',
    '-w',
    ...Object.entries(settings).map(([k, v]) => `${k}=${v}`),
  ];
}

/** The underlay switch: a bridge in the underlay namespace. */
export function underlayCommands(lab: LabDefinition): string[][] {
  const ul = labNamespace(lab, UNDERLAY_ROLE);
  const u = lab.network.underlay;
  return [
    ['ip', '-n', ul, 'link', 'set', 'lo', 'up'],
    [
      'ip',
      '-n',
      ul,
      'link',
      'add',
      u.bridge,
      'address',
      u.mac,
      'mtu',
      String(u.mtu),
      'type',
      'bridge',
    ],
    ['ip', '-n', ul, 'addr', 'add', `${u.ip}/${u.prefixLength}`, 'dev', u.bridge],
    ['ip', '-n', ul, 'link', 'set', u.bridge, 'up'],
  ];
}

/** A node's cable to the switch: a veth from the underlay bridge to the node's eth0. */
export function underlayPortCommands(lab: LabDefinition, node: LabNodeSpec): string[][] {
  const ul = labNamespace(lab, UNDERLAY_ROLE);
  return [
    [
      'ip',
      '-n',
      ul,
      'link',
      'add',
      node.underlayPort,
      'address',
      node.underlayPortMac,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'address',
      node.mac,
      'netns',
      labNamespace(lab, node.name),
    ],
    ['ip', '-n', ul, 'link', 'set', node.underlayPort, 'master', lab.network.underlay.bridge, 'up'],
  ];
}

/**
 * A machine outside the cluster (a Service lab's NodePort client): a veth from the
 * underlay bridge to its eth0, its address on the node subnet, and nothing else.
 */
export function clientCommands(lab: LabDefinition, client: LabClientSpec): string[][] {
  const ul = labNamespace(lab, UNDERLAY_ROLE);
  const ns = labNamespace(lab, client.name);
  const u = lab.network.underlay;
  return [
    [
      'ip',
      '-n',
      ul,
      'link',
      'add',
      client.underlayPort,
      'address',
      client.underlayPortMac,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'address',
      client.mac,
      'netns',
      ns,
    ],
    ['ip', '-n', ul, 'link', 'set', client.underlayPort, 'master', u.bridge, 'up'],
    ['ip', '-n', ns, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', ns, 'addr', 'add', `${client.ip}/${u.prefixLength}`, 'dev', 'eth0'],
    ['ip', '-n', ns, 'link', 'set', 'eth0', 'up'],
  ];
}

/** Everything a node namespace needs, in order: addresses, routes, bridge, tunnel, peers, sysctls. */
export function nodeCommands(
  lab: LabDefinition,
  node: LabNodeSpec,
  fault: FaultKind | undefined,
): string[][] {
  const ns = labNamespace(lab, node.name);
  const ipn = (...args: string[]): string[] => ['ip', '-n', ns, ...args];
  const u = lab.network.underlay;
  const onA = node.name === 'nodeA';
  const peers = lab.network.nodes.filter((n) => n.name !== node.name);
  const routing = lab.network.routing;
  const cmds: string[][] = [
    ipn('link', 'set', 'lo', 'up'),
    ipn('addr', 'add', `${node.ip}/${u.prefixLength}`, 'dev', 'eth0'),
    ipn('link', 'set', 'eth0', 'up'),
    ipn('route', 'add', 'default', 'via', u.ip, 'dev', 'eth0'),
    sysctlArgv(ns, {
      'net.ipv4.ip_forward': '1',
      'net.ipv4.conf.all.rp_filter': '0',
      'net.ipv4.conf.default.rp_filter': '0',
      'net.ipv4.conf.all.proxy_arp': '0',
      'net.bridge.bridge-nf-call-iptables': '1',
    }),
  ];
  if (node.bridge) {
    const b = node.bridge;
    cmds.push(
      ipn('link', 'add', b.name, 'address', b.mac, 'mtu', String(b.mtu), 'type', 'bridge'),
      ipn('addr', 'add', `${b.address}/${b.prefixLength}`, 'dev', b.name),
      ipn('link', 'set', b.name, 'up'),
    );
  }
  const t = node.tunnel;
  // the MTU fault is on the pod side: the tunnel keeps its (correct) smaller MTU
  if (t && t.kind === 'vxlan') {
    cmds.push(
      ipn(
        'link',
        'add',
        t.device,
        'address',
        t.mac ?? '',
        'mtu',
        String(t.mtu),
        'type',
        'vxlan',
        'id',
        String(t.vni ?? 1),
        'local',
        node.ip,
        'dev',
        'eth0',
        'dstport',
        String(t.port ?? 4789),
        'nolearning',
      ),
      ipn('addr', 'add', `${t.address}/32`, 'dev', t.device),
      ipn('link', 'set', t.device, 'up'),
    );
    for (const p of peers) {
      const pt = p.tunnel;
      if (!pt) continue;
      cmds.push(
        ipn(
          'neigh',
          'replace',
          pt.address,
          'lladdr',
          pt.mac ?? '',
          'dev',
          t.device,
          'nud',
          'permanent',
        ),
      );
      if (!(onA && fault === 'missing-fdb'))
        cmds.push([
          'bridge',
          '-n',
          ns,
          'fdb',
          'append',
          pt.mac ?? '',
          'dev',
          t.device,
          'dst',
          p.ip,
          'self',
          'permanent',
        ]);
    }
  }
  if (t && t.kind === 'ipip') {
    // the ipip module creates a fallback tunl0 in every namespace; use it like Calico does
    cmds.push(
      ipn('link', 'set', t.device, 'mtu', String(t.mtu), 'up'),
      ipn('addr', 'add', `${t.address}/32`, 'dev', t.device),
    );
  }
  const skipPeerRoute = onA && fault === 'missing-route' && !lab.sameNode;
  for (const p of peers) {
    if (skipPeerRoute) break;
    if (routing === 'flannel-vxlan' && p.tunnel)
      cmds.push(
        ipn('route', 'add', p.podCidr, 'via', p.tunnel.address, 'dev', 'flannel.1', 'onlink'),
      );
    else if (routing === 'flannel-host-gw')
      cmds.push(ipn('route', 'add', p.podCidr, 'via', p.ip, 'dev', 'eth0'));
    else if (routing === 'calico-vxlan' && p.tunnel)
      cmds.push(
        ipn(
          'route',
          'add',
          p.podCidr,
          'via',
          p.tunnel.address,
          'dev',
          'vxlan.calico',
          'onlink',
          'proto',
          '80',
        ),
      );
    else if (routing === 'calico-ipip')
      cmds.push(
        ipn('route', 'add', p.podCidr, 'via', p.ip, 'dev', 'tunl0', 'onlink', 'proto', '80'),
      );
  }
  // Felix blackholes the node's own block; with BIRD, the static protocol does it (proto bird)
  if (routing === 'calico-vxlan' || routing === 'calico-ipip')
    cmds.push(ipn('route', 'add', 'blackhole', node.podCidr, 'proto', '80'));
  return cmds;
}

/** The pod's veth pair, its host side (bridge port or proxy-ARP `cali*`), and the pod's routes. */
export function podCommands(
  lab: LabDefinition,
  pod: LabPodSpec,
  fault: FaultKind | undefined,
): string[][] {
  const nodeNs = labNamespace(lab, pod.node);
  const podNs = labNamespace(lab, pod.name);
  const ipn = (...args: string[]): string[] => ['ip', '-n', nodeNs, ...args];
  const ipp = (...args: string[]): string[] => ['ip', '-n', podNs, ...args];
  const node = nodeOf(lab, pod.node);
  const mtu = fault === 'mtu-mismatch' && pod.name === 'podA' ? 1500 : pod.mtu;
  const cmds: string[][] = [
    ipn(
      'link',
      'add',
      pod.hostInterface,
      'address',
      pod.hostMac,
      'mtu',
      String(mtu),
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'address',
      pod.mac,
      'mtu',
      String(mtu),
      'netns',
      podNs,
    ),
  ];
  if (node.bridge) {
    cmds.push(ipn('link', 'set', pod.hostInterface, 'master', node.bridge.name, 'up'), [
      'bridge',
      '-n',
      nodeNs,
      'link',
      'set',
      'dev',
      pod.hostInterface,
      'hairpin',
      'on',
    ]);
  } else {
    const h = pod.hostInterface;
    cmds.push(
      ipn('link', 'set', h, 'up'),
      // proxy ARP answers the pod's ARP for 169.254.1.1 with ee:ee:ee:ee:ee:ee;
      // proxy_delay 0 answers at once instead of after up to 0.8 s (as Felix sets it)
      sysctlArgv(nodeNs, {
        [`net.ipv4.conf.${h}.proxy_arp`]: '1',
        [`net.ipv4.neigh.${h}.proxy_delay`]: '0',
        [`net.ipv4.conf.${h}.forwarding`]: '1',
      }),
    );
    const faultHere =
      lab.sameNode && pod.name === 'podB' && (fault === 'missing-route' || fault === 'blackhole');
    if (!faultHere) cmds.push(ipn('route', 'add', pod.ip, 'dev', h, 'scope', 'link'));
    else if (fault === 'blackhole') cmds.push(ipn('route', 'add', 'blackhole', `${pod.ip}/32`));
  }
  cmds.push(
    ipp('link', 'set', 'lo', 'up'),
    ipp('addr', 'add', `${pod.ip}/${pod.prefixLength}`, 'dev', 'eth0'),
    ipp('link', 'set', 'eth0', 'up'),
  );
  if (node.bridge) {
    const gw = node.bridge.address;
    cmds.push(
      ipp('route', 'add', lab.network.clusterCidr, 'via', gw, 'dev', 'eth0'),
      ipp('route', 'add', 'default', 'via', gw, 'dev', 'eth0'),
    );
  } else {
    cmds.push(
      ipp('route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link'),
      ipp('route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0'),
    );
  }
  return cmds;
}

/** Commands a fault needs after the pods are up (cross-node blackhole: a route on nodeA). */
export function faultCommands(lab: LabDefinition, fault: FaultKind | undefined): string[][] {
  if (fault !== 'blackhole' || lab.sameNode) return [];
  const podB = lab.network.pods.find((p) => p.name === 'podB');
  return podB
    ? [['ip', '-n', labNamespace(lab, 'nodeA'), 'route', 'add', 'blackhole', `${podB.ip}/32`]]
    : [];
}

/**
 * BIRD's configuration input for `node` (calico-bgp labs), with the fault's filters:
 * missing-route makes nodeA refuse its peers' blocks, blackhole keeps nodeA's blackhole
 * for the peer pod out of what it advertises.
 */
export function birdConfigFor(
  lab: LabDefinition,
  node: LabNodeSpec,
  fault: FaultKind | undefined,
  logPath: string,
): BirdConfigInput {
  const nodes = lab.network.nodes;
  const peerPod = lab.network.pods.find((p) => p.name === 'podB');
  const onA = node.name === 'nodeA';
  return {
    node: node.name,
    routerId: node.ip,
    sourceAddress: node.ip,
    asn: lab.network.bgpAsn ?? 64512,
    block: node.podCidr,
    pool: lab.network.clusterCidr,
    peers: nodes.filter((n) => n !== node).map((n) => ({ ip: n.ip })),
    logPath,
    // calico-node waits 2 s; the lab connects at once so a run stays short
    connectDelaySeconds: 1,
    rejectFromPeers:
      onA && fault === 'missing-route' && !lab.sameNode
        ? nodes.filter((n) => n !== node).map((n) => n.podCidr)
        : undefined,
    // a blackhole for the peer pod must not be advertised back to the peer
    ignoreKernelRoutes: onA && fault === 'blackhole' && peerPod ? [`${peerPod.ip}/32`] : undefined,
  };
}

/** The pod CIDRs `node` must have learnt from BGP before the lab is ready (none when it refuses them). */
export function expectedBgpRoutes(
  lab: LabDefinition,
  node: LabNodeSpec,
  fault: FaultKind | undefined,
): string[] {
  const rejecting = node.name === 'nodeA' && fault === 'missing-route' && !lab.sameNode;
  return rejecting ? [] : lab.network.nodes.filter((n) => n !== node).map((n) => n.podCidr);
}
