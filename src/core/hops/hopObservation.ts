/**
 * One pass over each hop's packets, keeping a compact summary instead of the packets.
 *
 * Hops are read in path order. Until the probe is known (the reference hop, the first
 * with IP packets), a hop is read into a Map of the first observation of every logical
 * key, because choosing the probe's direction needs the whole capture. After that, a hop
 * is only scanned against the probe keys: a repeated or foreign packet costs a key and a
 * lookup, and the only object built is the description of the first probe seen there.
 */
import type { HopCapture } from './types';
import {
  describePacket,
  echoRequestKey,
  innermostIpIndex,
  packetKey,
  protocolOf,
  type IpLayer,
  type PacketKey,
  type PacketObservation,
} from './packetObservation';

export interface ReferenceObservations {
  /** All packets, IP or not. */
  packets: number;
  ipPackets: number;
  /** First observation per logical key; a Map keeps capture order. */
  byKey: Map<PacketKey, PacketObservation>;
  firstIp: PacketObservation | undefined;
  firstEchoRequest: PacketObservation | undefined;
  /** First TCP segment with SYN and without ACK: its sender is the client. */
  firstSyn: PacketObservation | undefined;
  firstTcp: PacketObservation | undefined;
}

/** Reads a hop that may become the reference hop; iterates `capture.packets` once. */
export function observeReferenceHop(capture: HopCapture): ReferenceObservations {
  const byKey = new Map<PacketKey, PacketObservation>();
  let packets = 0;
  let ipPackets = 0;
  let firstIp: PacketObservation | undefined;
  let firstEchoRequest: PacketObservation | undefined;
  let firstSyn: PacketObservation | undefined;
  let firstTcp: PacketObservation | undefined;
  for (const packet of capture.packets) {
    packets++;
    const ipIndex = innermostIpIndex(packet.layers);
    if (ipIndex < 0) continue;
    ipPackets++;
    const key = packetKey(packet.layers, ipIndex);
    if (byKey.has(key)) continue;
    const obs = describePacket(packet, ipIndex, key);
    byKey.set(key, obs);
    firstIp ??= obs;
    if (!firstEchoRequest && obs.icmpType === 'echo request') firstEchoRequest = obs;
    if (obs.protocol === 'tcp') {
      firstTcp ??= obs;
      const f = obs.tcpFlags;
      if (!firstSyn && f !== null && f.includes('S') && !f.includes('.')) firstSyn = obs;
    }
  }
  return { packets, ipPackets, byKey, firstIp, firstEchoRequest, firstSyn, firstTcp };
}

export interface HopScan {
  packets: number;
  ipPackets: number;
  /** Distinct probe keys seen. */
  probesSeen: number;
  /** The first probe packet seen here, described. */
  firstProbe: PacketObservation | undefined;
  /** ICMP echo replies to probe requests seen before any probe request (return path only). */
  probeReplies: number;
  /**
   * Packets between the probe's endpoints that are not probes, counted until the first
   * probe shows up (they only matter when none does: captures taken at different times).
   */
  sameFlowPackets: number;
}

export interface ProbeLookup {
  /** Probe key → its position in the reference hop's probe list. */
  ordinal: Map<PacketKey, number>;
  protocol: string;
  /** The probe's addresses as seen so far along the path (NAT adds to them). */
  addresses: Set<string>;
}

/** Scans a hop after the reference hop against the probe; iterates `capture.packets` once. */
export function scanHop(capture: HopCapture, probe: ProbeLookup): HopScan {
  const seen = new Uint8Array(probe.ordinal.size);
  let packets = 0;
  let ipPackets = 0;
  let probesSeen = 0;
  let firstProbe: PacketObservation | undefined;
  let probeReplies = 0;
  let sameFlowPackets = 0;
  for (const packet of capture.packets) {
    packets++;
    const layers = packet.layers;
    const ipIndex = innermostIpIndex(layers);
    if (ipIndex < 0) continue;
    ipPackets++;
    const key = packetKey(layers, ipIndex);
    const n = probe.ordinal.get(key);
    if (n !== undefined) {
      if (seen[n] === 0) {
        seen[n] = 1;
        probesSeen++;
        firstProbe ??= describePacket(packet, ipIndex, key);
      }
      continue;
    }
    if (firstProbe) continue;
    const request = echoRequestKey(key);
    if (request !== undefined && probe.ordinal.has(request)) {
      probeReplies++;
      continue;
    }
    const ip = layers[ipIndex] as IpLayer;
    if (
      probe.addresses.has(ip.src) &&
      probe.addresses.has(ip.dst) &&
      protocolOf(ip, layers[ipIndex + 1]) === probe.protocol
    ) {
      sameFlowPackets++;
    }
  }
  return { packets, ipPackets, probesSeen, firstProbe, probeReplies, sameFlowPackets };
}
