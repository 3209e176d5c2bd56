/**
 * Reduces a packet to what hop correlation needs: the logical packet key (which survives
 * routing, encapsulation and NAT) and, only the first time a key is met, the facts
 * compared across hops (TTL, lengths, tunnel, MACs, addresses, timestamp).
 *
 * Keys are built on the innermost IP layer and the layer after it:
 * - ICMP echo: type + id + seq, without addresses, so a DNAT/SNAT'd ping still matches.
 *   Packed into one number: hashing a number is several times cheaper than a string, and
 *   pings are the usual probe.
 * - TCP: seq + ack + flags + payload length, without ports or addresses. ISNs are
 *   random 32-bit numbers, so this is unique enough for absolute numbers; ports are left
 *   out because DNAT to a Service (port 80 → targetPort 8080) and SNAT rewrite them, and
 *   NAT is one of the things the analysis must show rather than lose the packet over.
 * - UDP and anything else: IP id + addresses + ports (the IP id is the only per-packet
 *   identity; without it, a flow's packets collapse into one key, which still answers
 *   "was this flow seen here").
 */
import type { IcmpLayer, Icmp6Layer, Ipv4Layer, Ipv6Layer, Layer, Packet } from '../packets/model';
import type { HopEncapsulationSummary } from './types';

export type PacketKey = number | string;

export interface PacketObservation {
  key: PacketKey;
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

/** The logical key of the packet whose innermost IP layer is `layers[ipIndex]`. */
export function packetKey(layers: Layer[], ipIndex: number): PacketKey {
  const ip = layers[ipIndex] as IpLayer;
  const next = layers[ipIndex + 1];
  const ipId = ip.kind === 'ipv4' && ip.id !== undefined ? ip.id : '';
  if (next === undefined) return `o|${ipId}|${ip.src}|${ip.dst}`;
  switch (next.kind) {
    case 'icmp':
    case 'icmp6':
      return icmpKey(next, ip, ipId);
    case 'tcp':
      return `t|${next.seq ?? ''}|${next.ack ?? ''}|${next.flags ?? ''}|${next.length ?? ''}`;
    case 'udp':
      return `u|${ipId}|${ip.src}|${ip.dst}|${next.srcPort}|${next.dstPort}`;
    default: {
      const proto = ip.kind === 'ipv4' ? ip.proto : ip.nextHeader;
      return `o${proto ?? ''}|${ipId}|${ip.src}|${ip.dst}`;
    }
  }
}

function icmpKey(l: IcmpLayer | Icmp6Layer, ip: IpLayer, ipId: number | ''): PacketKey {
  const code = l.type === 'echo request' ? 1 : l.type === 'echo reply' ? 2 : undefined;
  const { id, seq } = l;
  if (code !== undefined && id !== undefined && seq !== undefined && id < 65536 && seq < 65536) {
    // type (2 bits) · family (1 bit) · id (16) · seq (16): well inside 2^53.
    return ((code * 2 + (l.kind === 'icmp6' ? 1 : 0)) * 65536 + id) * 65536 + seq;
  }
  if (id !== undefined) return `${l.kind}|${l.type}|${id}|${seq ?? ''}`;
  // Errors and other ICMP without an id: the addresses are all there is.
  return `${l.kind}|${l.type}|${l.code ?? ''}|${ipId}|${ip.src}|${ip.dst}`;
}

/** The ICMP echo request key an echo reply `key` answers, or undefined for other keys. */
export function echoRequestKey(key: PacketKey): PacketKey | undefined {
  if (typeof key !== 'number') return undefined;
  const typeFamily = Math.floor(key / 2 ** 32);
  if (typeFamily >> 1 !== 2) return undefined;
  return key - 2 * 2 ** 32;
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
export function describePacket(packet: Packet, ipIndex: number, key: PacketKey): PacketObservation {
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
  return {
    key,
    protocol: protocolOf(ip, next),
    src: ip.src,
    dst: ip.dst,
    icmpType,
    tcpFlags,
    ttl: ip.kind === 'ipv4' ? (ip.ttl ?? null) : (ip.hopLimit ?? null),
    innerLength: ipTotalLength(ip),
    outerLength,
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
