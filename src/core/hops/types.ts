/**
 * The result of following probe packets across the captures of a datapath's hops.
 * `AnalysisReport` is exactly what `podpath analyze --json` prints.
 */
import type { Packet } from '../packets/model';

/** One capture to analyse: a hop name and its packets (already parsed or decoded). */
export interface HopCapture {
  name: string;
  packets: Iterable<Packet>;
  /** Problems met while reading (carried into findings). */
  issues?: { at: number; message: string; fatal?: boolean }[];
}

export interface HopEncapsulationSummary {
  type: 'vxlan' | 'ipip' | 'geneve' | 'gre';
  vni: number | null;
  dstPort: number | null;
}

export interface HopReport {
  name: string;
  /** Packets in the capture (all, probe or not). */
  packets: number;
  /** Whether the probe was seen here: its own packets, or (captures taken apart) its flow. */
  seen: boolean;
  /**
   * How the probe was found here: `packet` (the same packets as at the reference hop),
   * `flow` (none of them, but packets of the same flow: the facts below come from those),
   * or null (not seen).
   */
  match: 'packet' | 'flow' | null;
  /** Probe requests seen here out of those sent at the first hop. */
  probesSeen: number;
  /** Innermost IPv4 TTL of the first probe request seen here. */
  ttl: number | null;
  /** Innermost IP total length of that packet. */
  innerLength: number | null;
  /** Outermost IP total length when encapsulated, else null. */
  outerLength: number | null;
  /** True when the lengths were worked out from frame lengths (`tcpdump -e` without -v). */
  lengthsDerived: boolean;
  /** outerLength − innerLength when encapsulated, else null. */
  overheadBytes: number | null;
  encapsulation: HopEncapsulationSummary | null;
  /** Milliseconds between the probe at the first hop and here. */
  timeOffsetMs: number | null;
  /** Source / destination MAC of the innermost Ethernet header carrying the probe, when captured. */
  srcMac: string | null;
  dstMac: string | null;
  /** Innermost source / destination address of the probe here. */
  src: string | null;
  dst: string | null;
  /**
   * ICMP errors captured here that were sent about the probe (their quoted datagram is a
   * probe packet, or of its flow). Present only when there are some.
   */
  icmpErrors?: HopIcmpError[];
}

/** An ICMP error tied to the probe at a hop (see core/hops/icmpErrors.ts). */
export interface HopIcmpError {
  family: 'icmp' | 'icmp6';
  /** As decoded: `unreachable`, `time exceeded`, `destination unreachable`, `packet too big`. */
  type: string;
  code: number | null;
  /** The error's sender and receiver. */
  from: string;
  to: string;
  /** Next-hop MTU (fragmentation needed) or MTU (packet too big). */
  mtu: number | null;
  /** In words: `fragmentation needed, next-hop MTU 1450`. */
  meaning: string;
  /** `packet`: it quotes one of the probe packets; `flow`: a packet of the probe's flow. */
  about: 'packet' | 'flow';
  /** The quoted datagram's addresses, `10.244.0.5 → 10.244.1.4`. */
  quoted: string;
  /** How many such errors the hop holds. */
  count: number;
}

export interface AnalysisReport {
  hops: HopReport[];
  firstMissingHop: string | null;
  /**
   * `packet` when every hop that saw the probe saw its very packets; `flow` when at least
   * one hop only had packets of the same flow (captures taken one after another); null when
   * there was no probe.
   */
  matchedBy: 'packet' | 'flow' | null;
  /** Mermaid sequence diagram text. */
  diagram: string;
  /** Plain sentences, in hop order, for people. */
  findings: string[];
}
