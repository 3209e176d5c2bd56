/**
 * Turns per-hop reports into plain sentences, in hop order: read problems, where the
 * probe stopped, TTL / encapsulation / MAC / address changes between consecutive hops
 * that saw it, and, with a plan, every way the captures differ from it. Every sentence
 * that disagrees with the plan contains "differs from the <mode> plan: expected …, saw …".
 */
import { calicoBlock } from '../datapath/calicoRoutes';
import type { CniMode, DatapathPlan, Encapsulation, PlanHop } from '../datapath/types';
import type { IpRoute } from '../netstate/ipRoute';
import { formatRoute, parseIpRouteLine } from '../netstate/ipRoute';
import type { NodeState } from '../netstate/nodeState';
import { linkByMac, lookupRoute, neighbourByMac } from '../netstate/nodeState';
import type { IcmpLayer, Ipv4Layer, Packet } from '../packets/model';
import { icmpErrorSentence } from './icmpErrors';
import { matchPlanHops } from './planMatching';
import type { ProbeSet } from './correlation';
import type {
  AnalysisReport,
  HopCapture,
  HopEncapsulationSummary,
  HopIcmpError,
  HopReport,
} from './types';

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

/**
 * Where the probe was lost, as one phrase for headlines (panel subtitle, CLI, output log):
 * `lost between 03-nodeA-eth0 and 04-nodeB-eth0` names the last hop that saw it and the
 * first that did not, so the gap the packet died in is never taken for a hop. A hop that
 * missed the probe although a later hop saw it is a capture gap, not a loss.
 */
export function lossHeadline(report: Pick<AnalysisReport, 'hops' | 'firstMissingHop'>): string {
  const { hops, firstMissingHop } = report;
  if (firstMissingHop === null) {
    if (hops.length === 0) return 'no captures';
    return hops.some((h) => h.seen)
      ? 'seen at every hop'
      : 'not followed (no probe in any readable capture)';
  }
  const i = hops.findIndex((h) => h.name === firstMissingHop);
  if (i < 0 || !hops.some((h) => h.seen)) return 'not seen at any hop';
  const seenLater = hops.slice(i + 1).find((h) => h.seen);
  if (seenLater) return `not captured at ${firstMissingHop} (seen again at ${seenLater.name})`;
  const lastSeen = hops
    .slice(0, i)
    .reverse()
    .find((h) => h.seen);
  if (!lastSeen) return `not seen at ${firstMissingHop}, the first capture`;
  return `lost between ${lastSeen.name} and ${firstMissingHop}`;
}

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

  const unreadable = evidence.filter((e) => e.issues.some((x) => x.fatal)).length;
  if (!probes && unreadable === hops.length) {
    out.push('No capture could be read, so there is no probe to follow.');
  } else if (!probes) {
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
    // An ICMP error about the probe is the probe's answer at this hop, not another packet.
    const answered = hop.icmpErrors?.length ? icmpErrorSentence(hop.name, hop.icmpErrors) : '';
    if (i === probes.hopIndex) {
      out.push(`Following ${probes.keys.length} ${probes.description} from ${hop.name}.`);
    } else if (!hop.seen && evidence[i]!.issues.some((x) => x.fatal)) {
      out.push(
        `${hop.name} could not be read to the end, so not seeing the probe there is not counted as loss.`,
      );
      if (answered) out.push(answered);
      return;
    } else if (!hop.seen) {
      out.push(notSeenSentence(input, i));
      if (answered) out.push(answered);
      return;
    } else if (hop.match === 'flow') {
      if (evidence[i]!.flowNote) out.push(evidence[i]!.flowNote!);
    } else if (hop.probesSeen < probes.keys.length) {
      out.push(`${hop.probesSeen} of ${probes.keys.length} probe requests seen at ${hop.name}.`);
    }
    if (answered) out.push(answered);

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
  if (!lastSeen) {
    return `Probe not seen at ${hop.name}: ${reason}. ${hop.name} is the first hop where the packet was not seen.`;
  }
  return `Probe lost between ${lastSeen.name} and ${hop.name}: last seen at ${lastSeen.name}, not seen at ${hop.name} (${reason}).`;
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

/** An ICMP error seen in a capture (fragmentation needed, unreachable, time exceeded). */
export interface IcmpErrorSeen {
  hop: string;
  /** Who sent the error and to whom. */
  src: string;
  dst: string;
  type: string;
  code: number | null;
  /** Next-hop MTU of a "fragmentation needed" error, when the packet model decodes it. */
  mtu: number | null;
}

/** A second, small ping sent after the capture along the same path. */
export interface SmallProbeOutcome {
  /** IP length of each small probe packet. */
  ipLength: number;
  sent: number;
  received: number;
}

export interface LossExplanationInput {
  report: Pick<AnalysisReport, 'hops' | 'firstMissingHop'>;
  plan: DatapathPlan;
  /** Nodes and pods as read after the build, when there is such a reading. */
  state?: readonly NodeState[];
  icmpErrors?: readonly IcmpErrorSeen[];
  smallProbe?: SmallProbeOutcome;
}

/**
 * The ICMP errors in a hop's packets, for `LossExplanationInput.icmpErrors`. The next-hop
 * MTU of "fragmentation needed" is read from the ICMP layer when the packet model carries
 * one (`mtu` or `nextHopMtu`).
 */
export function icmpErrorsIn(hop: string, packets: Iterable<Packet>): IcmpErrorSeen[] {
  const out: IcmpErrorSeen[] = [];
  for (const p of packets) {
    // Called on every packet as a capture streams by: a plain loop, no closure.
    const layers = p.layers;
    let icmpAt = -1;
    for (let k = 0; k < layers.length; k++) {
      const l = layers[k]!;
      if (l.kind === 'icmp' && (l.type.includes('unreachable') || l.type === 'time exceeded')) {
        icmpAt = k;
        break;
      }
    }
    if (icmpAt < 0) continue;
    const icmp = p.layers[icmpAt] as IcmpLayer;
    const ip = p.layers
      .slice(0, icmpAt)
      .reverse()
      .find((l): l is Ipv4Layer => l.kind === 'ipv4');
    if (!ip) continue;
    out.push({
      hop,
      src: ip.src,
      dst: ip.dst,
      type: icmp.type,
      code: icmp.code ?? null,
      mtu: nextHopMtu(icmp),
    });
  }
  return out;
}

function nextHopMtu(layer: IcmpLayer): number | null {
  for (const key of ['mtu', 'nextHopMtu']) {
    const v: unknown = (layer as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number') return v;
  }
  return null;
}

/** Who writes the route to a peer's pods in each mode, and how to check it. */
function routeSource(mode: CniMode): { who: string; check: string } {
  switch (mode) {
    case 'calico-bgp':
    case 'calico-ipip':
    case 'calico-crosssubnet':
      return {
        who: "node B's BIRD, over the iBGP session (`proto bird`)",
        check:
          'check the BGP session (`birdc show protocols`, `calicoctl node status`) and whether the route was accepted (`birdc show route all`)',
      };
    case 'calico-vxlan':
      return {
        who: "Felix on node A, from node B's IPAM block affinity",
        check: 'check calico-node on node A (Felix logs, `calicoctl ipam show --show-blocks`)',
      };
    case 'flannel-vxlan':
    case 'flannel-host-gw':
      return {
        who: "flanneld on node A, from node B's `flannel.alpha.coreos.com/*` annotations",
        check:
          "check the kube-flannel pod on node A (its logs) and node B's podCIDR and annotations",
      };
    case 'kubenet':
      return {
        who: 'the cloud route table (kubenet relies on the cloud controller)',
        check: 'check the route controller of the cloud controller manager',
      };
  }
}

function nodeOf(hop: PlanHop): string {
  return hop.location.kind === 'pod' ? (hop.location.node ?? hop.location.name) : hop.location.name;
}

function stateOf(states: readonly NodeState[] | undefined, name: string): NodeState | undefined {
  return states?.find((s) => s.name === name);
}

/**
 * Why the probe was lost, from the evidence: the hop it was last seen at and what it looked
 * like there (length, destination MAC), the route the node it was on picks for the
 * destination, the neighbour and VXLAN forwarding entries behind that route, the MTU of the
 * device it goes into, ICMP errors in the captures, and a small probe sent afterwards.
 * Each sentence names its evidence and the fix; empty when the probe was not lost between
 * two hops or nothing explains it.
 */
export function explainLoss(input: LossExplanationInput): string[] {
  const { report, plan, state } = input;
  const i = report.hops.findIndex((h) => h.name === report.firstMissingHop);
  if (i <= 0 || report.hops.slice(i + 1).some((h) => h.seen)) return [];
  let j = i - 1;
  while (j >= 0 && !report.hops[j]!.seen) j--;
  if (j < 0) return [];
  const last = report.hops[j]!;
  const missing = report.hops[i]!;
  const planHops = matchPlanHops(
    report.hops.map((h) => h.name),
    plan,
  );
  const lastPlan = planHops[j];
  const missingPlan = planHops[i];
  if (!lastPlan || !missingPlan) return [];
  const between = `between ${last.name} and ${missing.name}`;
  const node = nodeOf(lastPlan);
  const nodeState = stateOf(state, node);
  const dst = last.dst ?? plan.destination.ip;
  const out: string[] = [];

  // The device the plan sends the probe into next on this node, and its MTU.
  const nextOnNode = plan.hops
    .slice(plan.hops.indexOf(lastPlan) + 1)
    .find((h) => nodeOf(h) === node && h.location.kind === 'node');
  const route = nodeState ? lookupRoute(nodeState.routes, dst) : undefined;
  const outDev = route?.dev ?? nextOnNode?.interface;
  const stateMtu = outDev ? nodeState?.links.find((l) => l.name === outDev)?.mtu : undefined;
  const outMtu =
    stateMtu ?? (nextOnNode && outDev === nextOnNode.interface ? nextOnNode.mtu : undefined);

  // 1. The routing decision discards it.
  if (
    route &&
    (route.type === 'blackhole' || route.type === 'unreachable' || route.type === 'prohibit')
  ) {
    out.push(blackholeSentence(plan, node, dst, route, between));
    return out;
  }

  // 2. Too big for the device it is routed into.
  const length = last.innerLength;
  if (length !== null && outMtu !== undefined && length > outMtu) {
    out.push(mtuSentence(input, node, last, outDev ?? '?', outMtu, between));
    return out;
  }

  if (!nodeState || !route) {
    if (!nodeState && length !== null && nextOnNode && length > nextOnNode.mtu) {
      out.push(mtuSentence(input, node, last, nextOnNode.interface, nextOnNode.mtu, between));
    }
    return out;
  }

  // 3. Routed somewhere the plan does not go.
  const planned = plannedRoute(plan, node, state ?? []);
  if (planned && (route.dev !== planned.dev || (planned.via && route.via !== planned.via))) {
    out.push(misrouteSentence(input, node, nodeState, route, planned, last, between));
    return out;
  }

  // 4. Routed into the VXLAN device as planned, but it has nowhere to send it.
  const tunnel = plan.hops.find((h) => h.action === 'encapsulated' || h.encapsulation !== null);
  if (route.dev && tunnel?.encapsulation?.type === 'vxlan' && route.dev === planned?.dev) {
    const fdb = fdbSentence(input, node, nodeState, route, planned.peerIp, between);
    if (fdb) {
      out.push(fdb);
      return out;
    }
  }
  return out;
}

interface PlannedRoute {
  dev: string;
  /** Without a tunnel: the peer node's IP, the next hop the plan expects. */
  via?: string;
  /** The destination node's underlay IP (the VXLAN remote), when its state was read. */
  peerIp?: string;
  peerNode: string;
  /** The underlay interface at the peer (`eth0`). */
  peerInterface: string;
}

/** The route the plan expects the source node to use towards the destination pod. */
function plannedRoute(
  plan: DatapathPlan,
  node: string,
  states: readonly NodeState[],
): PlannedRoute | undefined {
  if (plan.sameNode || node !== plan.source.node) return undefined;
  const routed = plan.hops.find(
    (h) => nodeOf(h) === node && h.action === 'routed' && h.location.kind === 'node',
  );
  const wire = plan.hops.find((h) => nodeOf(h) !== node && h.location.kind === 'node');
  if (!routed || !wire) return undefined;
  const peerNode = nodeOf(wire);
  const peerLink = stateOf(states, peerNode)?.links.find((l) => l.name === wire.interface);
  const peerIp = peerLink?.ipv4?.split('/')[0];
  const base = {
    dev: routed.interface,
    peerNode,
    peerInterface: wire.interface,
    ...(peerIp ? { peerIp } : {}),
  };
  // No tunnel anywhere: the next hop is the peer node itself.
  if (!plan.hops.some((h) => h.encapsulation !== null)) {
    return { ...base, ...(peerIp ? { via: peerIp } : {}) };
  }
  return base;
}

/** The prefix that should route `dst` to its node: the Calico block, or the node's pod subnet. */
function peerPrefix(plan: DatapathPlan, dst: string, states: readonly NodeState[]): string {
  if (plan.mode.startsWith('calico')) return calicoBlock(dst);
  const peer = stateOf(states, plan.destination.node);
  const local = peer?.routes.find(
    (r) =>
      r.type === 'unicast' &&
      r.destination.includes('/') &&
      r.scope === 'link' &&
      lookupRoute([r], dst),
  );
  return local?.destination ?? dst;
}

function upper(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function cap(name: string): string {
  return name.replace(/^node([A-Z])$/, 'node $1').replace(/^pod([A-Z])$/, 'pod $1');
}

function blackholeSentence(
  plan: DatapathPlan,
  node: string,
  dst: string,
  route: IpRoute,
  between: string,
): string {
  const where = cap(node);
  const text = formatRoute(route);
  const exact = route.destination === dst || route.destination === `${dst}/32`;
  const evidence = exact
    ? `${where}'s route for ${dst} is \`${text}\``
    : `${where} has no route for ${dst} more specific than \`${text}\``;
  const cause = exact
    ? `${
        plan.mode.startsWith('calico')
          ? 'Calico blackholes only the blocks a node owns, so a blackhole for a single pod address is left by hand or by another agent'
          : `${plan.mode.startsWith('flannel') ? 'Flannel' : 'The CNI'} writes no blackhole routes, so this one was added by hand or by another agent`
      }. Fix: remove it (\`ip route del ${text}\` on ${where}) and find who added it`
    : plan.sameNode
      ? `${upper(cap(plan.destination.name))}'s own /32 route (\`${dst} dev ${plan.destination.hostInterface ?? 'cali…'} scope link\`) is missing, so the lookup fell through to the blackhole of ${where}'s block. The CNI writes that route when it sets up the pod: check calico-node on ${where} and the pod's WorkloadEndpoint (\`calicoctl get workloadendpoints\`)`
      : `The blackhole covers ${dst}, so a route for the peer's block is missing or less specific: check the block affinities (\`calicoctl ipam show --show-blocks\`)`;
  return `Probe dies on ${where}, ${between}: ${evidence}, so the routing decision discards it silently (no ICMP error). ${cause}.`;
}

function mtuSentence(
  input: LossExplanationInput,
  node: string,
  last: HopReport,
  dev: string,
  mtu: number,
  between: string,
): string {
  const { plan, state, icmpErrors, smallProbe } = input;
  const where = cap(node);
  const parts = [
    `Probe too big, ${between}: it is ${last.innerLength} bytes (IP length) at ${last.name}, larger than the MTU ${mtu} of ${dev}, where ${where} sends it; Linux sends ping and TCP with Don't Fragment set, so ${where} drops it instead of fragmenting it.`,
  ];
  // Errors correlation tied to the probe (they quote it) first, then any seen on the way.
  const tied = input.report.hops.flatMap((h) =>
    (h.icmpErrors ?? [])
      .filter((e) => e.about === 'packet' && tooBig(e))
      .map((e) => ({ hop: h.name, src: e.from, dst: e.to, mtu: e.mtu, quotesProbe: true })),
  );
  const fragNeeded =
    tied[0] ??
    icmpErrors?.find(
      (e) => e.type.includes('unreachable') && e.code === 4 && e.dst === plan.source.ip,
    );
  if (fragNeeded) {
    const quoting = 'quotesProbe' in fragNeeded ? ' (it quotes the probe itself)' : '';
    parts.push(
      `${upper(where)} answered ICMP "fragmentation needed"${fragNeeded.mtu !== null ? ` (next-hop MTU ${fragNeeded.mtu})` : ''} from ${fragNeeded.src} to ${fragNeeded.dst}, seen at ${fragNeeded.hop}${quoting}.`,
    );
  }
  const podLink = stateOf(state, plan.source.name)?.links.find(
    (l) => l.name === (plan.source.interface ?? 'eth0'),
  );
  if (podLink && podLink.mtu > mtu) {
    parts.push(
      `${upper(cap(plan.source.name))}'s ${podLink.name} has MTU ${podLink.mtu}, above the ${mtu} that ${dev} carries.`,
    );
  }
  if (smallProbe) {
    parts.push(
      smallProbe.received > 0
        ? `A small probe (${smallProbe.ipLength} bytes) passes: ${smallProbe.received} of ${smallProbe.sent} answered, so the path works and only the size is wrong.`
        : `A small probe (${smallProbe.ipLength} bytes) did not pass either (${smallProbe.received} of ${smallProbe.sent} answered): something besides the MTU is wrong.`,
    );
  }
  const fix = plan.mode.startsWith('flannel')
    ? `Fix: give pods the MTU of ${dev} (${mtu}); Flannel writes it to /run/flannel/subnet.env (FLANNEL_MTU) and the CNI plugin uses it for new pods.`
    : plan.mode.startsWith('calico')
      ? `Fix: give pods the MTU of ${dev} (${mtu}): Calico's \`veth_mtu\` in the calico-config ConfigMap (or the Installation's MTU), then recreate the pods.`
      : `Fix: set the pod MTU to ${mtu} or less.`;
  parts.push(fix);
  return parts.join(' ');
}

/** "Fragmentation needed" (ICMP) or "packet too big" (ICMPv6). */
function tooBig(e: Pick<HopIcmpError, 'family' | 'type' | 'code'>): boolean {
  return e.family === 'icmp'
    ? e.type === 'unreachable' && e.code === 4
    : e.type === 'packet too big';
}

function misrouteSentence(
  input: LossExplanationInput,
  node: string,
  nodeState: NodeState,
  route: IpRoute,
  planned: PlannedRoute,
  last: HopReport,
  between: string,
): string {
  const { plan, state } = input;
  const where = cap(node);
  const dst = last.dst ?? plan.destination.ip;
  const prefix = peerPrefix(plan, dst, state ?? []);
  const text = formatRoute(route);
  const parts: string[] = [];
  // Evidence in the capture: the frame left with the wrong destination MAC.
  const lastIsWayOut =
    last.dstMac !== null && route.dev !== undefined && last.name.endsWith(`-${route.dev}`);
  if (lastIsWayOut && last.dstMac !== null) {
    // The neighbour table says which address the MAC answered for; failing that, a
    // device with that MAC in the state (the underlay bridge, a node's eth0).
    const owner =
      neighbourByMac(nodeState, last.dstMac)?.address ??
      linkByMac(state ?? [], last.dstMac)?.link.ipv4?.split('/')[0];
    const isGateway = owner !== undefined && owner === route.via;
    const peerMac = stateOf(state ?? [], planned.peerNode)?.links.find(
      (l) => l.name === planned.peerInterface,
    )?.mac;
    const who = owner
      ? ` (${owner}${isGateway ? `, ${where}'s ${route.destination === 'default' ? 'default ' : ''}gateway` : ''})`
      : '';
    parts.push(
      `Probe sent to the wrong next hop, ${between}: at ${last.name} its destination MAC is ${last.dstMac}${who}, not ${cap(planned.peerNode)}'s${peerMac ? ` ${peerMac}` : ''}.`,
    );
  } else {
    parts.push(`Probe routed away from the datapath, ${between}.`);
  }
  const expected =
    planned.via !== undefined
      ? `\`${prefix} via ${planned.via} dev ${planned.dev}\``
      : `a route to ${prefix} through ${planned.dev}`;
  const overlay = plan.hops.some((h) => h.encapsulation !== null);
  const followed = route.destination === 'default' ? 'its default route' : 'the route';
  parts.push(
    `${upper(where)} has no route to ${prefix}${route.destination === 'default' ? '' : ` other than \`${text}\``}, so it followed ${followed} \`${text}\`${overlay && route.dev !== planned.dev ? ` out of ${route.dev} unencapsulated instead of into ${planned.dev} (the overlay)` : ''}; ${route.via ? `${route.via} does not route pod addresses, so ` : ''}${cap(planned.peerNode)} never sees the probe.`,
  );
  const source = routeSource(plan.mode);
  parts.push(`Expected ${expected}, written by ${source.who}: ${source.check}.`);
  return parts.join(' ');
}

function fdbSentence(
  input: LossExplanationInput,
  node: string,
  nodeState: NodeState,
  route: IpRoute,
  peerIp: string | undefined,
  between: string,
): string | undefined {
  const dev = route.dev!;
  const where = cap(node);
  const via = route.via;
  if (!via) return undefined;
  const neighbour = nodeState.neighbours.find((n) => n.address === via && n.dev === dev);
  const author = routeSource(input.plan.mode).who.split(',')[0];
  if (!neighbour?.lladdr) {
    return `Probe lost in ${dev} on ${where}, ${between}: ${where} routes it \`${formatRoute(route)}\` but has no neighbour entry for ${via} on ${dev}, and the device does not learn (nolearning), so no encapsulated packet leaves ${where}. ${author} writes that entry: check it on ${where}.`;
  }
  const mac = neighbour.lladdr;
  const entries = nodeState.fdb.filter(
    (f) => f.dev === dev && f.mac.toLowerCase() === mac.toLowerCase() && f.dst !== undefined,
  );
  const fix = `${author} writes it from the peer's VTEP (by hand: \`bridge fdb append ${mac} dev ${dev} dst ${peerIp ?? '<node B IP>'} self permanent\`).`;
  if (entries.length === 0) {
    return `Probe lost in ${dev} on ${where}, ${between}: ${where} routes it \`${formatRoute(route)}\` and ${via} is at ${mac}, but ${dev}'s forwarding table has no entry for ${mac} (\`bridge fdb show dev ${dev}\`), so the kernel does not know which node to send the VXLAN packet to and drops it: no encapsulated packet leaves ${where}'s eth0. ${fix}`;
  }
  const wrong = peerIp ? entries.filter((e) => e.dst !== peerIp) : [];
  if (wrong.length === entries.length && wrong.length > 0) {
    return `Probe sent to the wrong VTEP, ${between}: ${dev}'s forwarding entry for ${mac} says \`dst ${wrong[0]!.dst}\`, but ${cap(input.plan.destination.node)} is ${peerIp}, so the encapsulated packet goes to a node that does not have the pod. ${fix}`;
  }
  return undefined;
}

/**
 * The plan's notes, checked against the node state read after the build: a note that
 * quotes a route (`` `192.168.231.128/26 via 172.18.0.6 dev eth0 proto bird` ``) or a
 * VXLAN forwarding entry (`` `… dst 172.18.0.6 …` ``) that no node has is marked
 * "Not so in this run" with what the node has instead. Notes describe the healthy
 * datapath; a fault removes what they describe, and a note must not claim otherwise.
 */
export function checkNotesAgainstState(
  notes: readonly string[],
  states: readonly NodeState[],
): string[] {
  const nodes = states.filter((s) => s.kind === 'node');
  if (nodes.length === 0) return [...notes];
  return notes.map((note) => {
    for (const quoted of note.match(/`[^`]+`/g) ?? []) {
      const text = quoted.slice(1, -1);
      if (/[…<>]/.test(text)) {
        const dst = /\bdst (\d+\.\d+\.\d+\.\d+)\b/.exec(text)?.[1];
        if (dst && /\bFDB\b/.test(note) && !nodes.some((n) => n.fdb.some((f) => f.dst === dst))) {
          const dev = /\bon (\S+?)[,;:.]?\s/.exec(note.slice(note.indexOf(quoted)))?.[1];
          return `Not so in this run: ${note} (no node has a forwarding entry with dst ${dst}${dev ? ` in \`bridge fdb show dev ${dev}\`` : ''}).`;
        }
        continue;
      }
      const route = /\b(via|dev)\b/.test(text) ? parseIpRouteLine(text) : undefined;
      if (!route || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(route.destination)) continue;
      const same = (r: IpRoute): boolean =>
        r.type === route.type &&
        r.destination === route.destination &&
        (route.via === undefined || r.via === route.via) &&
        (route.dev === undefined || r.dev === route.dev);
      if (states.some((s) => s.routes.some(same))) continue;
      // `nodeA has `…`` or `…` on nodeB`; otherwise the first node (the source's).
      const at = note.indexOf(quoted);
      const named =
        /\b(node\w+) has $/.exec(note.slice(0, at))?.[1] ??
        /^ on (node\w+)\b/.exec(note.slice(at + quoted.length))?.[1];
      const node = nodes.find((n) => n.name === named) ?? nodes[0]!;
      const dstIp = route.destination.split('/')[0]!;
      const instead = lookupRoute(node.routes, dstIp);
      return `Not so in this run: ${note} (${cap(node.name)} has no \`${formatRoute(route)}\`${instead ? `; for ${dstIp} it uses \`${formatRoute(instead)}\`` : ''}).`;
    }
    return note;
  });
}

/** One capture as read, for {@link inputProblems}. */
export interface ReadCapture {
  /** The file name as a person knows it (`03-nodeA-eth0.pcap`). */
  file: string;
  format: 'pcap' | 'pcapng' | 'text';
  issues: readonly { at: number; message: string; fatal?: boolean }[];
}

/**
 * What is wrong with the input itself, one plain sentence per file, to be said before
 * any analysis: a file that is not tcpdump output, a pcap cut short. These files are
 * never evidence of loss.
 */
export function inputProblems(captures: readonly ReadCapture[]): string[] {
  const out: string[] = [];
  for (const c of captures) {
    const fatal = c.issues.find((i) => i.fatal);
    if (!fatal) continue;
    if (c.format === 'text' && fatal.message.startsWith('not tcpdump output')) {
      out.push(`${c.file} is ${fatal.message}.`);
    } else if (c.format !== 'text') {
      out.push(
        `${c.file} is truncated (${fatal.message}): the packets after record ${fatal.at - 1} are missing, so this hop is not counted as loss.`,
      );
    } else {
      out.push(`${c.file} could not be read to the end: ${fatal.message}.`);
    }
  }
  return out;
}
