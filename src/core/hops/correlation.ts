/**
 * Hop correlation over records (hopRecords.ts): picks the probe at the reference hop and
 * finds it at every other hop, first as the same packets, and when none of them is there,
 * as the same flow.
 *
 * The probe is the request direction of the first hop that has IP packets (ICMP echo
 * requests; for TCP the client's segments; otherwise the first packet's direction). Replies
 * are left out so that a hop that only sees the return path does not count as seeing it.
 *
 * Matching by flow is for captures taken one after another (a continuous ping captured hop
 * by hop, minutes apart): no packet is in two captures, yet every hop holds the same flow
 * (ICMP id and addresses, or the TCP/UDP 5-tuple, of the innermost headers). Such a hop is
 * seen "by flow"; it is missing only when the flow itself is absent.
 */
import {
  ECHO_REPLY,
  ECHO_REQUEST,
  TCP_SYN,
  echoSeqOfKey,
  requestKeyOfReply,
  type HopRecords,
  type IcmpErrorRecord,
} from './hopRecords';
import { NumberIndex } from './numberIndex';

export interface ProbeSet {
  /** Index of the reference hop. */
  hopIndex: number;
  /** Probe keys in the order the reference hop saw them. */
  keys: number[];
  /** For sentences: `ICMP echo requests 10.244.0.5 → 10.244.1.4`. */
  description: string;
  protocol: string;
  src: string;
  dst: string;
}

export type MatchKind = 'packet' | 'flow';

export interface HopMatch {
  /** How the probe was found here: its own packets, only its flow, or not at all. */
  match: MatchKind | null;
  /** The packet that stands for the probe here (first probe, else first of its flow), or -1. */
  record: number;
  /** Distinct probe packets seen here. */
  probesSeen: number;
  /** Packets of the probe's flow here (request direction). */
  flowPackets: number;
  /** Echo replies to probe requests where no request was (return path only). */
  probeReplies: number;
  /** Packets between the probe's endpoints that are not probes, where no probe was. */
  sameFlowPackets: number;
  /** ICMP sequence numbers of the echo requests here (first, last), when the probe is a ping. */
  seqRange: [number, number] | null;
  /** Time of `record` here, and of the same probe packet at the reference hop (NaN: none). */
  time: number;
  referenceTime: number;
  /** ICMP errors here whose quoted datagram is a probe packet, or of the probe's flow. */
  icmpErrors: ProbeIcmpError[];
}

/** An ICMP error tied to the probe: `packet` when it quotes a probe packet, `flow` its flow. */
export interface ProbeIcmpError extends IcmpErrorRecord {
  about: MatchKind;
}

export interface Correlation {
  probes: ProbeSet | undefined;
  hops: HopMatch[];
}

const NONE: HopMatch = {
  match: null,
  record: -1,
  probesSeen: 0,
  flowPackets: 0,
  probeReplies: 0,
  sameFlowPackets: 0,
  seqRange: null,
  time: NaN,
  referenceTime: NaN,
  icmpErrors: [],
};

/**
 * Correlates the records of a datapath's hops, given in path order.
 *
 * @param hops one record set per hop.
 * @returns the probe (undefined when no hop has IP packets) and, per hop, how it was found.
 */
export function correlateRecords(hops: readonly HopRecords[]): Correlation {
  const correlator = new Correlator();
  for (const records of hops) correlator.add(records);
  return correlator.result();
}

/**
 * Correlation one hop at a time, in path order: nothing of a hop is needed once it has
 * been added, so a caller may drop each hop's records as soon as `add` returns (the CLI
 * does: memory then stays at one hop's records however many hops there are).
 */
export class Correlator {
  private probe: ProbeState | undefined;
  private readonly hops: HopMatch[] = [];

  /** Correlates the next hop; returns how the probe was found there. */
  add(records: HopRecords): HopMatch {
    let match: HopMatch;
    if (!this.probe) {
      this.probe = selectProbe(records, this.hops.length);
      match = this.probe ? this.probe.reference : { ...NONE };
    } else {
      match = scanHop(records, this.probe);
    }
    if (match.record >= 0) match.time = records.time(match.record);
    if (match.match === 'packet' && this.probe) {
      const o = this.probe.ordinal.get(records.key(match.record));
      match.referenceTime = o >= 0 ? this.probe.times[o]! : NaN;
    }
    match.icmpErrors = this.probe ? errorsAboutProbe(records, this.probe) : [];
    this.hops.push(match);
    return match;
  }

  result(): Correlation {
    return { probes: this.probe?.set, hops: this.hops.slice() };
  }
}

interface ProbeState {
  set: ProbeSet;
  reference: HopMatch;
  /** Probe key → position in the reference hop's list. */
  ordinal: NumberIndex;
  /** Time of each probe key at the reference hop, by position. */
  times: number[];
  /** Hashes of the probe's flows; NAT'd forms are added as hops reveal them. */
  flowHashes: Set<number>;
  /** The probe's addresses as seen so far along the path (NAT adds to them). */
  addresses: Set<string>;
  echo: boolean;
}

function selectProbe(records: HopRecords, hopIndex: number): ProbeState | undefined {
  const n = records.length;
  if (n === records.nonIp) return undefined;
  const flows = records.flows;
  let first = -1;
  let label: string;
  let echo = false;
  for (let i = 0; i < n && first < 0; i++) if (records.flags(i) & ECHO_REQUEST) first = i;
  if (first >= 0) {
    echo = true;
    label = `${flows[records.flow(first)]!.protocol === 'icmp6' ? 'ICMPv6' : 'ICMP'} echo requests`;
  } else {
    for (let i = 0; i < n && first < 0; i++) if (records.flags(i) & TCP_SYN) first = i;
    if (first < 0) first = firstOfFlows(records, (f) => f.protocol === 'tcp');
    if (first >= 0) label = 'TCP segments';
    else {
      // The client is whoever sent the first SYN; without one, the first segment's sender.
      first = firstOfFlows(records, () => true);
      label = `${flows[records.flow(first)]!.protocol.toUpperCase()} packets`;
    }
  }
  const lead = flows[records.flow(first)]!;
  const { protocol, src, dst } = lead;
  const inProbe = flows.map((f) => f.protocol === protocol && f.src === src && f.dst === dst);
  const ordinal = new NumberIndex();
  const keys: number[] = [];
  const times: number[] = [];
  const flowHashes = new Set<number>();
  let firstProbe = -1;
  let flowPackets = 0;
  for (let i = first; i < n; i++) {
    const f = records.flow(i);
    if (f < 0 || !inProbe[f]) continue;
    if (echo && (records.flags(i) & ECHO_REQUEST) === 0) continue;
    flowPackets++;
    if (firstProbe < 0) firstProbe = i;
    flowHashes.add(flows[f]!.hash);
    const key = records.key(i);
    if (ordinal.add(key, keys.length) === keys.length) {
      keys.push(key);
      times.push(records.time(i));
    }
  }
  const set: ProbeSet = {
    hopIndex,
    keys,
    description: `${label!} ${src} → ${dst}`,
    protocol,
    src,
    dst,
  };
  const reference: HopMatch = {
    ...NONE,
    match: 'packet',
    record: firstProbe,
    probesSeen: keys.length,
    flowPackets,
    seqRange: echo ? seqRange(keys) : null,
  };
  return { set, reference, ordinal, times, flowHashes, addresses: new Set([src, dst]), echo };
}

function firstOfFlows(records: HopRecords, pick: (f: HopRecords['flows'][number]) => boolean) {
  let first = -1;
  for (const f of records.flows) {
    if (pick(f) && (first < 0 || f.firstRecord < first)) first = f.firstRecord;
  }
  return first;
}

function seqRange(keys: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const k of keys) {
    const s = echoSeqOfKey(k);
    if (s === undefined) continue;
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  return lo <= hi ? [lo, hi] : null;
}

function scanHop(records: HopRecords, probe: ProbeState): HopMatch {
  const n = records.length;
  const flows = records.flows;
  const seen = new Uint8Array(probe.ordinal.size);
  const sameFlow = flows.map(
    (f) =>
      f.protocol === probe.set.protocol && probe.addresses.has(f.src) && probe.addresses.has(f.dst),
  );
  let probesSeen = 0;
  let firstProbe = -1;
  let probeReplies = 0;
  let sameFlowPackets = 0;
  for (let i = 0; i < n; i++) {
    const key = records.key(i);
    if (key !== key) continue;
    const o = probe.ordinal.get(key);
    if (o >= 0) {
      if (seen[o] === 0) {
        seen[o] = 1;
        probesSeen++;
        if (firstProbe < 0) firstProbe = i;
      }
      continue;
    }
    if (firstProbe >= 0) continue;
    if (records.flags(i) & ECHO_REPLY) {
      const request = requestKeyOfReply(key);
      if (request !== undefined && probe.ordinal.has(request)) {
        probeReplies++;
        continue;
      }
    }
    if (sameFlow[records.flow(i)]) sameFlowPackets++;
  }

  // The probe's own flows here, request direction only (the hash keeps the direction).
  const flowIds: number[] = [];
  for (const hash of probe.flowHashes) {
    const f = records.flowByHash(hash);
    if (f !== undefined) flowIds.push(f);
  }
  let flowPackets = 0;
  for (const f of flowIds) flowPackets += flows[f]!.packets;

  if (firstProbe >= 0) {
    const f = flows[records.flow(firstProbe)]!;
    // NAT'd addresses and flows of the probe still belong to it further on.
    probe.addresses.add(f.src).add(f.dst);
    probe.flowHashes.add(f.hash);
    return {
      ...NONE,
      match: 'packet',
      record: firstProbe,
      probesSeen,
      flowPackets,
    };
  }
  if (flowIds.length === 0) {
    return { ...NONE, probeReplies, sameFlowPackets };
  }
  const isFlow = new Uint8Array(flows.length);
  for (const f of flowIds) isFlow[f] = 1;
  let record = -1;
  const requestKeys: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = records.flow(i);
    if (f < 0 || isFlow[f] === 0) continue;
    if (probe.echo && (records.flags(i) & ECHO_REQUEST) === 0) continue;
    if (record < 0) record = i;
    if (probe.echo) requestKeys.push(records.key(i));
    else break;
  }
  if (record < 0) return { ...NONE, probeReplies, sameFlowPackets };
  return {
    ...NONE,
    match: 'flow',
    record,
    probesSeen: 0,
    flowPackets,
    probeReplies,
    sameFlowPackets,
    seqRange: probe.echo ? seqRange(requestKeys) : null,
  };
}

/** The hop's ICMP errors that were sent about the probe: by its packets' keys, else its flow. */
function errorsAboutProbe(records: HopRecords, probe: ProbeState): ProbeIcmpError[] {
  const out: ProbeIcmpError[] = [];
  for (const e of records.icmpErrors) {
    if (probe.ordinal.has(e.quotedKey)) out.push({ ...e, about: 'packet' });
    else if (probe.flowHashes.has(e.quotedFlowHash)) out.push({ ...e, about: 'flow' });
  }
  return out;
}
