/**
 * Flannel with the VXLAN backend: pods on a `cni0` bridge; cross-node traffic is
 * routed into `flannel.<VNI>` (`flannel.1`) and carried in VXLAN over UDP 8472 (VNI 1 unless the
 * ConfigMap says otherwise) between the node IPs.
 */
import { ipv4Network, planContext } from './planInput';
import { podPathPlan, vxlanOverhead } from './podPath';
import type { DatapathPlan, PlanInput } from './types';

/** Flannel's default per-node subnet length (`SubnetLen` in net-conf.json). */
export const FLANNEL_SUBNET_LEN = 24;
export const FLANNEL_VXLAN_PORT = 8472;
export const FLANNEL_VXLAN_VNI = 1;

/** The node's Flannel subnet as seen from one of its pods' IPs (`10.244.1.4` → `10.244.1.0/24`). */
export function flannelSubnet(podIp: string): string {
  return ipv4Network(podIp, FLANNEL_SUBNET_LEN) ?? `the pod subnet of ${podIp}`;
}

/** Hops of a probe between two pods under Flannel VXLAN (8 cross-node, 3 same-node). */
export function flannelVxlanPlan(input: PlanInput): DatapathPlan {
  const ctx = planContext(input);
  const vni = input.vni ?? FLANNEL_VXLAN_VNI;
  const port = input.vxlanPort ?? FLANNEL_VXLAN_PORT;
  const overhead = vxlanOverhead(ctx.sourceNode.ip);
  const mtu = input.tunnelMtu ?? 1500 - overhead;
  // flanneld names the VXLAN device after the VNI.
  const device = `flannel.${vni}`;
  const peer = flannelSubnet(ctx.destination.ip);
  const vtep = peer.split('/')[0] ?? peer;
  const nodeA = ctx.sourceNode.name;
  const nodeB = ctx.destinationNode.name;
  const notes = ctx.sameNode
    ? [
        `Pods on ${nodeA} share cni0's ${flannelSubnet(ctx.source.ip)} and reach each other by ARP on the bridge; ${device} is not involved.`,
      ]
    : [
        `${nodeA} has \`${peer} via ${vtep} dev ${device} onlink\`: ${vtep} is ${nodeB}'s ${device} (its VTEP), reachable only through the tunnel.`,
        `A permanent neighbour entry gives ${vtep} the MAC of ${nodeB}'s ${device}, and the FDB entry \`<that MAC> dst ${ctx.destinationNode.ip} self permanent\` on ${device} names the node to send to; flanneld writes both (the device is nolearning).`,
        input.tunnelMtu === undefined
          ? `MTU ${mtu} = 1500 − ${overhead}: outer IP ${overhead - 30} + UDP 8 + VXLAN 8 + inner Ethernet 14; pods and cni0 use ${mtu} so that encapsulated packets still fit eth0.`
          : `MTU ${mtu}, as the cluster sets it; VXLAN adds ${overhead} bytes (outer IP ${overhead - 30} + UDP 8 + VXLAN 8 + inner Ethernet 14).`,
        `tcpdump prints UDP ${port} as \`OTV … instance ${vni}\` (8472 is OTV's registered port); it is the same 8-byte VXLAN header.`,
      ];
  return podPathPlan(ctx, {
    mode: 'flannel-vxlan',
    modeTitle: 'Flannel VXLAN',
    attachment: { kind: 'bridge', bridge: 'cni0' },
    podMtu: mtu,
    tunnel: { device, mtu, type: 'vxlan', vni, dstPort: port },
    routeToPeer: `${peer} via ${vtep} dev ${device} onlink`,
    routeToPod: `${flannelSubnet(ctx.destination.ip)} dev cni0`,
    notes,
  });
}
