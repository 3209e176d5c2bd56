/**
 * Calico with BGP and no encapsulation: each node's BIRD announces its /26
 * blocks to the others over iBGP (AS 64512, TCP 179), and packets cross the
 * underlay as they left the pod. The nodes must be on one L2 segment or peer
 * with the routers between them.
 */
import { calicoBlock, calicoNotes, calicoPodRoute } from './calicoRoutes';
import type { PlanContext } from './planInput';
import { planContext } from './planInput';
import type { PodPathShape } from './podPath';
import { podPathPlan } from './podPath';
import type { DatapathPlan, PlanInput } from './types';

/** Shape of the un-encapsulated Calico path; CrossSubnet reuses it for nodes on one subnet. */
export function calicoBgpShape(ctx: PlanContext, modeTitle: string): Omit<PodPathShape, 'mode'> {
  const block = calicoBlock(ctx.destination.ip);
  const via = ctx.destinationNode.ip;
  const notes = calicoNotes(ctx);
  if (!ctx.sameNode) {
    notes.push(
      `\`${block} via ${via} dev ${ctx.sourceNode.interface ?? 'eth0'} proto bird\` was learned over BGP from ${ctx.destinationNode.name}'s BIRD (iBGP, AS 64512, TCP 179); \`proto bird\` marks routes BIRD put in the kernel.`,
    );
  }
  return {
    modeTitle,
    attachment: { kind: 'veth' },
    podMtu: 1500,
    tunnel: null,
    routeToPeer: `${block} via ${via} dev ${ctx.sourceNode.interface ?? 'eth0'} proto bird`,
    routeToPod: calicoPodRoute(ctx),
    notes,
  };
}

/** Hops of a probe between two pods under Calico BGP (6 cross-node, 4 same-node). */
export function calicoBgpPlan(input: PlanInput): DatapathPlan {
  const ctx = planContext(input);
  const shape = calicoBgpShape(ctx, 'Calico BGP');
  if (!ctx.sameNode)
    shape.notes.push('No encapsulation, so no overhead: pod and node MTUs are both 1500.');
  return podPathPlan(ctx, { mode: 'calico-bgp', ...shape });
}
