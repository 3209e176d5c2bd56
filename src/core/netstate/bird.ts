/**
 * Parsers for `birdc show protocols` and `birdc show route` (BIRD 2) text:
 * enough to know whether a BGP session is Established and which routes BIRD
 * holds, and from which protocol.
 */

export interface BirdProtocol {
  name: string;
  proto: string;
  table: string;
  state: string;
  since: string;
  /** `Established`, `Active`, `Connect`… for BGP; empty for others. */
  info: string;
}

/** Parses `birdc show protocols` (the banner and the header line are skipped). */
export function parseBirdProtocols(text: string): BirdProtocol[] {
  const out: BirdProtocol[] = [];
  for (const line of text.split('\n')) {
    if (/^\s/.test(line) || line.trim().length === 0) continue;
    if (line.startsWith('BIRD ') || line.startsWith('Name ')) continue;
    const ws = line.trim().split(/\s+/);
    const [name, proto, table, state, since, ...info] = ws;
    if (name === undefined || proto === undefined || table === undefined || state === undefined)
      continue;
    out.push({ name, proto, table, state, since: since ?? '', info: info.join(' ') });
  }
  return out;
}

export interface BirdRoute {
  prefix: string;
  /** `unicast`, `blackhole`, `unreachable`, `prohibit`. */
  type: string;
  /** Protocol instance that supplied the route (`kernel1`, `Mesh_172_18_0_6`). */
  protocol: string;
  /** The route is the preferred one for its prefix (`*`). */
  primary: boolean;
  preference?: number;
  via?: string;
  dev?: string;
  /** `[i]` origin marker for BGP routes, when printed. */
  origin?: string;
  /** `Type: …`, `BGP.next_hop: …` lines from `show route all`. */
  attributes: Record<string, string>;
}

const ROUTE_LINE =
  /^(\S+)\s+(\w+)\s+\[(\S+)(?:\s+[^\]]*)?\]\s*(\*)?\s*(?:\((\d+)\))?\s*(?:\[(\w+)\])?/;

/** Parses `birdc show route` and `birdc show route all`. */
export function parseBirdRoutes(text: string): BirdRoute[] {
  const out: BirdRoute[] = [];
  let last: BirdRoute | undefined;
  let lastPrefix: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim().length === 0 || line.startsWith('BIRD ') || line.startsWith('Table ')) continue;
    if (/^\s/.test(line)) {
      if (!last) continue;
      const t = line.trim();
      const via = /^via\s+(\S+)\s+on\s+(\S+)/.exec(t);
      const dev = /^dev\s+(\S+)/.exec(t);
      if (via) {
        last.via = via[1];
        last.dev = via[2];
      } else if (dev) last.dev = dev[1];
      else {
        const colon = t.indexOf(':');
        if (colon > 0) last.attributes[t.slice(0, colon)] = t.slice(colon + 1).trim();
      }
      continue;
    }
    // a second route for the same prefix is printed with the prefix column blank
    // only when indented; BIRD 2 repeats the prefix, so the first column is always it.
    const m = ROUTE_LINE.exec(line);
    if (!m) continue;
    const [, prefix, type, protocol, star, pref, origin] = m;
    lastPrefix = prefix ?? lastPrefix;
    last = {
      prefix: lastPrefix ?? '',
      type: type ?? 'unicast',
      protocol: protocol ?? '',
      primary: star === '*',
      attributes: {},
    };
    if (pref !== undefined) last.preference = Number(pref);
    if (origin !== undefined) last.origin = origin;
    out.push(last);
  }
  return out;
}

/** True when `birdc show protocols` lists `name` (or, without a name, every BGP protocol) as Established. */
export function bgpEstablished(protocols: readonly BirdProtocol[], name?: string): boolean {
  const bgp = protocols.filter((p) => p.proto === 'BGP' && (name === undefined || p.name === name));
  return bgp.length > 0 && bgp.every((p) => p.state === 'up' && p.info.startsWith('Established'));
}
