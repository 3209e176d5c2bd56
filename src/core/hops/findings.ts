/**
 * Turns per-hop reports into plain sentences, in hop order: read problems, where the
 * probe stopped, TTL / encapsulation / MAC / address changes between consecutive hops
 * that saw it, and, with a plan, every way the captures differ from it. Every sentence
 * that disagrees with the plan contains "differs from the <mode> plan: expected …, saw …".
 */
import type { DatapathPlan, Encapsulation, PlanHop } from '../datapath/types';
import { matchPlanHops } from './planMatching';
import type { ProbeSet } from './correlation';
import type { HopCapture, HopEncapsulationSummary, HopReport } from './types';

/** What a hop's scan noticed besides the probe, for sentences about why it was not seen. */
export interface HopEvidence {
  /** ICMP echo replies to the probe seen where no request was. */
  probeReplies: number;
  /** Non-probe packets between the probe's endpoints seen where no probe was. */
  sameFlowPackets: number;
  issues: NonNullable<HopCapture['issues']>;
  /** Why the hop was matched by flow only (captures taken one after another). */
  flowNote?: string | undefined;
}

export interface FindingsInput {
  evidence: HopEvidence[];
  hops: HopReport[];
  probes: ProbeSet | undefined;
  firstMissingIndex: number;
  plan: DatapathPlan | undefined;
}

const TUNNEL_NAMES: Record<HopEncapsulationSummary['type'], string> = {
  vxlan: 'VXLAN',
  ipip: 'IPIP',
  geneve: 'Geneve',
  gre: 'GRE',
};

/** Findings for a report, in hop order. */
export function buildFindings(input: FindingsInput): string[] {
  const { evidence, hops, probes, plan } = input;
  const out: string[] = [];
  if (hops.length === 0) return ['No captures were given: there is nothing to follow.'];

  const planHops = plan
    ? matchPlanHops(
        hops.map((h) => h.name),
        plan,
      )
    : [];
  const planName = plan ? `the ${plan.title.split(',')[0]!.trim()} plan` : '';
  if (plan) {
    if (plan.hops.length !== hops.length) {
      out.push(
        `Hop count differs from ${planName}: expected ${plan.hops.length} hops, saw ${hops.length} captures.`,
      );
    }
    const used = new Set(planHops.filter((p): p is PlanHop => p !== undefined));
    const unused = plan.hops.filter((p) => !used.has(p)).map((p) => p.name);
    if (unused.length > 0) out.push(`No capture for plan hops: ${unused.join(', ')}.`);
  }

  if (!probes) {
    const total = hops.reduce((n, h) => n + h.packets, 0);
    out.push(
      `No IP packets in any capture (${total} packets in all): there is no probe to follow, so ${hops[0]!.name} is the first hop where it was not seen.`,
    );
  }

  const ref = probes ? hops[probes.hopIndex]! : undefined;
  const ttlCompare = plan ? ttlBase(hops, planHops) : undefined;

  let prevSeen: HopReport | undefined;
  let prevTtl: HopReport | undefined;
  let prevMacs: HopReport | undefined;
  hops.forEach((hop, i) => {
    for (const issue of evidence[i]!.issues) {
      out.push(
        `${hop.name}: ${issue.fatal ? 'reading stopped' : 'could not read'} at ${issue.at}: ${issue.message}`,
      );
    }
    const planHop = planHops[i];
    if (plan && !planHop && plan.hops.length > 0) {
      out.push(`${hop.name} is not a hop of ${planName}, so it is not compared with it.`);
    }
    if (!probes || !ref) return;

    if (i < probes.hopIndex) {
      out.push(
        `No probe at ${hop.name}: ${plural(hop.packets, 'packet')} captured, none of them IP${i === 0 ? `; following the ${probes.description} first seen at ${ref.name} instead` : ''}.`,
      );
      return;
    }
    if (i === probes.hopIndex) {
      out.push(`Following ${probes.keys.length} ${probes.description} from ${hop.name}.`);
    } else if (!hop.seen) {
      out.push(notSeenSentence(input, i));
      return;
    } else if (hop.match === 'flow') {
      if (evidence[i]!.flowNote) out.push(evidence[i]!.flowNote!);
    } else if (hop.probesSeen < probes.keys.length) {
      out.push(`${hop.probesSeen} of ${probes.keys.length} probe requests seen at ${hop.name}.`);
    }

    if (prevTtl && hop.ttl !== null && prevTtl.ttl !== null && hop.ttl !== prevTtl.ttl) {
      out.push(
        `TTL ${prevTtl.ttl}→${hop.ttl} between ${prevTtl.name} and ${hop.name}: ${ttlReason(prevTtl.ttl - hop.ttl)}.`,
      );
    }
    if (prevSeen) out.push(...encapsulationChange(prevSeen, hop));
    if (prevMacs && hop.srcMac !== null && hop.dstMac !== null) {
      const parts: string[] = [];
      if (prevMacs.srcMac !== hop.srcMac) parts.push(`source ${prevMacs.srcMac} → ${hop.srcMac}`);
      if (prevMacs.dstMac !== hop.dstMac)
        parts.push(`destination ${prevMacs.dstMac} → ${hop.dstMac}`);
      if (parts.length > 0) {
        out.push(`MACs rewritten between ${prevMacs.name} and ${hop.name}: ${parts.join(', ')}.`);
      }
    }
    if (prevSeen && prevSeen.dst !== null && hop.dst !== null && prevSeen.dst !== hop.dst) {
      out.push(
        `destination ${prevSeen.dst} → ${hop.dst} between ${prevSeen.name} and ${hop.name}: DNAT.`,
      );
    }
    if (prevSeen && prevSeen.src !== null && hop.src !== null && prevSeen.src !== hop.src) {
      out.push(
        `source ${prevSeen.src} → ${hop.src} between ${prevSeen.name} and ${hop.name}: SNAT.`,
      );
    }

    if (plan && planHop) {
      out.push(...ttlAgainstPlan(hop, planHop, ttlCompare, planName));
      out.push(...encapsulationAgainstPlan(hop, planHop.encapsulation, planName));
    }

    prevSeen = hop;
    if (hop.ttl !== null) prevTtl = hop;
    if (hop.srcMac !== null && hop.dstMac !== null) prevMacs = hop;
  });
  return out;
}

function notSeenSentence(input: FindingsInput, i: number): string {
  const { hops, evidence, probes, firstMissingIndex } = input;
  const hop = hops[i]!;
  const ref = hops[probes!.hopIndex]!;
  let reason: string;
  const replies = evidence[i]!.probeReplies;
  const sameFlow = evidence[i]!.sameFlowPackets;
  if (hop.packets === 0) {
    reason = 'nothing was captured there';
  } else if (replies > 0) {
    reason = `only ${plural(replies, 'reply', 'replies')} to the probe passed there, not the requests (return path only: asymmetric routing or a one-way filter)`;
  } else if (sameFlow > 0) {
    // Later hops repeat the story of the first missing one: keep them short.
    reason =
      i === firstMissingIndex
        ? `it has ${plural(sameFlow, 'packet')} of the same flow (${probes!.description}) but none of the ${probes!.keys.length} probe requests seen at ${ref.name}: the captures were probably taken at different times`
        : `${plural(sameFlow, 'packet')} of the same flow, none of them the probe requests (captured at another time)`;
  } else {
    reason = `${plural(hop.packets, 'packet')} captured there, none of them the probe`;
  }
  if (i !== firstMissingIndex) return `Probe not seen at ${hop.name} either: ${reason}.`;
  const seenLater = hops.slice(i + 1).find((h) => h.seen);
  if (seenLater) {
    return `Probe not seen at ${hop.name} (${reason}), yet seen again at ${seenLater.name}: the capture at ${hop.name} probably missed it (interface, filter or timing) rather than the packet being dropped there.`;
  }
  const lastSeen = hops
    .slice(0, i)
    .reverse()
    .find((h) => h.seen);
  const after = lastSeen ? `last seen at ${lastSeen.name}, ` : '';
  return `Probe ${after}not seen at ${hop.name}: ${reason}. ${hop.name} is the first hop where the packet was not seen.`;
}

function ttlReason(drop: number): string {
  if (drop === 1) return 'routed';
  if (drop > 1) return `routed ${drop} times (hops in between were not captured)`;
  return 'the TTL went up, so this is not the same packet or something rewrote it';
}

function encapsulationChange(prev: HopReport, hop: HopReport): string[] {
  const a = prev.encapsulation;
  const b = hop.encapsulation;
  if (!a && b)
    return [`${TUNNEL_NAMES[b.type]} added at ${hop.name}: ${describeSeen(b, hop.overheadBytes)}.`];
  if (a && !b) {
    const minus = prev.overheadBytes !== null ? `: -${prev.overheadBytes} bytes` : '';
    return [`${TUNNEL_NAMES[a.type]} removed at ${hop.name}${minus}.`];
  }
  if (a && b && (a.type !== b.type || a.vni !== b.vni || a.dstPort !== b.dstPort)) {
    return [
      `Encapsulation changed between ${prev.name} and ${hop.name}: ${TUNNEL_NAMES[a.type]} (${describeSeen(a, prev.overheadBytes)}) → ${TUNNEL_NAMES[b.type]} (${describeSeen(b, hop.overheadBytes)}).`,
    ];
  }
  return [];
}

/** `+50 bytes, UDP 8472, VNI 1`, leaving out what the capture did not show. */
function describeSeen(e: HopEncapsulationSummary, overhead: number | null): string {
  const parts: string[] = [];
  if (overhead !== null) parts.push(`+${overhead} bytes`);
  if (e.dstPort !== null) parts.push(`UDP ${e.dstPort}`);
  if (e.vni !== null) parts.push(`VNI ${e.vni}`);
  // Text without -v prints no IP lengths: say so rather than print a guess.
  if (overhead === null) parts.push('overhead unknown (no outer IP length in the capture)');
  return parts.join(', ');
}

function describePlanned(e: Encapsulation): string {
  const parts = [`${TUNNEL_NAMES[e.type]} +${e.overheadBytes} bytes`];
  if (e.dstPort !== undefined) parts.push(`UDP ${e.dstPort}`);
  if (e.vni !== undefined) parts.push(`VNI ${e.vni}`);
  return parts.join(', ');
}

interface TtlBase {
  hop: HopReport;
  planHop: PlanHop;
  /** The probe left with the TTL the plan assumes, so absolute values are comparable. */
  absolute: boolean;
}

/** The first hop that saw the probe with a TTL and has a plan hop: TTLs are compared from it. */
function ttlBase(hops: HopReport[], planHops: (PlanHop | undefined)[]): TtlBase | undefined {
  for (let i = 0; i < hops.length; i++) {
    const hop = hops[i]!;
    const planHop = planHops[i];
    if (hop.seen && hop.ttl !== null && planHop) {
      return { hop, planHop, absolute: hop.ttl === planHop.expectedTtl };
    }
  }
  return undefined;
}

function ttlAgainstPlan(
  hop: HopReport,
  planHop: PlanHop,
  base: TtlBase | undefined,
  planName: string,
): string[] {
  if (!base || hop.ttl === null) return [];
  if (hop === base.hop) {
    return base.absolute
      ? []
      : [
          `The probe has TTL ${hop.ttl} at ${hop.name} where ${planName} assumes ${planHop.expectedTtl}: TTLs are compared as changes from ${hop.name}.`,
        ];
  }
  const seen = hop.ttl - base.hop.ttl!;
  const expected = planHop.expectedTtl - base.planHop.expectedTtl;
  if (seen === expected) return [];
  if (base.absolute) {
    return [
      `TTL at ${hop.name} differs from ${planName}: expected ${planHop.expectedTtl}, saw ${hop.ttl}.`,
    ];
  }
  return [
    `TTL change from ${base.hop.name} to ${hop.name} differs from ${planName}: expected ${signed(expected)}, saw ${signed(seen)}.`,
  ];
}

function encapsulationAgainstPlan(
  hop: HopReport,
  planned: Encapsulation | null,
  planName: string,
): string[] {
  const seen = hop.encapsulation;
  if (!planned && !seen) return [];
  if (!planned && seen) {
    return [
      `Encapsulation at ${hop.name} differs from ${planName}: expected none, saw ${TUNNEL_NAMES[seen.type]}${hop.overheadBytes !== null ? ' ' : ', '}${describeSeen(seen, hop.overheadBytes)}.`,
    ];
  }
  if (planned && !seen) {
    return [
      `Encapsulation at ${hop.name} differs from ${planName}: expected ${describePlanned(planned)}, saw none.`,
    ];
  }
  const p = planned!;
  const s = seen!;
  const out: string[] = [];
  if (p.type !== s.type) {
    out.push(
      `Encapsulation type at ${hop.name} differs from ${planName}: expected ${TUNNEL_NAMES[p.type]}, saw ${TUNNEL_NAMES[s.type]}.`,
    );
  }
  if (hop.overheadBytes !== null && hop.overheadBytes !== p.overheadBytes) {
    out.push(
      `Overhead at ${hop.name} differs from ${planName}: expected ${p.overheadBytes} bytes, saw ${hop.overheadBytes} bytes.`,
    );
  }
  if (p.dstPort !== undefined && s.dstPort !== null && p.dstPort !== s.dstPort) {
    out.push(
      `UDP port at ${hop.name} differs from ${planName}: expected ${p.dstPort}, saw ${s.dstPort}.`,
    );
  }
  if (p.vni !== undefined && s.vni !== null && p.vni !== s.vni) {
    out.push(`VNI at ${hop.name} differs from ${planName}: expected ${p.vni}, saw ${s.vni}.`);
  }
  return out;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : `${n}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
