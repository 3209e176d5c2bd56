/**
 * What the panel's packet table asks the host for and gets back (a page of a filtered,
 * sorted hop; a packet followed across hops), and the table's filter box: a few words, ANDed. An IPv4/IPv6 address matches either
 * end of the innermost header; `port 8472` (or `:8472`) either port; a protocol name
 * (`icmp`, `icmp6`, `tcp`, `udp`) the innermost protocol; `ttl 63` the innermost TTL.
 */

import type { PacketRow } from '../packets/packetSummary';

export type SortColumn =
  'index' | 'time' | 'source' | 'destination' | 'protocol' | 'ttl' | 'length';

export const SORT_COLUMNS: readonly SortColumn[] = [
  'index',
  'time',
  'source',
  'destination',
  'protocol',
  'ttl',
  'length',
];

export interface TableQuery {
  /** Free text: addresses, `port N`, a protocol, `ttl N`. */
  filter: string;
  probeOnly: boolean;
  notSeenAtNextHop: boolean;
  sort: SortColumn;
  descending: boolean;
  offset: number;
  count: number;
}

export interface TablePage {
  /** Packets that pass the filter, in the whole hop. */
  matching: number;
  offset: number;
  rows: PacketRow[];
  /** Each row's packet position in the hop. */
  indices: number[];
  /** Why the filter was not understood, in words; null when it was. */
  filterError: string | null;
}

export interface FollowedHop {
  hop: string;
  /** The packet's position at that hop, or null when it is not there. */
  index: number | null;
  row: PacketRow | null;
  ttl: number | null;
  /** `VXLAN VNI 1, 172.18.0.5 → 172.18.0.6 UDP 8472`, or '' when not encapsulated. */
  outer: string;
  /** Innermost Ethernet `src → dst`, or ''. */
  macs: string;
  /** `destination 10.96.0.10 → 10.244.1.4` where addresses differ from the selected packet. */
  nat: string;
}

export interface TableFilter {
  address?: string;
  port?: number;
  protocol?: string;
  ttl?: number;
}

const PROTOCOLS = new Set(['icmp', 'icmp6', 'tcp', 'udp']);

/**
 * Reads the filter box.
 *
 * @param text what the person typed.
 * @returns the filter, or an error in words (the filter then holds what was understood).
 */
export function parseTableFilter(text: string): { filter: TableFilter; error: string | null } {
  const filter: TableFilter = {};
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = words[i + 1];
    if ((w === 'port' || w === 'ttl') && next !== undefined && /^\d+$/.test(next)) {
      const n = Number(next);
      if (w === 'port') filter.port = n;
      else filter.ttl = n;
      i++;
    } else if (/^:\d+$/.test(w)) {
      filter.port = Number(w.slice(1));
    } else if (PROTOCOLS.has(w) || w === 'icmpv6') {
      filter.protocol = w === 'icmpv6' ? 'icmp6' : w;
    } else if (/^\d{1,3}(\.\d{1,3}){3}$/.test(w) || (w.includes(':') && /^[0-9a-f:.]+$/.test(w))) {
      filter.address = w;
    } else {
      return {
        filter,
        error: `"${w}" is not an address, "port N", "ttl N" or one of icmp, icmp6, tcp, udp`,
      };
    }
  }
  return { filter, error: null };
}
