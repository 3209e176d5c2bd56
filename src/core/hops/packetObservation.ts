/**
 * The facts compared across hops for the one packet that stands for the probe at a hop
 * (TTL, lengths, tunnel, MACs, addresses, timestamp), and the choice of key fields that
 * hopRecords.ts packs or hashes for every packet.
 *
 * Keys are built on the innermost IP layer and the layer after it:
 * - ICMP echo: type + id + seq, without addresses, so a DNAT/SNAT'd ping still matches.
 *   Packed into one number: hashing a number is several times cheaper than a string, and
 *   pings are the usual probe.
 * - TCP: seq + ack + flags + payload length, without ports or addresses. ISNs are
 *   random 32-bit numbers, so this is unique enough for absolute numbers; ports are left
 *   out because DNAT to a Service (port 80 → targetPort 8080) and SNAT rewrite them, and
 *   NAT is one of the things the analysis must show rather than lose the packet over.
 * - UDP whose payload the capture holds (pcap): IP id + length + a hash of the payload's
 *   first bytes + which port is the higher, without addresses or ports, so a DNAT'd or
 *   MASQUERADEd datagram still matches (Linux sends unconnected UDP with DF and IP id 0, so
 *   the payload, not the id, is what tells datagrams apart).
 * - UDP from text captures and anything else: IP id + addresses + ports (the IP id is the
 *   only per-packet identity; without it, a flow's packets collapse into one key, which
 *   still answers "was this flow seen here").
 */
import type { Ipv4Layer, Ipv6Layer, Layer, Packet } from '../packets/model';
import type { HopEncapsulationSummary } from './types';

export interface PacketObservation {
  /** `icmp`, `icmp6`, `tcp`, `udp`, or `ip<proto>`. */
  protocol: string;
  src: string;
  dst: string;
  /** ICMP type as tcpdump names it (`echo request`), ICMP/ICMPv6 only. */
  icmpType: string | null;
  /** TCP flag letters (`S`, `S.`, `P.`), TCP only. */
  tcpFlags: string | null;
  ttl: number | null;
  innerLength: number | null;
  outerLength: number | null;
  /** True when the lengths were worked out from the frame length (tcpdump -e without -v). */
  lengthsDerived: boolean;
  encapsulation: HopEncapsulationSummary | null;
  srcMac: string | null;
  dstMac: string | null;
  ts: number | null;
}

export type IpLayer = Ipv4Layer | Ipv6Layer;
type TunnelKind = HopEncapsulationSummary['type'];

/** Index of the innermost IPv4/IPv6 layer, or -1 (no IP: counted, never a probe). */
export function innermostIpIndex(layers: Layer[]): number {
  for (let i = layers.length - 1; i >= 0; i--) {
    const k = layers[i]!.kind;
    if (k === 'ipv4' || k === 'ipv6') return i;
  }
  return -1;
}

/** `icmp`, `icmp6`, `tcp`, `udp`, or `ip<protocol number>` for the rest. */
export function protocolOf(ip: IpLayer, next: Layer | undefined): string {
  if (next) {
    const k = next.kind;
    if (k === 'icmp' || k === 'icmp6' || k === 'tcp' || k === 'udp') return k;
  }
  return `ip${(ip.kind === 'ipv4' ? ip.proto : ip.nextHeader) ?? ''}`;
}

/** Everything the report needs about a packet, built once per distinct key. */
export function describePacket(packet: Packet, ipIndex: number): PacketObservation {
  const layers = packet.layers;
  const ip = layers[ipIndex] as IpLayer;
  const next = layers[ipIndex + 1];

  let outer: IpLayer | undefined;
  let tunnel: Layer | undefined;
  let tunnelPort: number | null = null;
  let lastUdpPort: number | null = null;
  let innerEth: Extract<Layer, { kind: 'ethernet' }> | undefined;
  for (let i = 0; i < ipIndex; i++) {
    const l = layers[i]!;
    switch (l.kind) {
      case 'ethernet':
        innerEth = l;
        break;
      case 'ipv4':
      case 'ipv6':
        outer ??= l;
        // An Ethernet header in front of an outer IP header does not frame the inner one.
        innerEth = undefined;
        break;
      case 'udp':
        lastUdpPort = l.dstPort;
        break;
      case 'vxlan':
      case 'geneve':
      case 'gre':
      case 'ipip':
        if (!tunnel) {
          tunnel = l;
          if (l.kind === 'vxlan' || l.kind === 'geneve') tunnelPort = lastUdpPort;
        }
        innerEth = undefined;
        break;
      default:
        break;
    }
  }

  const icmpType = next && (next.kind === 'icmp' || next.kind === 'icmp6') ? next.type : null;
  const tcpFlags = next && next.kind === 'tcp' ? (next.flags ?? null) : null;

  let encapsulation: HopEncapsulationSummary | null = null;
  let outerLength: number | null = null;
  if (outer || tunnel) {
    // Two IP headers and no tunnel layer is IP-in-IP as far as anyone can tell.
    const type: TunnelKind = tunnel ? (tunnel.kind as TunnelKind) : 'ipip';
    const vni = tunnel && (tunnel.kind === 'vxlan' || tunnel.kind === 'geneve') ? tunnel.vni : null;
    encapsulation = { type, vni, dstPort: tunnelPort };
    outerLength = outer ? ipTotalLength(outer) : null;
  }
  let innerLength = ipTotalLength(ip);
  let lengthsDerived = false;
  if (innerLength === null || (outer !== undefined && outerLength === null)) {
    const derived = lengthsFromFrame(packet, ipIndex);
    if (derived) {
      lengthsDerived = true;
      innerLength ??= derived.inner;
      if (outer !== undefined) outerLength ??= derived.outer;
    }
  }
  return {
    protocol: protocolOf(ip, next),
    src: ip.src,
    dst: ip.dst,
    icmpType,
    tcpFlags,
    ttl: ip.kind === 'ipv4' ? (ip.ttl ?? null) : (ip.hopLimit ?? null),
    innerLength,
    outerLength,
    lengthsDerived,
    encapsulation,
    srcMac: innerEth?.src ?? null,
    dstMac: innerEth?.dst ?? null,
    ts: packet.ts ?? null,
  };
}

/** IP total length; IPv6 carries only the payload length, so its 40-byte header is added. */
function ipTotalLength(ip: IpLayer): number | null {
  if (ip.length === undefined) return null;
  return ip.kind === 'ipv4' ? ip.length : ip.length + 40;
}

/** Header bytes each layer adds in front of what it carries, where that is fixed. */
const HEADER_BYTES: Partial<Record<Layer['kind'], number>> = {
  ethernet: 14,
  vlan: 4,
  ipv4: 20,
  ipv6: 40,
  udp: 8,
  vxlan: 8,
  ipip: 0,
};

/**
 * IP lengths worked out from the frame length that `tcpdump -e` prints (`length 148`) when
 * the capture has no IP lengths (no -v): the frame minus the link header and VLAN tags is the
 * outer IP packet, minus the outer IPv4 (20 bytes, no options printed), UDP, VXLAN and inner
 * Ethernet headers is the inner one. Undefined when a layer of unknown size is in between.
 */
function lengthsFromFrame(
  packet: Packet,
  ipIndex: number,
): { outer: number; inner: number } | undefined {
  const frame = packet.frameLength;
  const layers = packet.layers;
  if (frame === undefined || layers[0]?.kind !== 'ethernet') return undefined;
  let before = 0;
  let outer: number | undefined;
  for (let i = 0; i < ipIndex; i++) {
    const l = layers[i]!;
    if (outer === undefined && (l.kind === 'ipv4' || l.kind === 'ipv6')) outer = frame - before;
    const size = HEADER_BYTES[l.kind];
    if (size === undefined) return undefined;
    before += size;
  }
  const inner = frame - before;
  if (inner <= 0) return undefined;
  return { outer: outer ?? inner, inner };
}
