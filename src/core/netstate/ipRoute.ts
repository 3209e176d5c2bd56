/**
 * Parser for `ip route show` text (IPv4 or IPv6, main or any table). One route
 * per line; multipath `nexthop` continuation lines are attached to the route
 * above them.
 */

export type RouteType =
  | 'unicast'
  | 'blackhole'
  | 'unreachable'
  | 'prohibit'
  | 'local'
  | 'broadcast'
  | 'multicast'
  | 'throw'
  | 'nat'
  | 'anycast';

export interface IpRouteNexthop {
  via?: string;
  dev?: string;
  weight?: number;
  onlink: boolean;
}

export interface IpRoute {
  type: RouteType;
  /** `default`, `10.244.1.0/24`, or a bare host address as printed (`192.168.49.66`). */
  destination: string;
  via?: string;
  dev?: string;
  proto?: string;
  scope?: string;
  src?: string;
  metric?: number;
  table?: string;
  /** `onlink`, `linkdown`, `dead`, `pervasive`… */
  flags: string[];
  /** Further attributes (`mtu 1450`, `expires 300sec`…). */
  attributes: Record<string, string>;
  nexthops: IpRouteNexthop[];
}

const TYPES = new Set<string>([
  'unicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'local',
  'broadcast',
  'multicast',
  'throw',
  'nat',
  'anycast',
]);

const FLAG_WORDS = new Set([
  'onlink',
  'linkdown',
  'dead',
  'pervasive',
  'offload',
  'trap',
  'rt_offload',
  'notify',
]);

function words(line: string): string[] {
  return line
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

function parseNexthop(ws: string[]): IpRouteNexthop {
  const hop: IpRouteNexthop = { onlink: false };
  for (let i = 1; i < ws.length; i++) {
    const w = ws[i];
    const next = ws[i + 1];
    if (w === 'via' && next !== undefined) {
      hop.via = next === 'inet' || next === 'inet6' ? (ws[i + 2] ?? '') : next;
      i += next === 'inet' || next === 'inet6' ? 2 : 1;
    } else if (w === 'dev' && next !== undefined) {
      hop.dev = next;
      i += 1;
    } else if (w === 'weight' && next !== undefined) {
      hop.weight = Number(next);
      i += 1;
    } else if (w === 'onlink') hop.onlink = true;
  }
  return hop;
}

/** Parses one `ip route` line; undefined for blank or continuation lines. */
export function parseIpRouteLine(line: string): IpRoute | undefined {
  const ws = words(line);
  if (ws.length === 0 || ws[0] === 'nexthop') return undefined;
  let i = 0;
  let type: RouteType = 'unicast';
  if (ws[0] !== undefined && TYPES.has(ws[0])) {
    type = ws[0] as RouteType;
    i = 1;
  }
  const destination = ws[i];
  if (destination === undefined) return undefined;
  const route: IpRoute = { type, destination, flags: [], attributes: {}, nexthops: [] };
  for (i = i + 1; i < ws.length; i++) {
    const w = ws[i] ?? '';
    const next = ws[i + 1];
    if (FLAG_WORDS.has(w)) {
      route.flags.push(w);
      continue;
    }
    if (next === undefined) {
      route.flags.push(w);
      continue;
    }
    switch (w) {
      case 'via':
        // `via inet6 fe80::1` for cross-family gateways
        if (next === 'inet' || next === 'inet6') {
          route.via = ws[i + 2];
          i += 2;
        } else {
          route.via = next;
          i += 1;
        }
        break;
      case 'dev':
        route.dev = next;
        i += 1;
        break;
      case 'proto':
        route.proto = next;
        i += 1;
        break;
      case 'scope':
        route.scope = next;
        i += 1;
        break;
      case 'src':
        route.src = next;
        i += 1;
        break;
      case 'metric':
        route.metric = Number(next);
        i += 1;
        break;
      case 'table':
        route.table = next;
        i += 1;
        break;
      default:
        route.attributes[w] = next;
        i += 1;
    }
  }
  return route;
}

/** Parses `ip route show` output into routes, in the order printed. */
export function parseIpRoute(text: string): IpRoute[] {
  const out: IpRoute[] = [];
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    if (/^\s+nexthop\b/.test(line) || /^nexthop\b/.test(line.trim())) {
      const last = out[out.length - 1];
      if (last) last.nexthops.push(parseNexthop(words(line)));
      continue;
    }
    const r = parseIpRouteLine(line);
    if (r) out.push(r);
  }
  return out;
}

/**
 * One canonical line per route (`blackhole 192.168.49.64/26 proto bird`),
 * stable under attribute order, for comparing route tables.
 */
export function formatRoute(route: IpRoute): string {
  const parts: string[] = [];
  if (route.type !== 'unicast') parts.push(route.type);
  parts.push(route.destination);
  if (route.via !== undefined) parts.push('via', route.via);
  if (route.dev !== undefined) parts.push('dev', route.dev);
  if (route.proto !== undefined) parts.push('proto', route.proto);
  if (route.scope !== undefined) parts.push('scope', route.scope);
  if (route.src !== undefined) parts.push('src', route.src);
  if (route.metric !== undefined) parts.push('metric', String(route.metric));
  parts.push(...route.flags);
  return parts.join(' ');
}
