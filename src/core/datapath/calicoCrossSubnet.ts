/**
 * Calico CrossSubnet (`ipipMode: CrossSubnet`): plain BGP routing between
 * nodes on one subnet, IPIP only towards nodes on another. The choice is made
 * per peer from the node addresses' subnets, as Felix does.
 */
import { calicoBgpShape } from './calicoBgp';
import { CALICO_IPIP_MTU, calicoIpipShape } from './calicoIpip';
import { nodesShareSubnet } from './calicoRoutes';
import { planContext } from './planInput';
import { podPathPlan } from './podPath';
import type { DatapathPlan, PlanInput } from './types';

/**
 * Hops of a probe between two pods under Calico CrossSubnet: 6 when the nodes
 * share a subnet, 8 (IPIP) when they do not, 4 on one node.
 */
export function calicoCrossSubnetPlan(input: PlanInput): DatapathPlan {
  const ctx = planContext(input);
  const subnet = nodesShareSubnet(ctx.sourceNode, ctx.destinationNode);
  const across = !ctx.sameNode && !subnet.same;
  const shape = across
    ? calicoIpipShape(ctx, 'Calico CrossSubnet (IPIP across subnets)')
    : calicoBgpShape(
        ctx,
        `Calico CrossSubnet (${ctx.sameNode ? 'one node' : 'same subnet, no encapsulation'})`,
      );
  const notes = [...shape.notes];
  if (!ctx.sameNode) {
    notes.unshift(
      across
        ? `${ctx.sourceNode.name} (${ctx.sourceNode.ip}) and ${ctx.destinationNode.name} (${ctx.destinationNode.ip}) are on different subnets, so this pair is encapsulated in IPIP.`
        : subnet.known
          ? `${ctx.sourceNode.name} and ${ctx.destinationNode.name} share a subnet, so this pair is routed without encapsulation.`
          : 'Neither node gives its subnet: assumed shared, so routed without encapsulation (set NodeInfo.subnet to decide).',
    );
  }
  notes.push(
    `Calico sizes pod MTUs for the encapsulation the pool may use, so pods get ${CALICO_IPIP_MTU} even on paths that are not encapsulated.`,
  );
  return podPathPlan(ctx, {
    ...shape,
    mode: 'calico-crosssubnet',
    // Pods carry the IPIP MTU whichever way this particular pair goes.
    podMtu: CALICO_IPIP_MTU,
    notes,
  });
}
