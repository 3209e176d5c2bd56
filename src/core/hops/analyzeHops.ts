/**
 * Hop analysis: follows the probe packets of the reference hop through the captures of the
 * following hops (matching on the innermost IP layer, so encapsulation and NAT do not lose
 * them, and on the flow when the captures were taken one after another) and reports, per
 * hop, whether and how the probe was seen there.
 *
 * Memory is bounded by design: each hop is read once into compact records
 * (hopRecords.ts, about 28 bytes a packet) and the packets are dropped as they are read.
 * Correlation runs over the records (correlation.ts); only the one packet that stands for
 * the probe at each hop is decoded again to describe it (TTL, lengths, tunnel, MACs), which
 * the caller does through `packetAt` — from memory here, from the file by its offset in
 * platform/capture/analyzeFiles.ts.
 */
import type { CaptureIssue, Packet } from '../packets/model';
import type { DatapathPlan } from '../datapath/types';
import { buildSequenceDiagram } from '../diagram/sequenceDiagram';
import { correlateRecords, type Correlation, type HopMatch, type ProbeSet } from './correlation';
import { buildFindings, type HopEvidence } from './findings';
import { HopRecords, isTextNoise } from './hopRecords';
import { hopIcmpErrors } from './icmpErrors';
import { describePacket, innermostIpIndex } from './packetObservation';
import type { AnalysisReport, HopCapture, HopReport } from './types';

export interface AnalyzeOptions {
  plan?: DatapathPlan;
}

/**
 * Correlates captures held in memory (tests, the lab, small pastes), given in path order.
 * Large captures go through {@link reportFromRecords} with records streamed from disk.
 *
 * `firstMissingHop` is the first hop after the reference hop where neither the probe nor
 * its flow was seen, or the first hop itself when that hop had no probe. With
 * `options.plan`, TTLs, encapsulation and overhead are compared with the plan and every
 * difference is a finding.
 */
export function analyzeHops(captures: HopCapture[], options: AnalyzeOptions = {}): AnalysisReport {
  const held: Packet[][] = [];
  const hops = captures.map((capture) => {
    const records = new HopRecords(capture.name);
    const packets: Packet[] = [];
    for (const packet of capture.packets) {
      if (isTextNoise(packet)) continue;
      records.add(packet, 0);
      packets.push(packet);
    }
    held.push(packets);
    return records;
  });
  return reportFromRecords({
    hops,
    issues: captures.map((c) => c.issues ?? []),
    correlation: correlateRecords(hops),
    packetAt: (hop, record) => held[hop]?.[record],
    plan: options.plan,
  });
}

export interface RecordsReportInput {
  /** Each hop's name and packet count (its records may be gone by now). */
  hops: readonly Pick<HopRecords, 'name' | 'length'>[];
  issues: readonly CaptureIssue[][];
  correlation: Correlation;
  /** The packet at `record` of hop `hop`, decoded again (only called for a few packets). */
  packetAt: (hop: number, record: number) => Packet | undefined;
  plan?: DatapathPlan;
}

/**
 * The analysis report from correlated records.
 *
 * @param input the hops' records and read issues, their correlation, and a way to get back
 *   the packet behind a record.
 */
export function reportFromRecords(input: RecordsReportInput): AnalysisReport {
  const { hops: records, correlation, plan } = input;
  const { probes } = correlation;
  const hops: HopReport[] = [];
  const evidence: HopEvidence[] = [];
  const referenceMatch = probes ? correlation.hops[probes.hopIndex] : undefined;
  records.forEach((hop, i) => {
    const match = correlation.hops[i]!;
    const issues = input.issues[i] ?? [];
    const packet = match.record >= 0 ? input.packetAt(i, match.record) : undefined;
    const report = packet ? seenReport(hop, match, packet) : emptyReport(hop.name, hop.length);
    if (report.seen && match.match === 'packet') {
      report.timeOffsetMs = timeOffsetMs(match.referenceTime, match.time);
    }
    if (match.icmpErrors.length > 0) report.icmpErrors = hopIcmpErrors(match.icmpErrors);
    hops.push(report);
    evidence.push({
      probeReplies: match.probeReplies,
      sameFlowPackets: match.sameFlowPackets,
      issues,
      flowNote:
        match.match === 'flow' && probes && referenceMatch
          ? flowNote(report, match, referenceMatch, probes, records[probes.hopIndex]!.name)
          : undefined,
    });
  });

  // A capture that could not be read to the end is no evidence of loss.
  const readable = (k: number): boolean => !evidence[k]!.issues.some((x) => x.fatal);
  let firstMissingIndex = -1;
  if (hops.length > 0) {
    const before = probes ? probes.hopIndex : hops.length;
    firstMissingIndex = hops.findIndex((h, k) => (k < before || !h.seen) && readable(k));
  }
  const firstMissingHop = firstMissingIndex >= 0 ? hops[firstMissingIndex]!.name : null;
  const matchedBy = !probes ? null : hops.some((h) => h.match === 'flow') ? 'flow' : 'packet';
  const findings = buildFindings({ hops, evidence, probes, firstMissingIndex, plan });
  if (matchedBy === 'flow') {
    const byFlow = hops.filter((h) => h.match === 'flow').map((h) => h.name);
    findings.unshift(
      `Matched by flow, not by packet, at ${byFlow.join(', ')}: no probe packet of ${records[probes!.hopIndex]!.name} is in ${byFlow.length === 1 ? 'that capture' : 'those captures'}, but the same flow (${probes!.description}) is, so the captures were taken one after another. TTL, lengths, encapsulation and MACs there come from the flow's own packets; time offsets between those hops mean nothing.`,
    );
  }
  const diagram = buildSequenceDiagram({
    plan,
    report: { hops, firstMissingHop, matchedBy, findings },
    hopNames: hops.map((h) => h.name),
  });
  return { hops, firstMissingHop, matchedBy, diagram, findings };
}

/** Why a hop was matched by flow: the sequence numbers (or segments) do not overlap. */
function flowNote(
  hop: HopReport,
  match: HopMatch,
  reference: HopMatch,
  probes: ProbeSet,
  referenceName: string,
): string {
  const range = (r: [number, number]): string => (r[0] === r[1] ? `${r[0]}` : `${r[0]}–${r[1]}`);
  const why =
    match.seqRange && reference.seqRange
      ? `echo requests seq ${range(match.seqRange)} here, seq ${range(reference.seqRange)} at ${referenceName}: the sequence numbers do not overlap`
      : `none of the ${probes.keys.length} probe packets of ${referenceName} is here`;
  const packets = `${match.flowPackets} packet${match.flowPackets === 1 ? '' : 's'}`;
  return `Seen at ${hop.name} by flow (${packets} of ${probes.description}): ${why}.`;
}

function emptyReport(name: string, packets: number): HopReport {
  return {
    name,
    packets,
    seen: false,
    match: null,
    probesSeen: 0,
    ttl: null,
    innerLength: null,
    outerLength: null,
    lengthsDerived: false,
    overheadBytes: null,
    encapsulation: null,
    timeOffsetMs: null,
    srcMac: null,
    dstMac: null,
    src: null,
    dst: null,
  };
}

/** The report of a hop that saw the probe, described by the packet that stands for it. */
function seenReport(
  hop: Pick<HopRecords, 'name' | 'length'>,
  match: HopMatch,
  packet: Packet,
): HopReport {
  const ipIndex = innermostIpIndex(packet.layers);
  if (ipIndex < 0) return emptyReport(hop.name, hop.length);
  const obs = describePacket(packet, ipIndex);
  const encapsulated = obs.encapsulation !== null;
  const outerLength = encapsulated ? obs.outerLength : null;
  return {
    name: hop.name,
    packets: hop.length,
    seen: true,
    match: match.match,
    probesSeen: match.probesSeen,
    ttl: obs.ttl,
    innerLength: obs.innerLength,
    outerLength,
    lengthsDerived: obs.lengthsDerived,
    overheadBytes:
      outerLength !== null && obs.innerLength !== null ? outerLength - obs.innerLength : null,
    encapsulation: obs.encapsulation,
    timeOffsetMs: null,
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

function timeOffsetMs(from: number, to: number): number | null {
  if (from !== from || to !== to) return null;
  if (from < TIME_OF_DAY_LIMIT !== to < TIME_OF_DAY_LIMIT) return null;
  // Microsecond resolution is all either source carries; round away float noise.
  return Math.round((to - from) * 1e6) / 1e3;
}
