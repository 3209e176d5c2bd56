/**
 * One table row per packet (the panel's packet table and the CLI's readable
 * output), and the field list of each layer for the panel's "layers" view.
 * Addresses and protocol are the innermost ones — what the pods see — and the
 * outer headers are folded into the `encapsulation` column.
 */
import { innermostIp, innermostTransport, outermostIp, tunnelLayer } from './layers';
import type { Layer, Packet } from './model';

export interface PacketRow {
  /** `HH:MM:SS.ffffff` of the timestamp (UTC for pcap epochs), or '' when there is none. */
  time: string;
  /** Innermost source address, with the port for TCP/UDP (`10.244.1.2:5201`). */
  source: string;
  destination: string;
  /** `ICMP`, `TCP`, `UDP`, `ARP`, `DNS`, … or the outermost layer kind. */
  protocol: string;
  /** Innermost IPv4 TTL / IPv6 hop limit, when captured. */
  ttl: number | null;
  /** Frame length on the wire, else the outermost IP length. */
  length: number | null;
  /** Frame length on the wire (pcap), when known: the "frame" column. */
  frameLength: number | null;
  /** Outermost IP total length, when captured: the "IP length" column. */
  ipLength: number | null;
  /** `VXLAN VNI 1, 172.18.0.2 → 172.18.0.3 UDP 8472`, `IPIP …`, or '' when not encapsulated. */
  encapsulation: string;
  info: string;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Seconds (epoch or since midnight) → `HH:MM:SS.ffffff` within the day. */
function formatTime(ts: number | undefined): string {
  if (ts === undefined || !Number.isFinite(ts)) return '';
  const whole = Math.floor(ts);
  const micros = Math.round((ts - whole) * 1e6);
  const carry = micros >= 1e6 ? 1 : 0;
  const day = (whole + carry) % 86400;
  const h = Math.floor(day / 3600);
  const m = Math.floor((day % 3600) / 60);
  const s = day % 60;
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(carry ? 0 : micros, 6)}`;
}

function withPort(addr: string, port: number | undefined): string {
  if (port === undefined) return addr;
  return addr.includes(':') ? `[${addr}].${port}` : `${addr}:${port}`;
}

function endpoints(packet: Packet): { source: string; destination: string } {
  const ip = innermostIp(packet);
  const transport = innermostTransport(packet);
  if (ip) {
    const ports = transport?.kind === 'tcp' || transport?.kind === 'udp' ? transport : undefined;
    return {
      source: withPort(ip.src, ports?.srcPort),
      destination: withPort(ip.dst, ports?.dstPort),
    };
  }
  for (const l of packet.layers) {
    if (l.kind === 'arp') return { source: l.senderIp ?? '', destination: l.targetIp ?? '' };
  }
  for (const l of packet.layers) {
    if (l.kind === 'ethernet') return { source: l.src ?? '', destination: l.dst ?? '' };
  }
  return { source: '', destination: '' };
}

function protocolOf(packet: Packet): string {
  const kinds = packet.layers.map((l) => l.kind);
  if (kinds.includes('dns')) return 'DNS';
  const transport = innermostTransport(packet);
  if (transport && transport.kind !== 'raw') return transport.kind.toUpperCase();
  if (kinds.includes('arp')) return 'ARP';
  const ip = innermostIp(packet);
  if (ip) return ip.kind === 'ipv4' ? 'IPv4' : 'IPv6';
  const last = packet.layers[packet.layers.length - 1];
  return last ? last.kind.toUpperCase() : '';
}

function encapsulationOf(packet: Packet): string {
  const tunnel = tunnelLayer(packet);
  if (!tunnel) return '';
  const outer = outermostIp(packet);
  const path = outer ? `, ${outer.src} → ${outer.dst}` : '';
  const udp = packet.layers.find((l) => l.kind === 'udp');
  const port = udp?.kind === 'udp' ? ` UDP ${udp.dstPort}` : '';
  switch (tunnel.kind) {
    case 'vxlan':
      return `VXLAN VNI ${tunnel.vni}${path}${port}`;
    case 'geneve':
      return `Geneve VNI ${tunnel.vni}${path}${port}`;
    case 'gre':
      return `GRE${path}`;
    case 'ipip':
      return `IPIP${path}`;
    default:
      return tunnel.kind;
  }
}

function infoOf(packet: Packet): string {
  const transport = innermostTransport(packet);
  const dns = packet.layers.find((l) => l.kind === 'dns');
  if (dns?.kind === 'dns') {
    return `${dns.response ? 'response' : 'query'} id ${dns.id}`;
  }
  if (transport) {
    switch (transport.kind) {
      case 'icmp':
      case 'icmp6': {
        const parts = [transport.type];
        if (transport.id !== undefined) parts.push(`id ${transport.id}`);
        if (transport.seq !== undefined) parts.push(`seq ${transport.seq}`);
        if (transport.length !== undefined) parts.push(`length ${transport.length}`);
        if (transport.mtu !== undefined) parts.push(`mtu ${transport.mtu}`);
        if (transport.quoted !== undefined) parts.push(`about ${quotedText(transport.quoted)}`);
        return parts.join(', ');
      }
      case 'tcp': {
        const parts = [`[${transport.flags ?? ''}]`];
        if (transport.seq !== undefined) parts.push(`seq ${transport.seq}`);
        if (transport.ack !== undefined) parts.push(`ack ${transport.ack}`);
        if (transport.win !== undefined) parts.push(`win ${transport.win}`);
        if (transport.length !== undefined) parts.push(`length ${transport.length}`);
        return parts.join(' ');
      }
      case 'udp':
        return transport.length !== undefined ? `length ${transport.length}` : '';
      case 'raw':
        return transport.text;
      default:
        break;
    }
  }
  for (const l of packet.layers) {
    if (l.kind === 'arp') {
      if (l.op === 'request') return `who-has ${l.targetIp ?? '?'} tell ${l.senderIp ?? '?'}`;
      if (l.op === 'reply') return `${l.senderIp ?? '?'} is-at ${l.senderMac ?? '?'}`;
      return l.op;
    }
    if (l.kind === 'raw') return l.text;
  }
  return '';
}

/**
 * Summarises a packet as one table row.
 *
 * @param packet a decoded or parsed packet.
 * @returns the row; fields the capture did not carry are '' or null, never guessed.
 */
export function summarizePacket(packet: Packet): PacketRow {
  const ip = innermostIp(packet);
  const outer = outermostIp(packet);
  const ttl = ip ? (ip.kind === 'ipv4' ? ip.ttl : ip.hopLimit) : undefined;
  return {
    time: formatTime(packet.ts),
    ...endpoints(packet),
    protocol: protocolOf(packet),
    ttl: ttl ?? null,
    length: packet.frameLength ?? outer?.length ?? null,
    frameLength: packet.frameLength ?? null,
    ipLength: outer?.length ?? null,
    encapsulation: encapsulationOf(packet),
    info: infoOf(packet),
  };
}

export interface LayerDetail {
  kind: Layer['kind'];
  /** `Ethernet`, `IPv4`, `VXLAN`… */
  title: string;
  fields: { name: string; value: string }[];
}

const LAYER_TITLES: Record<Layer['kind'], string> = {
  ethernet: 'Ethernet',
  vlan: 'VLAN',
  arp: 'ARP',
  ipv4: 'IPv4',
  ipv6: 'IPv6',
  icmp: 'ICMP',
  icmp6: 'ICMPv6',
  tcp: 'TCP',
  udp: 'UDP',
  vxlan: 'VXLAN',
  nsh: 'NSH',
  erspan: 'ERSPAN',
  geneve: 'Geneve',
  gre: 'GRE',
  ipip: 'IPIP',
  dns: 'DNS',
  raw: 'Not decoded',
};

/** An ICMP error's quoted datagram in one line: `IPv4 10.0.0.1 > 10.0.0.2, UDP 5000 > 53`. */
function quotedText(layers: Layer[]): string {
  const parts: string[] = [];
  for (const l of layers) {
    if (l.kind === 'ipv4' || l.kind === 'ipv6')
      parts.push(`${LAYER_TITLES[l.kind]} ${l.src} > ${l.dst}`);
    else if (l.kind === 'tcp' || l.kind === 'udp')
      parts.push(`${LAYER_TITLES[l.kind]} ${l.srcPort} > ${l.dstPort}`);
    else if (l.kind === 'icmp' || l.kind === 'icmp6')
      parts.push(`${LAYER_TITLES[l.kind]} ${l.type}`);
    else parts.push(l.kind === 'raw' ? l.text : LAYER_TITLES[l.kind]);
  }
  return parts.join(', ');
}

const IP_PROTOCOLS: Record<number, string> = {
  1: 'ICMP',
  4: 'IPIP',
  6: 'TCP',
  17: 'UDP',
  47: 'GRE',
  58: 'ICMPv6',
};
const ETHERTYPES: Record<number, string> = {
  0x0800: 'IPv4',
  0x0806: 'ARP',
  0x86dd: 'IPv6',
  0x8100: 'VLAN',
};

/** Decoded values, not raw numbers: `0x0800 (IPv4)`, `17 (UDP)`, VXLAN `flags [I]`, `DF`. */
function fieldValue(kind: Layer['kind'], name: string, value: unknown): string {
  if (name === 'quoted' && Array.isArray(value)) return quotedText(value as Layer[]);
  if (name === 'ethertype' && typeof value === 'number') {
    const hex = `0x${value.toString(16).padStart(4, '0')}`;
    return ETHERTYPES[value] ? `${hex} (${ETHERTYPES[value]})` : hex;
  }
  if (name === 'proto' && typeof value === 'number') {
    if (kind === 'gre') return ETHERTYPES[value] ?? `0x${value.toString(16).padStart(4, '0')}`;
    return IP_PROTOCOLS[value] ? `${value} (${IP_PROTOCOLS[value]})` : String(value);
  }
  if (kind === 'vxlan' && name === 'flags' && typeof value === 'number') {
    // 0x08 is the I flag: the VNI is valid (RFC 7348).
    return `[${value & 0x08 ? 'I' : ''}] (0x${value.toString(16).padStart(2, '0')})`;
  }
  if (name === 'df' && typeof value === 'boolean') return value ? "DF (don't fragment)" : 'not set';
  return String(value);
}

/** One meaning per word: an IP header's `length` is the IP length, a UDP one its payload. */
function fieldName(kind: Layer['kind'], name: string): string {
  if (name === 'length') {
    if (kind === 'ipv4' || kind === 'ipv6') return 'IP length';
    return 'payload length';
  }
  if (name === 'df') return 'flags';
  if (name === 'srcPort') return 'source port';
  if (name === 'dstPort') return 'destination port';
  return name;
}

/** `Outer IPv4 172.18.0.5 → 172.18.0.6`: outer and inner told apart when a packet has both. */
function layerTitle(layer: Layer, role: 'outer' | 'inner' | null): string {
  const base = LAYER_TITLES[layer.kind] ?? layer.kind;
  const prefix = role === 'outer' ? 'Outer ' : role === 'inner' ? 'Inner ' : '';
  if (layer.kind === 'ipv4' || layer.kind === 'ipv6')
    return `${prefix}${base} ${layer.src} → ${layer.dst}`;
  if (layer.kind === 'ethernet' && layer.src && layer.dst)
    return `${prefix}${base} ${layer.src} → ${layer.dst}`;
  return `${prefix}${base}`;
}

/**
 * The layers of a packet, outermost first, each as a title and its present fields.
 *
 * @param packet a decoded or parsed packet.
 */
export function describeLayers(packet: Packet): LayerDetail[] {
  // Layers before the tunnel header are outer, after it inner.
  const tunnelAt = packet.layers.findIndex(
    (l) => l.kind === 'vxlan' || l.kind === 'geneve' || l.kind === 'gre' || l.kind === 'ipip',
  );
  const ipAt = packet.layers
    .map((l, k) => (l.kind === 'ipv4' || l.kind === 'ipv6' ? k : -1))
    .filter((k) => k >= 0);
  const split = tunnelAt >= 0 ? tunnelAt : ipAt.length > 1 ? ipAt[1]! : -1;
  const framing = new Set<Layer['kind']>(['ethernet', 'ipv4', 'ipv6', 'udp']);
  return packet.layers.map((layer, i) => {
    const role = split < 0 || !framing.has(layer.kind) ? null : i < split ? 'outer' : 'inner';
    return {
      kind: layer.kind,
      title: layerTitle(layer, role),
      fields: Object.entries(layer)
        // payloadHash is Podpath's matching aid, not a header field.
        .filter(([name, value]) => name !== 'kind' && name !== 'payloadHash' && value !== undefined)
        .map(([name, value]) => ({
          name: fieldName(layer.kind, name),
          value: fieldValue(layer.kind, name, value),
        })),
    };
  });
}
