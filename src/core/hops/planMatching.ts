/**
 * Pairs captures with the hops of a datapath plan. Capture names follow the plan's
 * file-name style (`03-nodeA-flannel.1`), possibly with a variant after it
 * (`03-nodeA-flannel.1.e` from `03-nodeA-flannel.1.e.txt`), and the number may differ
 * when the captures come from another mode (a Flannel VXLAN set has `04-nodeA-eth0` where
 * host-gw has `03-nodeA-eth0`), so names are also compared without their leading number.
 * Positions are used only when nothing matches by name and the counts agree.
 */
import type { DatapathPlan, PlanHop } from '../datapath/types';

/** For each capture name, its plan hop, or undefined when it has none. */
export function matchPlanHops(names: string[], plan: DatapathPlan): (PlanHop | undefined)[] {
  const matched = names.map(
    (name) =>
      bestMatch(name, plan.hops, (h) => h.name) ??
      bestMatch(withoutNumber(name), plan.hops, (h) => withoutNumber(h.name)),
  );
  if (matched.every((m) => m === undefined) && names.length === plan.hops.length) {
    return plan.hops.slice();
  }
  return matched;
}

/** The plan hop whose name is `name` or a dotted prefix of it, the longest if several. */
function bestMatch(
  name: string,
  hops: PlanHop[],
  nameOf: (h: PlanHop) => string,
): PlanHop | undefined {
  let best: PlanHop | undefined;
  let bestLength = -1;
  let tie = false;
  for (const hop of hops) {
    const n = nameOf(hop);
    if (n.length === 0 || !(name === n || name.startsWith(`${n}.`))) continue;
    if (n.length > bestLength) {
      best = hop;
      bestLength = n.length;
      tie = false;
    } else if (n.length === bestLength) {
      tie = true;
    }
  }
  // Two plan hops with the same bare name (same-node paths) cannot be told apart by name.
  return tie ? undefined : best;
}

function withoutNumber(name: string): string {
  return name.replace(/^\d+[-_. ]?/, '');
}
