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
  /** Next-hop MTU of a "fragmentation needed" unreachable (`need to frag (mtu 1450)`). */
  mtu?: number;
  /**
   * The start of the datagram an error (unreachable, time exceeded, parameter
   * problem, redirect, source quench) was sent about, as the error quotes it:
   * its IP header and the first bytes of its payload, outermost first. Kept apart
   * from the packet's own layers so that the packet's innermost IP stays the
   * error's own; correlation reads it to tie the error to the packet that caused it.
   */
  quoted?: Layer[];
}

export interface Icmp6Layer {
  readonly kind: 'icmp6';
  type: string;
  code?: number;
  id?: number;
  seq?: number;
  length?: number;
  /** MTU of a "packet too big" message. */
  mtu?: number;
  /** The quoted datagram of an error message (see {@link IcmpLayer.quoted}). */
  quoted?: Layer[];
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
  /**
   * 32-bit FNV-1a hash of the payload's first bytes (up to 32), when the capture holds them
   * all: NAT rewrites addresses and ports but never the payload, so hops match a datagram by
   * it. Absent in text captures and when the snap length cut the payload short.
   */
  payloadHash?: number;
}

export interface VxlanLayer {
  readonly kind: 'vxlan';
  vni: number;
  /** The flags byte (0x08: VNI valid); for VXLAN-GPE its I/P/B/O bits only. */
  flags?: number;
  /** VXLAN-GPE (UDP 4790): the header names its payload instead of always Ethernet. */
  gpe?: boolean;
  /** VXLAN-GPE next protocol: 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH. */
  nextProtocol?: number;
}

/** Network Service Header (RFC 8300), as carried by VXLAN-GPE. */
export interface NshLayer {
  readonly kind: 'nsh';
  /** Service path identifier (24 bits). */
  spi: number;
  /** Service index (8 bits). */
  si: number;
  /** Next protocol: 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS. */
  nextProtocol?: number;
}

/** ERSPAN mirror header inside GRE: type II (GRE 0x88be) or type III (0x22eb). */
export interface ErspanLayer {
  readonly kind: 'erspan';
  /** 2 or 3 (the header's version field is 1 or 2). */
  type: number;
  sessionId: number;
  vlan?: number;
}

export interface GeneveLayer {
  readonly kind: 'geneve';
  vni: number;
}

export interface GreLayer {
  readonly kind: 'gre';
  /** Encapsulated protocol (EtherType), when known. */
  proto?: number;
  /** GRE key (RFC 2890), when present. */
  key?: number;
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
  | ErspanLayer
  | NshLayer
  | IpipLayer
  | DnsLayer
  | RawLayer;

export type LayerKind = Layer['kind'];

/**
 * What a text packet's time stamp was, as tcpdump printed it: `time-of-day`
 * (default `05:03:13.918070`, date unknown), `epoch` (`-tt`), `date` (`-tttt`,
 * `2024-05-01 12:00:00.123456`, read as UTC), `delta` (`-ttt`, since the previous
 * packet) or `since-first` (`-ttttt`).
 */
export type TimestampKind = 'time-of-day' | 'epoch' | 'date' | 'delta' | 'since-first';

export interface Packet {
  /**
   * Seconds since the epoch for pcap. For text it depends on {@link tsKind}:
   * seconds since midnight (`05:03:13.918070` is 18193.918070), since the epoch
   * (`-tt`, `-tttt`), or since the capture's first packet (`-ttttt`, and `-ttt`
   * whose deltas are summed); `-t` gives none.
   */
  ts?: number;
  /** Text only: which kind of time stamp `ts` was read from (absent for pcap: epoch). */
  tsKind?: TimestampKind;
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

/**
 * A line of pasted text that is not a packet: commentary (a walkthrough's step
 * glued to its command, `7. 查看第 5 步骤的输出$ sudo tcpdump -nei ens33 port 8472`),
 * a shell prompt, a command's own output (`ping`'s), `kubectl debug` chatter. Kept
 * as it was written, delivered apart from packets so it never counts as one.
 */
export interface TextNoise {
  /** 1-based line number. */
  at: number;
  text: string;
}
