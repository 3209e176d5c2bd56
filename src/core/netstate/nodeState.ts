/**
 * What one network namespace (a node, or a pod) looked like when it was read: its
 * routes, neighbours, VXLAN forwarding entries and links, parsed from the usual
 * dumps. Explanations of a lost packet are checked against this, and so are the
 * plan's notes, so that a sentence about the healthy datapath is not shown as true
 * when the node says otherwise.
 */
import { ipv4InCidr } from '../datapath/planInput';
import type { FdbEntry } from './bridgeFdb';
import { parseBridgeFdb } from './bridgeFdb';
import type { IpNeighbour } from './ipNeigh';
import { parseIpNeigh } from './ipNeigh';
import type { IpRoute } from './ipRoute';
import { parseIpRoute } from './ipRoute';
import { parseIpAddr } from './ipLink';

export interface StateLink {
  name: string;
  mtu: number;
  mac?: string;
  /** `172.18.0.5/24`, the first IPv4 address. */
  ipv4?: string;
}

export interface NodeState {
  /** `nodeA`, `podA`: the plan's location names. */
  name: string;
  kind: 'node' | 'pod';
  routes: IpRoute[];
  neighbours: IpNeighbour[];
  fdb: FdbEntry[];
  links: StateLink[];
}

/** The raw dumps of one namespace, as `ip route show`, `ip neigh show`, `bridge fdb show`, `ip -d addr show` print them. */
export interface NodeStateDumps {
  name: string;
  kind: 'node' | 'pod';
  route?: string;
  neigh?: string;
  fdb?: string;
  addr?: string;
}

/** Parses the dumps of one namespace; a missing dump is an empty table. */
export function parseNodeState(dumps: NodeStateDumps): NodeState {
  return {
    name: dumps.name,
    kind: dumps.kind,
    routes: parseIpRoute(dumps.route ?? ''),
    neighbours: parseIpNeigh(dumps.neigh ?? ''),
    fdb: parseBridgeFdb(dumps.fdb ?? ''),
    links: parseIpAddr(dumps.addr ?? '').map((l) => {
      const link: StateLink = { name: l.name, mtu: l.mtu };
      if (l.mac) link.mac = l.mac;
      const v4 = l.addresses.find((a) => a.family === 'inet');
      if (v4) link.ipv4 = `${v4.address}/${v4.prefixLength}`;
      return link;
    }),
  };
}

function prefixBits(destination: string): number {
  if (destination === 'default') return 0;
  const slash = destination.indexOf('/');
  return slash < 0 ? 32 : Number(destination.slice(slash + 1));
}

function covers(route: IpRoute, ip: string): boolean {
  if (route.destination === 'default') return true;
  const cidr = route.destination.includes('/') ? route.destination : `${route.destination}/32`;
  return ipv4InCidr(ip, cidr) === true;
}

/**
 * The main-table route the kernel picks for `ip` (longest prefix; `local` and
 * `broadcast` entries of other tables are not in `ip route show`), or undefined.
 */
export function lookupRoute(routes: readonly IpRoute[], ip: string): IpRoute | undefined {
  let best: IpRoute | undefined;
  for (const r of routes) {
    if (r.table !== undefined && r.table !== 'main') continue;
    if (!covers(r, ip)) continue;
    if (!best || prefixBits(r.destination) > prefixBits(best.destination)) best = r;
  }
  return best;
}

/** The neighbour entry whose link-layer address is `mac` (case-insensitive). */
export function neighbourByMac(state: NodeState, mac: string): IpNeighbour | undefined {
  const m = mac.toLowerCase();
  return state.neighbours.find((n) => n.lladdr?.toLowerCase() === m);
}

/** The link of a node whose MAC is `mac`. */
export function linkByMac(
  states: readonly NodeState[],
  mac: string,
): { state: NodeState; link: StateLink } | undefined {
  const m = mac.toLowerCase();
  for (const state of states) {
    const link = state.links.find((l) => l.mac?.toLowerCase() === m);
    if (link) return { state, link };
  }
  return undefined;
}
