/**
 * Hop correlation: follows the probe packets of the first hop through the captures of
 * the following hops (matching on the innermost IP layer, so encapsulation and NAT do not
 * lose them) and reports, per hop, whether and how the probe was seen there.
 *
 * Each capture is read once into a compact summary (see hopObservation.ts); nothing
 * holds the packets, so large captures correlate in linear time and bounded memory.
 */
import type { DatapathPlan } from '../datapath/types';
import { buildSequenceDiagram } from '../diagram/sequenceDiagram';
import { buildFindings, type HopEvidence } from './findings';
import {
  observeReferenceHop,
  scanHop,
  type ProbeLookup,
  type ReferenceObservations,
} from './hopObservation';
import type { PacketObservation } from './packetObservation';
import { selectProbes, type ProbeSet } from './probeSelection';
import type { AnalysisReport, HopCapture, HopReport } from './types';

export interface AnalyzeOptions {
  plan?: DatapathPlan;
}

/**
 * Correlates the captures of a datapath's hops, given in path order.
 *
 * The probe is the request direction of the first hop that has IP packets (ICMP echo
 * requests; for TCP the client's segments; otherwise the first packet's direction).
 * `firstMissingHop` is the first hop after it that saw none of the probe, or the first hop
 * itself when that hop had no probe. With `options.plan`, TTLs, encapsulation and overhead
 * are compared with the plan and every difference is a finding.
 */
export function analyzeHops(captures: HopCapture[], options: AnalyzeOptions = {}): AnalysisReport {
  const hops: HopReport[] = [];
  const evidence: HopEvidence[] = [];
  let ref: ReferenceObservations | undefined;
  let probes: ProbeSet | undefined;
  let lookup: ProbeLookup | undefined;

  for (let i = 0; i < captures.length; i++) {
    const capture = captures[i]!;
    const issues = capture.issues ?? [];
    if (!probes || !lookup || !ref) {
      const observed = observeReferenceHop(capture);
      probes = observed.ipPackets > 0 ? selectProbes(observed, i) : undefined;
      const first = probes?.keys[0];
      if (!probes || first === undefined) {
        hops.push(emptyReport(capture.name, observed.packets));
        evidence.push({ probeReplies: 0, sameFlowPackets: 0, issues });
        continue;
      }
      ref = observed;
      lookup = {
        ordinal: new Map(probes.keys.map((k, n) => [k, n])),
        protocol: probes.protocol,
        addresses: new Set([probes.src, probes.dst]),
      };
      hops.push(
        seenReport(
          capture.name,
          observed.packets,
          probes.keys.length,
          observed.byKey.get(first)!,
          ref,
        ),
      );
      evidence.push({ probeReplies: 0, sameFlowPackets: 0, issues });
      continue;
    }
    const scan = scanHop(capture, lookup);
    if (scan.firstProbe) {
      hops.push(seenReport(capture.name, scan.packets, scan.probesSeen, scan.firstProbe, ref));
      // NAT'd addresses of the probe still belong to its flow further on.
      lookup.addresses.add(scan.firstProbe.src).add(scan.firstProbe.dst);
    } else {
      hops.push(emptyReport(capture.name, scan.packets));
    }
    evidence.push({
      probeReplies: scan.probeReplies,
      sameFlowPackets: scan.sameFlowPackets,
      issues,
    });
  }

  // A capture that could not be read to the end is no evidence of loss.
  const readable = (k: number): boolean => !evidence[k]!.issues.some((x) => x.fatal);
  let firstMissingIndex = -1;
  if (hops.length > 0) {
    const before = probes ? probes.hopIndex : hops.length;
    firstMissingIndex = hops.findIndex((h, k) => (k < before || !h.seen) && readable(k));
  }
  const firstMissingHop = firstMissingIndex >= 0 ? hops[firstMissingIndex]!.name : null;
  const findings = buildFindings({ hops, evidence, probes, firstMissingIndex, plan: options.plan });
  const diagram = buildSequenceDiagram({
    plan: options.plan,
    report: { hops, firstMissingHop, findings },
    hopNames: hops.map((h) => h.name),
  });
  return { hops, firstMissingHop, diagram, findings };
}

function emptyReport(name: string, packets: number): HopReport {
  return {
    name,
    packets,
    seen: false,
    probesSeen: 0,
    ttl: null,
    innerLength: null,
    outerLength: null,
    overheadBytes: null,
    encapsulation: null,
    timeOffsetMs: null,
    srcMac: null,
    dstMac: null,
    src: null,
    dst: null,
  };
}

/** The report of a hop that saw the probe, described by the first probe packet seen there. */
function seenReport(
  name: string,
  packets: number,
  probesSeen: number,
  obs: PacketObservation,
  ref: ReferenceObservations,
): HopReport {
  const encapsulated = obs.encapsulation !== null;
  const outerLength = encapsulated ? obs.outerLength : null;
  return {
    name,
    packets,
    seen: true,
    probesSeen,
    ttl: obs.ttl,
    innerLength: obs.innerLength,
    outerLength,
    overheadBytes:
      outerLength !== null && obs.innerLength !== null ? outerLength - obs.innerLength : null,
    encapsulation: obs.encapsulation,
    timeOffsetMs: timeOffsetMs(ref.byKey.get(obs.key)?.ts ?? null, obs.ts),
    srcMac: obs.srcMac,
    dstMac: obs.dstMac,
    src: obs.src,
    dst: obs.dst,
  };
}

/**
 * Text captures print the time of day (seconds since midnight), pcaps the epoch: a
 * difference between the two clocks means nothing, so only like is compared with like.
 * Anything under two days is taken as a time of day.
 */
const TIME_OF_DAY_LIMIT = 2 * 86_400;

function timeOffsetMs(from: number | null, to: number | null): number | null {
  if (from === null || to === null) return null;
  if (from < TIME_OF_DAY_LIMIT !== to < TIME_OF_DAY_LIMIT) return null;
  // Microsecond resolution is all either source carries; round away float noise.
  return Math.round((to - from) * 1e6) / 1e3;
}
