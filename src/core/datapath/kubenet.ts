/**
 * kubenet: the kubelet's basic plugin. Pods sit on a `cbr0` bridge; routes
 * between node pod CIDRs are programmed outside the nodes (cloud route tables)
 * or as static routes, so the path is host-gw's with another bridge name.
 */
import { ipv4Network, planContext } from './planInput';
import { podPathPlan } from './podPath';
import type { DatapathPlan, PlanInput } from './types';

/** Hops of a probe between two pods under kubenet (6 cross-node, 3 same-node). */
export function kubenetPlan(input: PlanInput): DatapathPlan {
  const ctx = planContext(input);
  const peer = ipv4Network(ctx.destination.ip, 24) ?? `the pod CIDR of ${ctx.destination.node}`;
  const nodeB = ctx.destinationNode;
  const notes = ctx.sameNode
    ? [
        `Pods on ${ctx.sourceNode.name} share cbr0's pod CIDR and reach each other by ARP on the bridge.`,
      ]
    : [
        `kubenet installs no routes between nodes: \`${peer} via ${nodeB.ip}\` must come from the cloud's route table or a static route.`,
        "cbr0 holds the first address of the node's pod CIDR and is every pod's default gateway.",
      ];
  return podPathPlan(ctx, {
    mode: 'kubenet',
    modeTitle: 'kubenet',
    attachment: { kind: 'bridge', bridge: 'cbr0' },
    podMtu: 1500,
    tunnel: null,
    routeToPeer: `${peer} via ${nodeB.ip}`,
    routeToPod: `${ipv4Network(ctx.destination.ip, 24) ?? ctx.destination.ip} dev cbr0`,
    notes,
  });
}
