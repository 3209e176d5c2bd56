/**
 * Decides which packets are "the probe": the request-direction packets of the reference
 * hop (the first hop with any IP packets). Replies are left out so that a hop that only
 * sees the return path does not count as seeing the probe.
 */
import type { ReferenceObservations } from './hopObservation';
import type { PacketKey, PacketObservation } from './packetObservation';

export interface ProbeSet {
  /** Index of the reference hop in the captures. */
  hopIndex: number;
  /** Probe keys in the order the reference hop saw them. */
  keys: PacketKey[];
  keySet: Set<PacketKey>;
  /** For sentences: `ICMP echo requests 10.244.0.5 → 10.244.1.4`. */
  description: string;
  protocol: string;
  src: string;
  dst: string;
}

/** The probe set of `hop`, or undefined when it has no IP packets. */
export function selectProbes(hop: ReferenceObservations, hopIndex: number): ProbeSet | undefined {
  let match: (o: PacketObservation) => boolean;
  let label: string;
  let src: string;
  let dst: string;
  let protocol: string;
  if (hop.firstEchoRequest) {
    const first = hop.firstEchoRequest;
    ({ src, dst, protocol } = first);
    match = (o) => o.icmpType === 'echo request' && o.src === src && o.dst === dst;
    label = `${protocol === 'icmp6' ? 'ICMPv6' : 'ICMP'} echo requests`;
  } else if (hop.firstTcp) {
    // The client is whoever sent the first SYN; without a handshake in the capture, the
    // first segment's sender is the best guess.
    const first = hop.firstSyn ?? hop.firstTcp;
    ({ src, dst, protocol } = first);
    match = (o) => o.protocol === 'tcp' && o.src === src && o.dst === dst;
    label = 'TCP segments';
  } else if (hop.firstIp) {
    const first = hop.firstIp;
    ({ src, dst, protocol } = first);
    match = (o) => o.protocol === protocol && o.src === src && o.dst === dst;
    label = `${protocol.toUpperCase()} packets`;
  } else {
    return undefined;
  }
  const keys: PacketKey[] = [];
  for (const [key, obs] of hop.byKey) if (match(obs)) keys.push(key);
  return {
    hopIndex,
    keys,
    keySet: new Set(keys),
    description: `${label} ${src} → ${dst}`,
    protocol,
    src,
    dst,
  };
}
