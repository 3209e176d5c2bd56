/**
 * Calico IPIP (the IPPool's `ipipMode: Always`): routes still come from BGP,
 * but point at `tunl0`, which adds one outer IPv4 header (protocol 4) between
 * the node IPs.
 */
import { calicoBlock, calicoNotes, calicoPodRoute } from './calicoRoutes';
import type { PlanContext } from './planInput';
import { isIpv4, planContext, PlanInputError } from './planInput';
import type { PodPathShape } from './podPath';
import { IPIP_OVERHEAD, NODE_MTU, podPathPlan } from './podPath';
import type { DatapathPlan, PlanInput } from './types';

/** MTU of tunl0 and of pods under IPIP: 1500 − 20. */
export const CALICO_IPIP_MTU = NODE_MTU - IPIP_OVERHEAD;

/** Shape of the IPIP Calico path; CrossSubnet reuses it for nodes on different subnets. */
export function calicoIpipShape(ctx: PlanContext, modeTitle: string): Omit<PodPathShape, 'mode'> {
  if (!ctx.sameNode && !(isIpv4(ctx.sourceNode.ip) && isIpv4(ctx.destinationNode.ip))) {
    throw new PlanInputError('IPIP carries IPv4 only: both node IPs must be IPv4.');
  }
  const block = calicoBlock(ctx.destination.ip);
  const route = `${block} via ${ctx.destinationNode.ip} dev tunl0 proto bird onlink`;
  const notes = calicoNotes(ctx);
  if (!ctx.sameNode) {
    notes.push(
      `\`${route}\`: BGP still distributes the blocks, but the route sends them through tunl0.`,
      `IPIP adds one outer IPv4 header (20 bytes, protocol 4); tunl0 and the pods use MTU ${CALICO_IPIP_MTU} = 1500 − 20.`,
      'tcpdump on eth0 shows `IP <node> > <node>: IP <pod> > <pod>: …` (with -v, `proto IPIP (4)`).',
    );
  }
  return {
    modeTitle,
    attachment: { kind: 'veth' },
    podMtu: CALICO_IPIP_MTU,
    tunnel: { device: 'tunl0', mtu: CALICO_IPIP_MTU, type: 'ipip' },
    routeToPeer: route,
    routeToPod: calicoPodRoute(ctx),
    notes,
  };
}

/** Hops of a probe between two pods under Calico IPIP (8 cross-node, 4 same-node). */
export function calicoIpipPlan(input: PlanInput): DatapathPlan {
  const ctx = planContext(input);
  return podPathPlan(ctx, { mode: 'calico-ipip', ...calicoIpipShape(ctx, 'Calico IPIP') });
}
