/**
 * Flannel with the host-gw backend: pods on a `cni0` bridge, and each node routes
 * the peer's pod subnet straight to the peer's node IP, so the nodes must share
 * one L2 segment.
 */
import { ipv4InCidr, planContext } from './planInput';
import { flannelSubnet } from './flannelVxlan';
import { podPathPlan } from './podPath';
import type { DatapathPlan, PlanInput } from './types';

/** Hops of a probe between two pods under Flannel host-gw (6 cross-node, 3 same-node). */
export function flannelHostGwPlan(input: PlanInput): DatapathPlan {
  const ctx = planContext(input);
  const peer = flannelSubnet(ctx.destination.ip);
  const nodeA = ctx.sourceNode;
  const nodeB = ctx.destinationNode;
  const notes = ctx.sameNode
    ? [
        `Pods on ${nodeA.name} share cni0's ${flannelSubnet(ctx.source.ip)} and reach each other by ARP on the bridge.`,
      ]
    : [
        `${nodeA.name} has \`${peer} via ${nodeB.ip} dev eth0\`: the next hop is the peer node itself, so no tunnel and no overhead; MTU stays 1500.`,
        'host-gw only works when the nodes share one L2 segment: the next hop must answer ARP directly.',
      ];
  if (!ctx.sameNode && nodeA.subnet && ipv4InCidr(nodeB.ip, nodeA.subnet) === false) {
    notes.push(
      `${nodeB.name} (${nodeB.ip}) is outside ${nodeA.name}'s subnet ${nodeA.subnet}: the route cannot be installed (its next hop is not on a connected subnet) and the probe cannot pass.`,
    );
  }
  return podPathPlan(ctx, {
    mode: 'flannel-host-gw',
    modeTitle: 'Flannel host-gw',
    attachment: { kind: 'bridge', bridge: 'cni0' },
    podMtu: 1500,
    tunnel: null,
    routeToPeer: `${peer} via ${nodeB.ip} dev ${nodeA.interface ?? 'eth0'}`,
    routeToPod: `${flannelSubnet(ctx.destination.ip)} dev cni0`,
    notes,
  });
}
