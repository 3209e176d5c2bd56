/**
 * Calico VXLAN (the IPPool's `vxlanMode: Always`): Felix, not BGP, programs
 * routes through `vxlan.calico` (VNI 4096, UDP 4789) with a static neighbour
 * and FDB entry per peer.
 */
import { calicoBlock, calicoNotes, calicoPodRoute } from './calicoRoutes';
import { planContext } from './planInput';
import { podPathPlan, vxlanOverhead } from './podPath';
import type { DatapathPlan, PlanInput } from './types';

export const CALICO_VXLAN_PORT = 4789;
export const CALICO_VXLAN_VNI = 4096;

/** Hops of a probe between two pods under Calico VXLAN (8 cross-node, 4 same-node). */
export function calicoVxlanPlan(input: PlanInput): DatapathPlan {
  const ctx = planContext(input);
  const vni = input.vni ?? CALICO_VXLAN_VNI;
  const port = input.vxlanPort ?? CALICO_VXLAN_PORT;
  const overhead = vxlanOverhead(ctx.sourceNode.ip);
  const mtu = input.tunnelMtu ?? 1500 - overhead;
  const block = calicoBlock(ctx.destination.ip);
  const tunnelIp = `<${ctx.destinationNode.name} vxlan.calico IP>`;
  const route = `${block} via ${tunnelIp} dev vxlan.calico onlink`;
  const notes = calicoNotes(ctx, 'felix');
  if (!ctx.sameNode) {
    notes.push(
      `\`${route}\`: the next hop is the peer's vxlan.calico address (taken from its block); Felix writes the route, a permanent neighbour entry and the FDB entry \`dst ${ctx.destinationNode.ip}\`. No BGP is needed.`,
      `VXLAN adds ${overhead} bytes (outer IP ${overhead - 30} + UDP 8 + VXLAN 8 + inner Ethernet 14); vxlan.calico and the pods use MTU ${mtu}.`,
      `tcpdump names UDP ${port} \`VXLAN, flags [I] (0x08), vni ${vni}\`.`,
    );
  }
  return podPathPlan(ctx, {
    mode: 'calico-vxlan',
    modeTitle: 'Calico VXLAN',
    attachment: { kind: 'veth' },
    podMtu: mtu,
    tunnel: { device: 'vxlan.calico', mtu, type: 'vxlan', vni, dstPort: port },
    routeToPeer: route,
    routeToPod: calicoPodRoute(ctx),
    notes,
  });
}
