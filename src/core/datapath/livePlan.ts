/**
 * Live datapath plans: the same hop plan as the static model, but built from what
 * the two nodes really hold (`ip -d link`, `ip addr`, `ip route`, `ip neigh`,
 * `bridge fdb`) and from each pod's eth0, whose iflink names its host-side veth.
 * Interface names, node IPs, VNI, port and MTU come from that state; where the
 * state contradicts the detected CNI mode (no tunnel device, no route or FDB entry
 * for the peer, a blackhole, a pod MTU the tunnel cannot carry) the result lists
 * the problem in one sentence, before anything is captured.
 *
 * The state is read as text (what the netstate parsers and the walkthroughs use).
 */
import type { IpAddrInterface } from '../netstate/ipLink';
import { parseIpAddr, parseIpLink, vxlanSettings } from '../netstate/ipLink';
import type { IpNeighbour } from '../netstate/ipNeigh';
import { parseIpNeigh } from '../netstate/ipNeigh';
import type { IpRoute } from '../netstate/ipRoute';
import { formatRoute, parseIpRoute } from '../netstate/ipRoute';
import type { FdbEntry } from '../netstate/bridgeFdb';
import { parseBridgeFdb } from '../netstate/bridgeFdb';
import { ipv4InCidr, ipv4Network, isIpv4, PlanInputError } from './planInput';
import { buildDatapathPlan } from './plans';
import { hopFileName } from './podPath';
import type { CniMode, DatapathPlan, Endpoint, NodeInfo, PlanHop, PlanInput, Probe } from './types';

/** Text a node's shell printed for each command (`ip -d link show`, `ip addr show`, …). */
export interface NodeStateDump {
  /** `ip -d link show` */
  link: string;
  /** `ip addr show` */
  addr: string;
  /** `ip route show` */
  route: string;
  /** `ip neigh show` */
  neigh: string;
  /** `bridge fdb show` (empty when the mode has no VXLAN device) */
  fdb: string;
}

/** One pod as the live plan needs it: where it runs, its IP (from the API) and its eth0. */
export interface LivePod {
  name: string;
  node: string;
  ip: string;
  /** `ip -d link show` inside the pod's network namespace. */
  link: string;
  /** Interface inside the pod, default `eth0`. */
  interface?: string;
}

export interface LivePlanInput {
  mode: CniMode;
  source: LivePod;
  destination: LivePod;
  /** State of each node the pods run on, by node name. */
  nodes: Readonly<Record<string, NodeStateDump>>;
  probe?: Probe;
  initialTtl?: number;
}

export interface LivePlan {
  /** The hop plan with the real names, or null when the state is too incomplete to plan. */
  plan: DatapathPlan | null;
  /** The PlanInput derived from the state (null with the plan). */
  input: PlanInput | null;
  /** Where the state contradicts the mode, one sentence each; empty when all agrees. */
  problems: string[];
}

interface ParsedNode {
  name: string;
  links: IpAddrInterface[];
  routes: IpRoute[];
  neighbours: IpNeighbour[];
  fdb: FdbEntry[];
}

interface ModeDevices {
  /** Pods hang off a bridge (Flannel) or sit behind routed veths (Calico). */
  bridged: boolean;
  /** How the tunnel device is recognised, or null for plain routing. */
  tunnel: { what: string; matches: (l: IpAddrInterface) => boolean; kind: 'vxlan' | 'ipip' } | null;
}

function modeDevices(mode: CniMode): ModeDevices {
  switch (mode) {
    case 'flannel-vxlan':
      return {
        bridged: true,
        tunnel: {
          what: 'flannel.<VNI>',
          matches: (l) => l.kind === 'vxlan' && /^flannel\.\d+$/.test(l.name),
          kind: 'vxlan',
        },
      };
    case 'flannel-host-gw':
    case 'kubenet':
      return { bridged: true, tunnel: null };
    case 'calico-vxlan':
      return {
        bridged: false,
        tunnel: { what: 'vxlan.calico', matches: (l) => l.name === 'vxlan.calico', kind: 'vxlan' },
      };
    case 'calico-ipip':
    case 'calico-crosssubnet':
      return {
        bridged: false,
        tunnel: { what: 'tunl0', matches: (l) => l.name === 'tunl0', kind: 'ipip' },
      };
    case 'calico-bgp':
      return { bridged: false, tunnel: null };
  }
}

/** The names the static plan builders use for devices the live state may name otherwise. */
const MODEL_TUNNEL: Partial<Record<CniMode, string>> = {
  'flannel-vxlan': 'flannel.1',
  'calico-vxlan': 'vxlan.calico',
  'calico-ipip': 'tunl0',
  'calico-crosssubnet': 'tunl0',
};
const MODEL_BRIDGE: Partial<Record<CniMode, string>> = {
  'flannel-vxlan': 'cni0',
  'flannel-host-gw': 'cni0',
  kubenet: 'cbr0',
};

function parseNode(name: string, dump: NodeStateDump): ParsedNode {
  // `ip -d link` has the kinds and VXLAN settings, `ip addr` the addresses: join them by index.
  const detailed = new Map(parseIpLink(dump.link).map((l) => [l.index, l]));
  const links = parseIpAddr(dump.addr).map((a) => ({
    ...a,
    ...detailed.get(a.index),
    addresses: a.addresses,
  }));
  for (const [index, l] of detailed) {
    if (!links.some((a) => a.index === index)) links.push({ ...l, addresses: [] });
  }
  return {
    name,
    links,
    routes: parseIpRoute(dump.route),
    neighbours: parseIpNeigh(dump.neigh),
    fdb: parseBridgeFdb(dump.fdb),
  };
}

function prefixBits(destination: string): { net: string; bits: number } | null {
  if (destination === 'default') return { net: '0.0.0.0/0', bits: 0 };
  if (isIpv4(destination)) return { net: `${destination}/32`, bits: 32 };
  const [base, bitsText] = destination.split('/');
  const bits = Number(bitsText);
  if (base === undefined || !isIpv4(base) || !Number.isInteger(bits)) return null;
  return { net: destination, bits };
}

/** The main-table route the kernel would pick for `ip` (longest prefix; IPv4 only). */
export function routeFor(routes: readonly IpRoute[], ip: string): IpRoute | undefined {
  let best: { route: IpRoute; bits: number } | undefined;
  for (const route of routes) {
    if (route.table !== undefined && route.table !== 'main') continue;
    if (
      route.type !== 'unicast' &&
      route.type !== 'blackhole' &&
      route.type !== 'unreachable' &&
      route.type !== 'prohibit'
    )
      continue;
    const p = prefixBits(route.destination);
    if (!p || ipv4InCidr(ip, p.net) !== true) continue;
    if (!best || p.bits > best.bits) best = { route, bits: p.bits };
  }
  return best?.route;
}

function routeDev(route: IpRoute): string | undefined {
  return route.dev ?? route.nexthops[0]?.dev;
}

function routeVia(route: IpRoute): string | undefined {
  return route.via ?? route.nexthops[0]?.via;
}

interface NodeFacts {
  info: NodeInfo;
  uplink: IpAddrInterface;
}

function nodeFacts(node: ParsedNode, problems: string[]): NodeFacts | null {
  const def = routeFor(
    node.routes.filter((r) => r.destination === 'default'),
    '0.0.0.0',
  );
  const devName = def ? routeDev(def) : undefined;
  // Without a default route, the uplink is the interface with a global IPv4 address that is not a pod device.
  const uplink =
    node.links.find((l) => l.name === devName) ??
    node.links.find(
      (l) =>
        l.name !== 'lo' && l.addresses.some((a) => a.family === 'inet' && a.scope === 'global'),
    );
  if (!uplink) {
    problems.push(
      `${node.name} has no default route and no interface with a global IPv4 address: its uplink is unknown.`,
    );
    return null;
  }
  const address = uplink.addresses.find((a) => a.family === 'inet');
  if (!address) {
    problems.push(`${node.name}'s uplink ${uplink.name} has no IPv4 address.`);
    return null;
  }
  const info: NodeInfo = { name: node.name, ip: address.address, interface: uplink.name };
  if (uplink.mac) info.mac = uplink.mac;
  const subnet = ipv4Network(address.address, address.prefixLength);
  if (subnet) info.subnet = subnet;
  return { info, uplink };
}

interface PodFacts {
  endpoint: Endpoint;
  mtu: number;
  /** The host-side interface found by iflink. */
  host?: IpAddrInterface;
}

function podFacts(pod: LivePod, node: ParsedNode, problems: string[]): PodFacts {
  const ifName = pod.interface ?? 'eth0';
  const endpoint: Endpoint = {
    kind: 'pod',
    name: pod.name,
    node: pod.node,
    ip: pod.ip,
    interface: ifName,
  };
  const own = parseIpLink(pod.link).find((l) => l.name === ifName);
  if (!own) {
    problems.push(`${pod.name} has no ${ifName} in its network namespace.`);
    return { endpoint, mtu: 1500 };
  }
  if (own.mac) endpoint.mac = own.mac;
  if (own.peerIndex === undefined) {
    problems.push(
      `${pod.name}'s ${ifName} shows no peer ifindex (iflink): it is not one end of a veth pair.`,
    );
    return { endpoint, mtu: own.mtu };
  }
  const host = node.links.find((l) => l.index === own.peerIndex);
  if (!host) {
    problems.push(
      `${node.name} has no interface with ifindex ${own.peerIndex} (the iflink of ${pod.name}'s ${ifName}): the pod's host-side veth is missing.`,
    );
    return { endpoint, mtu: own.mtu };
  }
  endpoint.hostInterface = host.name;
  return { endpoint, mtu: own.mtu, host };
}

function neighbourFor(node: ParsedNode, ip: string, dev: string): IpNeighbour | undefined {
  return node.neighbours.find((n) => n.address === ip && n.dev === dev && n.lladdr !== undefined);
}

/** Checks the source node's way to the peer (route, tunnel, neighbour, FDB) and the peer's route back to its pod. */
function checkCrossNode(
  mode: CniMode,
  devices: ModeDevices,
  a: ParsedNode,
  b: ParsedNode,
  nodeB: NodeFacts,
  dst: PodFacts,
  problems: string[],
): void {
  const dstIp = dst.endpoint.ip;
  const route = routeFor(a.routes, dstIp);
  const tunnelA = devices.tunnel ? a.links.find(devices.tunnel.matches) : undefined;
  if (!route) {
    problems.push(`${a.name} has no route to ${dstIp} (not even a default route).`);
  } else if (route.type !== 'unicast') {
    problems.push(
      `${a.name} routes ${dstIp} by \`${formatRoute(route)}\`: a ${route.type} route drops the probe.`,
    );
  } else if (route.destination === 'default') {
    problems.push(
      `${a.name} has no route for ${dstIp}'s pod network: the probe would follow the default route out of ${routeDev(route) ?? '?'}.`,
    );
  } else if (devices.tunnel) {
    const dev = routeDev(route);
    if (tunnelA && dev !== tunnelA.name) {
      problems.push(
        `${a.name} routes ${dstIp} by \`${formatRoute(route)}\`, not into ${tunnelA.name} as ${mode} does.`,
      );
    }
    const via = routeVia(route);
    if (tunnelA && dev === tunnelA.name && devices.tunnel.kind === 'vxlan' && via !== undefined) {
      const neigh = neighbourFor(a, via, tunnelA.name);
      if (!neigh) {
        problems.push(
          `${a.name} has no neighbour entry for ${via} on ${tunnelA.name}: the VXLAN device cannot address the peer's VTEP.`,
        );
      } else {
        const fdb = a.fdb.find(
          (f) => f.mac === neigh.lladdr && f.dev === tunnelA.name && f.dst !== undefined,
        );
        if (!fdb) {
          problems.push(
            `${a.name} has no FDB entry for ${neigh.lladdr ?? '?'} on ${tunnelA.name}: it does not know which node to send the encapsulated frame to.`,
          );
        } else if (fdb.dst !== nodeB.info.ip) {
          problems.push(
            `${a.name}'s FDB entry for ${neigh.lladdr ?? '?'} on ${tunnelA.name} sends to ${fdb.dst ?? '?'}, not to ${b.name} (${nodeB.info.ip}).`,
          );
        }
      }
    }
  } else {
    const via = routeVia(route);
    if (via !== nodeB.info.ip) {
      problems.push(
        `${a.name} routes ${dstIp} by \`${formatRoute(route)}\`, not via ${b.name} (${nodeB.info.ip}) as ${mode} does.`,
      );
    }
  }
  if (devices.tunnel) {
    const tunnelB = b.links.find(devices.tunnel.matches);
    if (!tunnelA)
      problems.push(
        `${a.name} has no ${devices.tunnel.what} device, which ${mode} sends cross-node traffic through.`,
      );
    if (!tunnelB)
      problems.push(
        `${b.name} has no ${devices.tunnel.what} device, which ${mode} receives cross-node traffic on.`,
      );
    if (tunnelA && tunnelB && devices.tunnel.kind === 'vxlan') {
      const va = vxlanSettings(tunnelA);
      const vb = vxlanSettings(tunnelB);
      if (va && vb && (va.id !== vb.id || va.dstport !== vb.dstport)) {
        problems.push(
          `${a.name}'s ${tunnelA.name} (VNI ${va.id}, port ${va.dstport ?? '?'}) and ${b.name}'s ${tunnelB.name} (VNI ${vb.id}, port ${vb.dstport ?? '?'}) disagree.`,
        );
      }
    }
  }
  const back = routeFor(b.routes, dstIp);
  const expectedDev = devices.bridged ? dst.host?.master : dst.host?.name;
  if (!back || back.type !== 'unicast') {
    problems.push(`${b.name} has no usable route to its own pod ${dstIp}.`);
  } else if (expectedDev !== undefined && routeDev(back) !== expectedDev) {
    problems.push(
      `${b.name} routes ${dstIp} by \`${formatRoute(back)}\`, not out of ${expectedDev} where the pod's veth is.`,
    );
  }
}

function renameHop(hop: PlanHop, index: number, iface: string, mtu: number | undefined): PlanHop {
  return {
    ...hop,
    interface: iface,
    name: hopFileName(index + 1, hop.location, iface),
    mtu: mtu ?? hop.mtu,
  };
}

function replaceAll(text: string, from: string, to: string): string {
  return from === to ? text : text.split(from).join(to);
}

/**
 * The hop plan for a probe between two pods, built from the nodes' real state:
 * the pods' host veths found by iflink, the bridge they hang on, the tunnel device
 * (`flannel.<VNI>`, `vxlan.calico`, `tunl0`) with its VNI, port and MTU, and each
 * node's uplink and IP. Problems name every place the state contradicts `mode`.
 */
export function buildLivePlan(input: LivePlanInput): LivePlan {
  const problems: string[] = [];
  const devices = modeDevices(input.mode);
  const parsed = new Map<string, ParsedNode>();
  for (const pod of [input.source, input.destination]) {
    const dump = input.nodes[pod.node];
    if (!dump) {
      problems.push(`No state was read from node ${pod.node}, where ${pod.name} runs.`);
      continue;
    }
    if (!parsed.has(pod.node)) parsed.set(pod.node, parseNode(pod.node, dump));
  }
  const a = parsed.get(input.source.node);
  const b = parsed.get(input.destination.node);
  if (!a || !b) return { plan: null, input: null, problems };
  const nodeA = nodeFacts(a, problems);
  const nodeB = a === b ? nodeA : nodeFacts(b, problems);
  if (!nodeA || !nodeB) return { plan: null, input: null, problems };
  const src = podFacts(input.source, a, problems);
  const dst = podFacts(input.destination, b, problems);
  const sameNode = a === b;

  for (const [pod, node] of [
    [src, a],
    [dst, b],
  ] as const) {
    const host = pod.host;
    if (!host) continue;
    if (devices.bridged && host.master === undefined) {
      problems.push(
        `${pod.endpoint.name}'s host veth ${host.name} on ${node.name} is on no bridge; ${input.mode} puts pods on one.`,
      );
    }
    if (!devices.bridged && host.master !== undefined) {
      problems.push(
        `${pod.endpoint.name}'s host veth ${host.name} on ${node.name} is a port of ${host.master}; ${input.mode} routes pods, it does not bridge them.`,
      );
    }
  }

  const tunnelA = devices.tunnel ? a.links.find(devices.tunnel.matches) : undefined;
  const tunnelB = devices.tunnel ? b.links.find(devices.tunnel.matches) : undefined;
  if (!sameNode) checkCrossNode(input.mode, devices, a, b, nodeB, dst, problems);
  if (!sameNode && tunnelA && src.mtu > tunnelA.mtu) {
    problems.push(
      `${src.endpoint.name}'s ${src.endpoint.interface ?? 'eth0'} has MTU ${src.mtu} but ${a.name}'s ${tunnelA.name} only ${tunnelA.mtu}: full-size packets are dropped going into the tunnel.`,
    );
  }

  const planInput: PlanInput = {
    mode: input.mode,
    source: src.endpoint,
    destination: dst.endpoint,
    nodes: sameNode ? [nodeA.info] : [nodeA.info, nodeB.info],
    probe: input.probe ?? { protocol: 'icmp' },
    initialTtl: input.initialTtl ?? 64,
  };
  const vx = tunnelA ? vxlanSettings(tunnelA) : undefined;
  if (vx) {
    planInput.vni = vx.id;
    if (vx.dstport !== undefined) planInput.vxlanPort = vx.dstport;
  }

  let plan: DatapathPlan;
  try {
    plan = buildDatapathPlan(planInput);
  } catch (e) {
    if (e instanceof PlanInputError) {
      problems.push(e.message);
      return { plan: null, input: null, problems };
    }
    throw e;
  }

  // The model names the tunnel and bridge as the defaults do; the state may name them otherwise.
  const renames = new Map<string, Map<string, string>>();
  const rename = (node: string, from: string | undefined, to: string | undefined): void => {
    if (from === undefined || to === undefined) return;
    const m = renames.get(node) ?? new Map<string, string>();
    m.set(from, to);
    renames.set(node, m);
  };
  rename(a.name, MODEL_TUNNEL[input.mode], tunnelA?.name);
  rename(b.name, MODEL_TUNNEL[input.mode], tunnelB?.name);
  rename(a.name, MODEL_BRIDGE[input.mode], src.host?.master);
  rename(b.name, MODEL_BRIDGE[input.mode], dst.host?.master);
  const linkOn = (node: ParsedNode, name: string): IpAddrInterface | undefined =>
    node.links.find((l) => l.name === name);
  const hops = plan.hops.map((hop, i) => {
    if (hop.location.kind === 'pod') {
      const pod = hop.location.name === src.endpoint.name ? src : dst;
      return renameHop(hop, i, hop.interface, pod.mtu);
    }
    const node = hop.location.name === a.name ? a : b;
    const real = renames.get(node.name)?.get(hop.interface) ?? hop.interface;
    return renameHop(hop, i, real, linkOn(node, real)?.mtu);
  });
  let notes = plan.notes;
  for (const [from, to] of [
    [MODEL_TUNNEL[input.mode], tunnelA?.name],
    [MODEL_BRIDGE[input.mode], src.host?.master],
  ] as const) {
    if (from === undefined || to === undefined || from === to) continue;
    notes = notes.map((n) => replaceAll(n, from, to));
    for (const hop of hops) {
      hop.description = replaceAll(hop.description, from, to);
      hop.label = replaceAll(hop.label, from, to);
    }
  }
  return { plan: { ...plan, hops, notes }, input: planInput, problems };
}
