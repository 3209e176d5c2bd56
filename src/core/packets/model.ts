/**
 * The packet model shared by the tcpdump text parser, the pcap/pcapng decoder,
 * hop correlation, the CLI's JSON and the webview.
 *
 * A packet is a timestamp plus its layers, outermost first. Field names are the
 * JSON the CLI prints; a field the source did not carry is absent, never guessed
 * (tcpdump without `-v` prints no TTL, so a parsed `ipv4` layer then has no `ttl`).
 */

export interface EthernetLayer {
  readonly kind: 'ethernet';
  src?: string;
  dst?: string;
  /** EtherType as a number, e.g. 0x0800. */
  ethertype?: number;
}

export interface VlanLayer {
  readonly kind: 'vlan';
  id: number;
}

export interface ArpLayer {
  readonly kind: 'arp';
  /** `request` / `reply` as tcpdump names them (lower case). */
  op: string;
  senderIp?: string;
  senderMac?: string;
  targetIp?: string;
  targetMac?: string;
}

export interface Ipv4Layer {
  readonly kind: 'ipv4';
  src: string;
  dst: string;
  ttl?: number;
  id?: number;
  /** IP total length (header + payload). */
  length?: number;
  /** IP protocol number (1 ICMP, 4 IPIP, 6 TCP, 17 UDP, 47 GRE). */
  proto?: number;
  df?: boolean;
  tos?: number;
}

export interface Ipv6Layer {
  readonly kind: 'ipv6';
  src: string;
  dst: string;
  hopLimit?: number;
  /** Payload length as in the header. */
  length?: number;
  nextHeader?: number;
}

export interface IcmpLayer {
  readonly kind: 'icmp';
  /** As tcpdump names it: `echo request`, `echo reply`, `unreachable`, `time exceeded`… */
  type: string;
  code?: number;
  id?: number;
  seq?: number;
  length?: number;
}

export interface Icmp6Layer {
  readonly kind: 'icmp6';
  type: string;
  code?: number;
  id?: number;
  seq?: number;
  length?: number;
}

export interface TcpLayer {
  readonly kind: 'tcp';
  srcPort: number;
  dstPort: number;
  /** tcpdump's flag letters without brackets: `S`, `S.`, `P.`, `.`, `F.`, `R`… */
  flags?: string;
  seq?: number;
  ack?: number;
  win?: number;
  /** TCP payload length. */
  length?: number;
}

export interface UdpLayer {
  readonly kind: 'udp';
  srcPort: number;
  dstPort: number;
  /** UDP payload length (tcpdump's `length N`), when known. */
  length?: number;
}

export interface VxlanLayer {
  readonly kind: 'vxlan';
  vni: number;
  flags?: number;
}

export interface GeneveLayer {
  readonly kind: 'geneve';
  vni: number;
}

export interface GreLayer {
  readonly kind: 'gre';
  /** Encapsulated protocol (EtherType), when known. */
  proto?: number;
}

export interface IpipLayer {
  readonly kind: 'ipip';
}

export interface DnsLayer {
  readonly kind: 'dns';
  id: number;
  response: boolean;
  questions?: number;
  answers?: number;
}

/** Anything not understood: kept, never dropped. */
export interface RawLayer {
  readonly kind: 'raw';
  text: string;
}

export type Layer =
  | EthernetLayer
  | VlanLayer
  | ArpLayer
  | Ipv4Layer
  | Ipv6Layer
  | IcmpLayer
  | Icmp6Layer
  | TcpLayer
  | UdpLayer
  | VxlanLayer
  | GeneveLayer
  | GreLayer
  | IpipLayer
  | DnsLayer
  | RawLayer;

export type LayerKind = Layer['kind'];

export interface Packet {
  /**
   * Seconds since the epoch for pcap; for text, seconds as printed (`05:03:13.918070`
   * is 18193.918070 — seconds since midnight; `-tt` gives the epoch; `-t` gives none).
   */
  ts?: number;
  /** Captured frame length on the wire when known (pcap orig_len, tcpdump -e `length N`). */
  frameLength?: number;
  layers: Layer[];
  /** 1-based line (text) or record index (pcap) where the packet started. */
  source?: number;
}

/** A problem found while reading a capture; reading goes on unless `fatal`. */
export interface CaptureIssue {
  /** 1-based line (text) or record number (pcap). */
  at: number;
  message: string;
  fatal?: boolean;
}
