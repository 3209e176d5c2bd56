/**
 * Small queries over a packet's layer list that correlation, tables and the
 * diagram all need: the innermost IP header, the outermost one, the tunnel.
 */
import type { Ipv4Layer, Ipv6Layer, Layer, Packet } from './model';

export type IpLayer = Ipv4Layer | Ipv6Layer;

const TUNNELS = new Set<Layer['kind']>(['vxlan', 'geneve', 'gre', 'ipip']);

/** Index of the innermost IPv4/IPv6 layer, or -1. */
export function innermostIpIndex(packet: Packet): number {
  const layers = packet.layers;
  for (let i = layers.length - 1; i >= 0; i--) {
    const k = layers[i]!.kind;
    if (k === 'ipv4' || k === 'ipv6') return i;
  }
  return -1;
}

export function innermostIp(packet: Packet): IpLayer | undefined {
  const i = innermostIpIndex(packet);
  return i < 0 ? undefined : (packet.layers[i] as IpLayer);
}

export function outermostIp(packet: Packet): IpLayer | undefined {
  for (const l of packet.layers) if (l.kind === 'ipv4' || l.kind === 'ipv6') return l;
  return undefined;
}

/** The outermost tunnel layer (vxlan, geneve, gre, ipip), if the packet is encapsulated. */
export function tunnelLayer(packet: Packet): Layer | undefined {
  for (const l of packet.layers) if (TUNNELS.has(l.kind)) return l;
  return undefined;
}

/** The layer right after the innermost IP header (the transport or ICMP), if any. */
export function innermostTransport(packet: Packet): Layer | undefined {
  const i = innermostIpIndex(packet);
  return i < 0 ? undefined : packet.layers[i + 1];
}

/** The innermost Ethernet header (the one framing the innermost IP packet), if captured. */
export function innermostEthernet(
  packet: Packet,
): Extract<Layer, { kind: 'ethernet' }> | undefined {
  const ip = innermostIpIndex(packet);
  for (let i = (ip < 0 ? packet.layers.length : ip) - 1; i >= 0; i--) {
    const l = packet.layers[i]!;
    if (l.kind === 'ethernet') return l;
    if (TUNNELS.has(l.kind) || l.kind === 'ipv4' || l.kind === 'ipv6') return undefined;
  }
  return undefined;
}
