/**
 * What every Calico mode shares: pods without a bridge behind `cali…` veths
 * with proxy ARP, a /32 route per local pod, and per-node IPAM blocks (/26 by
 * default) whose routes BIRD or Felix install on the peers.
 */
import type { PlanContext } from './planInput';
import { ipv4InCidr, ipv4Network } from './planInput';
import type { NodeInfo } from './types';

/** Calico's default IPAM block size (`blockSize` of the IPPool). */
export const CALICO_BLOCK_BITS = 26;

/** The /26 block a Calico pod IP comes from (`192.168.231.131` → `192.168.231.128/26`). */
export function calicoBlock(podIp: string): string {
  return ipv4Network(podIp, CALICO_BLOCK_BITS) ?? `the block of ${podIp}`;
}

/** Host-side interface of a pod's veth, or the placeholder the plan uses. */
export function caliName(ctx: PlanContext, which: 'source' | 'destination'): string {
  const ep = ctx[which];
  return ep.hostInterface ?? `cali${ep.name}`.slice(0, 15);
}

/** `192.168.231.131 dev cali7d04b6e1c52 scope link`: the destination node's route to the pod. */
export function calicoPodRoute(ctx: PlanContext): string {
  return `${ctx.destination.ip} dev ${caliName(ctx, 'destination')} scope link`;
}

/**
 * Facts every Calico plan states: proxy ARP, /32 routes, blackhole. `installer`
 * is who writes block routes: BIRD (`proto bird`) with BGP, Felix in VXLAN mode.
 */
export function calicoNotes(ctx: PlanContext, installer: 'bird' | 'felix' = 'bird'): string[] {
  const notes = [
    `Pods route everything \`default via 169.254.1.1 dev eth0\`; nothing owns 169.254.1.1, the cali interface answers ARP for it with ee:ee:ee:ee:ee:ee (proxy_arp=1).`,
    `Each node has a /32 route per local pod, e.g. \`${calicoPodRoute(ctx)}\` on ${ctx.destinationNode.name}.`,
  ];
  if (!ctx.sameNode) {
    notes.push(
      `${ctx.sourceNode.name} owns ${calicoBlock(ctx.source.ip)} and ${installer === 'bird' ? 'BIRD marks it `blackhole … proto bird`' : 'Felix marks it `blackhole`'} so that unknown addresses in it are dropped, not sent back out.`,
    );
  }
  return notes;
}

/**
 * Whether two nodes share a subnet, judged from NodeInfo.subnet; `known` is false
 * when neither node gives one (then they are assumed to share it).
 */
export function nodesShareSubnet(a: NodeInfo, b: NodeInfo): { same: boolean; known: boolean } {
  if (a.subnet) {
    const inside = ipv4InCidr(b.ip, a.subnet);
    if (inside !== null) return { same: inside, known: true };
  }
  if (b.subnet) {
    const inside = ipv4InCidr(a.ip, b.subnet);
    if (inside !== null) return { same: inside, known: true };
  }
  return { same: true, known: false };
}
