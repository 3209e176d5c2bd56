/**
 * The one pod-to-pod path every CNI mode here is a variant of:
 *
 *   pod eth0 → node ingress (bridge or cali veth) → [tunnel device] → node eth0
 *   → peer eth0 → [tunnel device] → bridge / cali → pod eth0
 *
 * A mode module describes its variant as a PodPathShape (attachment, tunnel,
 * MTUs, the routes in words); this module turns it into numbered hops with the
 * TTL, encapsulation and filter at each. TTL falls by one at each routing step
 * only: the kernel decrements when it forwards, never when it bridges.
 */
import { caliName } from './calicoRoutes';
import type { PlanContext } from './planInput';
import { isIpv4, probeFilter, probeText, tunnelFilter } from './planInput';
import type {
  CniMode,
  DatapathPlan,
  Encapsulation,
  HopAction,
  HopLocation,
  NodeInfo,
  PlanHop,
} from './types';

export type PodAttachment =
  | { kind: 'bridge'; bridge: string }
  /** Calico: no bridge, the host side of the veth is `cali…` with proxy ARP. */
  | { kind: 'veth' };

export interface TunnelShape {
  device: string;
  mtu: number;
  type: 'vxlan' | 'ipip';
  vni?: number;
  dstPort?: number;
}

export interface PodPathShape {
  mode: CniMode;
  modeTitle: string;
  attachment: PodAttachment;
  /** MTU of pod eth0, the bridge and the host-side veths. */
  podMtu: number;
  /** Tunnel for cross-node traffic, or null for plain routing. */
  tunnel: TunnelShape | null;
  /** The source node's route to the peer, as `ip route` shows it. */
  routeToPeer: string;
  /** The destination node's route to the pod, as `ip route` shows it. */
  routeToPod: string;
  notes: string[];
}

/** Underlay MTU of node eth0 in every lab and in kind. */
export const NODE_MTU = 1500;

/** VXLAN overhead: outer IP + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export function vxlanOverhead(outerIp: string): number {
  return (isIpv4(outerIp) ? 20 : 40) + 8 + 8 + 14;
}

/** IPIP overhead: one outer IPv4 header. */
export const IPIP_OVERHEAD = 20;

type DraftHop = Omit<PlanHop, 'name'>;

function podLocation(name: string, node: string): HopLocation {
  return { kind: 'pod', name, node };
}

function nodeLocation(node: NodeInfo): HopLocation {
  return { kind: 'node', name: node.name };
}

/** `03-nodeA-flannel.1`: two-digit index, location, interface. */
export function hopFileName(index: number, location: HopLocation, iface: string): string {
  return `${String(index).padStart(2, '0')}-${location.name}-${iface}`;
}

function encapLabel(e: Encapsulation): string {
  return e.type === 'vxlan'
    ? `VXLAN encap +${e.overheadBytes} B, UDP ${e.dstPort ?? '?'}, VNI ${e.vni ?? '?'}`
    : `IPIP encap +${e.overheadBytes} B, proto 4`;
}

function routedLabel(ttlBefore: number): string {
  return `routed TTL ${ttlBefore}→${ttlBefore - 1}`;
}

function draft(
  location: HopLocation,
  iface: string,
  action: HopAction,
  description: string,
  label: string,
  expectedTtl: number,
  mtu: number,
  filter: string,
  encapsulation: Encapsulation | null = null,
): DraftHop {
  return {
    location,
    interface: iface,
    action,
    description,
    label,
    expectedTtl,
    encapsulation,
    mtu,
    filter,
  };
}

/** Builds the plan for `shape` between the two pods of `ctx`. */
export function podPathPlan(ctx: PlanContext, shape: PodPathShape): DatapathPlan {
  const { source: src, destination: dst, sourceNode: nodeA, destinationNode: nodeB } = ctx;
  const ttl = ctx.initialTtl;
  const inner = probeFilter(ctx.probe, src.ip, dst.ip);
  const podA = podLocation(src.name, src.node);
  const podB = podLocation(dst.name, dst.node);
  const locA = nodeLocation(nodeA);
  const locB = nodeLocation(nodeB);
  const srcIf = src.interface ?? 'eth0';
  const dstIf = dst.interface ?? 'eth0';
  const ethA = nodeA.interface ?? 'eth0';
  const ethB = nodeB.interface ?? 'eth0';
  const hops: DraftHop[] = [];
  const notes = [...shape.notes];

  hops.push(
    draft(
      podA,
      srcIf,
      'origin',
      `${src.name} (${src.ip}) sends the ${probeText(ctx.probe)} to ${dst.ip} out of ${srcIf} with TTL ${ttl}.`,
      `${probeText(ctx.probe)}, TTL ${ttl}`,
      ttl,
      shape.podMtu,
      inner,
    ),
  );

  const attachment = shape.attachment;
  if (attachment.kind === 'bridge') {
    const br = attachment.bridge;
    hops.push(
      draft(
        locA,
        br,
        'bridged',
        ctx.sameNode
          ? `The veth pair puts the frame on ${nodeA.name}'s ${br} bridge, which switches it to ${dst.name}'s veth: same subnet, no routing, TTL unchanged.`
          : `The veth pair puts the frame on ${nodeA.name}'s ${br} bridge; it is addressed to ${br}'s own MAC (the pod's gateway), so the bridge passes it up to the host's IP stack.`,
        `bridged (${br})`,
        ttl,
        shape.podMtu,
        inner,
      ),
    );
    if (ctx.sameNode) {
      hops.push(
        draft(
          podB,
          dstIf,
          'delivered',
          `${dst.name} receives the probe on ${dstIf} with TTL ${ttl}, never routed.`,
          `delivered to ${dst.name} (${dstIf})`,
          ttl,
          shape.podMtu,
          inner,
        ),
      );
      notes.push(
        `Same-node traffic stays on ${br}: tcpdump sees bridged frames there only because it puts the bridge in promiscuous mode (do not pass -p).`,
      );
      return finish(ctx, shape, hops, notes);
    }
  } else {
    const caliA = caliName(ctx, 'source');
    hops.push(
      draft(
        locA,
        caliA,
        'veth',
        `The frame crosses the veth to ${caliA} on ${nodeA.name}; ${caliA} answered the pod's ARP for 169.254.1.1 with ee:ee:ee:ee:ee:ee (proxy ARP), so the host stack receives it.`,
        `veth → ${caliA}`,
        ttl,
        shape.podMtu,
        inner,
      ),
    );
    if (ctx.sameNode) {
      const caliB = caliName(ctx, 'destination');
      hops.push(
        draft(
          locA,
          caliB,
          'routed',
          `${nodeA.name} routes ${dst.ip} by its /32 route (${shape.routeToPod}) out of ${caliB}: TTL ${ttl}→${ttl - 1}, even between pods of one node.`,
          routedLabel(ttl),
          ttl - 1,
          shape.podMtu,
          inner,
        ),
        draft(
          podB,
          dstIf,
          'delivered',
          `${dst.name} receives the probe on ${dstIf} with TTL ${ttl - 1}.`,
          `delivered to ${dst.name} (${dstIf})`,
          ttl - 1,
          shape.podMtu,
          inner,
        ),
      );
      return finish(ctx, shape, hops, notes);
    }
  }

  const tunnel = shape.tunnel;
  if (tunnel) {
    const encapsulation: Encapsulation =
      tunnel.type === 'vxlan'
        ? {
            type: 'vxlan',
            overheadBytes: vxlanOverhead(nodeA.ip),
            vni: tunnel.vni ?? 1,
            dstPort: tunnel.dstPort ?? 8472,
            outerSrc: nodeA.ip,
            outerDst: nodeB.ip,
          }
        : { type: 'ipip', overheadBytes: IPIP_OVERHEAD, outerSrc: nodeA.ip, outerDst: nodeB.ip };
    const outer = tunnelFilter(
      tunnel.type === 'vxlan' ? { udpPort: encapsulation.dstPort ?? 8472 } : 'ipip',
      nodeA.ip,
      nodeB.ip,
    );
    const what =
      tunnel.type === 'vxlan'
        ? `VXLAN (VNI ${encapsulation.vni}) in UDP to port ${encapsulation.dstPort}`
        : 'a second IPv4 header (protocol 4, IPIP)';
    hops.push(
      draft(
        locA,
        tunnel.device,
        'routed',
        `${nodeA.name} routes ${dst.ip} by \`${shape.routeToPeer}\` into ${tunnel.device}: TTL ${ttl}→${ttl - 1}.`,
        routedLabel(ttl),
        ttl - 1,
        tunnel.mtu,
        inner,
      ),
      draft(
        locA,
        ethA,
        'encapsulated',
        `${tunnel.device} wraps the packet in ${what} from ${nodeA.ip} to ${nodeB.ip}, adding ${encapsulation.overheadBytes} bytes; the inner TTL stays ${ttl - 1}.`,
        encapLabel(encapsulation),
        ttl - 1,
        NODE_MTU,
        outer,
        encapsulation,
      ),
      draft(
        locB,
        ethB,
        'wire',
        `The underlay carries the outer packet unchanged from ${nodeA.name} to ${nodeB.name}'s ${ethB}.`,
        `wire, outer ${nodeA.ip} → ${nodeB.ip}`,
        ttl - 1,
        NODE_MTU,
        outer,
        encapsulation,
      ),
      draft(
        locB,
        tunnel.device,
        'decapsulated',
        `${nodeB.name} hands the ${tunnel.type === 'vxlan' ? `UDP ${encapsulation.dstPort} datagram to ${tunnel.device}` : `protocol 4 packet to ${tunnel.device}`}, which strips the ${encapsulation.overheadBytes} outer bytes; the inner packet still has TTL ${ttl - 1}.`,
        `decap, inner TTL ${ttl - 1}`,
        ttl - 1,
        tunnel.mtu,
        inner,
      ),
    );
  } else {
    hops.push(
      draft(
        locA,
        ethA,
        'routed',
        `${nodeA.name} routes ${dst.ip} by \`${shape.routeToPeer}\` out of ${ethA}: TTL ${ttl}→${ttl - 1}, destination MAC now ${nodeB.name}'s${nodeB.mac ? ` (${nodeB.mac})` : ''}.`,
        routedLabel(ttl),
        ttl - 1,
        NODE_MTU,
        inner,
      ),
      draft(
        locB,
        ethB,
        'wire',
        `The underlay delivers the frame to ${nodeB.name}'s ${ethB}, unencapsulated.`,
        `wire to ${nodeB.ip}`,
        ttl - 1,
        NODE_MTU,
        inner,
      ),
    );
  }

  const egress = attachment.kind === 'bridge' ? attachment.bridge : caliName(ctx, 'destination');
  hops.push(
    draft(
      locB,
      egress,
      'routed',
      `${nodeB.name} routes ${dst.ip} by \`${shape.routeToPod}\` out of ${egress}: TTL ${ttl - 1}→${ttl - 2}.`,
      routedLabel(ttl - 1),
      ttl - 2,
      shape.podMtu,
      inner,
    ),
    draft(
      podB,
      dstIf,
      'delivered',
      `${dst.name} (${dst.ip}) receives the probe on ${dstIf} with TTL ${ttl - 2}.`,
      `delivered to ${dst.name} (${dstIf})`,
      ttl - 2,
      shape.podMtu,
      inner,
    ),
  );
  return finish(ctx, shape, hops, notes);
}

function finish(
  ctx: PlanContext,
  shape: PodPathShape,
  drafts: DraftHop[],
  notes: string[],
): DatapathPlan {
  const hops = drafts.map((h, i): PlanHop => ({
    name: hopFileName(i + 1, h.location, h.interface),
    ...h,
  }));
  if (shape.attachment.kind === 'veth') {
    for (const ep of [ctx.source, ctx.destination]) {
      if (ep.hostInterface === undefined) {
        notes.push(
          `The host side of ${ep.name}'s veth is unknown: ${caliName(ctx, ep === ctx.source ? 'source' : 'destination')} is a placeholder; \`ip route get ${ep.ip}\` on ${ep.node} names the real cali interface.`,
        );
      }
    }
  }
  const lowest = Math.min(...hops.map((h) => h.expectedTtl));
  if (lowest < 1) {
    notes.push(
      `TTL ${ctx.initialTtl} runs out on the way: the router where it reaches 0 drops the probe and answers ICMP time exceeded.`,
    );
  }
  return {
    mode: shape.mode,
    title: `${shape.modeTitle}, ${ctx.sameNode ? 'same-node' : 'cross-node'}`,
    sameNode: ctx.sameNode,
    source: ctx.source,
    destination: ctx.destination,
    hops,
    initialTtl: ctx.initialTtl,
    notes,
  };
}
