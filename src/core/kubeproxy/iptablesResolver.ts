/**
 * Follows a packet through kube-proxy's iptables rules, symbolically: for each
 * way into a Service (cluster IP, node port, external IP, load-balancer IP) and
 * each kind of sender (a pod, the node, a client outside), it walks the nat
 * chains rule by rule, splits at `statistic` rules by their probability (so the
 * chained 1/n, 1/(n−1)… multiply out into each endpoint's share), forks where a
 * match depends on something the dump does not say (and records the condition),
 * and notes every jump to KUBE-MARK-MASQ with its reason. When nothing in nat
 * rewrites the packet, the filter chains decide (REJECT for no endpoints, DROP
 * for Local policy without local endpoints or a load-balancer source range).
 *
 * Works for both eras: KUBE-XLB (before 1.24) and KUBE-EXT / KUBE-SVL / KUBE-FW
 * with KUBE-PROXY-FIREWALL.
 */
import type { IptablesChain, IptablesRule, IptablesRuleset } from './iptablesRules';
import { cidrContains, isHostAddress } from './ipMatch';
import type { EntryKind, EndpointShare, ServicePath, SourceKind } from './types';

/** The symbolic packet: what we know about it. */
export interface SymbolicPacket {
  entry: EntryKind;
  /** The destination IP, or null for "an address of this node" (node port). */
  destination: string | null;
  port: number;
  protocol: string;
  from: SourceKind;
}

interface WalkState {
  weight: number;
  masq: string[];
  chains: string[];
  conditions: string[];
}

interface Outcome {
  kind: 'dnat' | 'drop' | 'reject' | 'accept' | 'incomplete';
  state: WalkState;
  endpoint?: string;
  endpointChain?: string;
  packets?: number;
  note?: string;
}

/** What a walk learns besides its outcomes. */
export interface WalkNotes {
  affinitySeconds: number | null;
  /** Hairpin masquerade rules met on the way: `-s <endpoint> -j KUBE-MARK-MASQ`. */
  hairpins: string[];
  missingChains: Set<string>;
  podCidr: string | null;
  /** Each fork condition and its opposite, to merge forks that did not matter. */
  complements: Map<string, string>;
  /** The node's own addresses when the rules list them (nftables `nodeport-ips`). */
  nodeAddresses?: ReadonlySet<string>;
  /** ipset members (IPVS mode), to evaluate `-m set --match-set` for real. */
  ipsets?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Is the packet in the ipset? Members look like `10.96.0.1,tcp:443` (hash:ip,port)
 * or `30080` (bitmap:port); only destination parts can be known.
 */
function evalMatchSet(
  m: { name: string; flags: string; negated: boolean },
  pkt: SymbolicPacket,
  notes: WalkNotes,
): Tri {
  const members = notes.ipsets?.get(m.name);
  const flags = m.flags.split(',');
  const unknown: Tri = { fork: `matches ipset ${m.name}`, not: `does not match ipset ${m.name}` };
  if (!members || flags.some((f) => f !== 'dst')) return negate(unknown, m.negated);
  let key: string | null;
  if (flags.length === 1)
    key = members.some((x) => /^\d+$/.test(x)) ? String(pkt.port) : pkt.destination;
  else if (pkt.destination === null) {
    // A node port's destination is a node address: never a Service address in an ip,port set.
    return negate(false, m.negated);
  } else key = `${pkt.destination},${pkt.protocol}:${pkt.port}`;
  if (key === null) return negate(unknown, m.negated);
  return negate(members.includes(key), m.negated);
}

type Tri = true | false | { fork: string; not: string };

const MAX_DEPTH = 24;
const TINY = 1e-12;

/** The pod CIDR kube-proxy uses to tell pods from others (`! -s CIDR -j KUBE-MARK-MASQ`). */
export function findPodCidr(rules: IptablesRuleset): string | null {
  for (const chain of rules.chains.values()) {
    if (chain.table !== 'nat') continue;
    for (const r of chain.rules) {
      if (r.source && !isHostAddress(r.source.address)) {
        if (r.source.negated && r.target === 'KUBE-MARK-MASQ') return r.source.address;
        if (!r.source.negated && /pod traffic|Redirect pods/i.test(r.comment ?? ''))
          return r.source.address;
      }
    }
  }
  return null;
}

function masqReason(rule: IptablesRule, pkt: SymbolicPacket, podCidr: string | null): string {
  const where = describeEntry(pkt);
  if (rule.source?.negated)
    return `${where}: the source is outside the pod CIDR ${rule.source.address}, so the reply must come back through this node (${rule.chain})`;
  if (rule.srcType && !rule.srcType.negated && rule.srcType.type === 'LOCAL')
    return `${where}: sent by the node itself (LOCAL source address) (${rule.chain})`;
  if (
    rule.chain.startsWith('KUBE-EXT-') ||
    rule.chain.startsWith('external-') ||
    /external destinations/.test(rule.comment ?? '')
  )
    return `${where}: external traffic with externalTrafficPolicy Cluster may go to an endpoint on another node (${rule.chain})`;
  if (rule.chain === 'KUBE-NODEPORTS')
    return `${where}: every node-port connection is masqueraded (${rule.chain})`;
  if (rule.destination && !rule.source)
    return `${where}: every connection to ${rule.destination.address} is masqueraded (${rule.chain})`;
  void podCidr;
  return `${where}: ${rule.comment ?? rule.text.trim()} (${rule.chain})`;
}

/** `cluster IP 10.96.0.10:53` and friends. */
export function describeEntry(pkt: {
  entry: EntryKind;
  destination: string | null;
  port: number;
}): string {
  switch (pkt.entry) {
    case 'cluster-ip':
      return `cluster IP ${pkt.destination ?? '?'}:${pkt.port}`;
    case 'node-port':
      return `node port ${pkt.port}`;
    case 'external-ip':
      return `external IP ${pkt.destination ?? '?'}:${pkt.port}`;
    case 'load-balancer':
      return `load-balancer IP ${pkt.destination ?? '?'}:${pkt.port}`;
  }
}

function evalSource(rule: IptablesRule, pkt: SymbolicPacket, notes: WalkNotes): Tri {
  const s = rule.source;
  if (!s) return true;
  let base: Tri;
  const marksForMasquerade =
    rule.target === 'KUBE-MARK-MASQ' ||
    (rule.target === 'MARK' && /4000/.test(rule.markAction ?? ''));
  if (isHostAddress(s.address) && marksForMasquerade && !s.negated) {
    // kube-proxy's hairpin check on an endpoint: it only changes the NAT, never the path.
    notes.hairpins.push(
      `hairpin: when ${s.address} reaches itself through the Service (${rule.chain})`,
    );
    return false;
  } else if (isHostAddress(s.address)) {
    if (pkt.from !== 'pod') base = false;
    else
      base = { fork: `the client is ${s.address} itself`, not: `the client is not ${s.address}` };
  } else if (notes.podCidr && s.address === notes.podCidr) {
    base = pkt.from === 'pod';
  } else if (
    pkt.from === 'pod' &&
    notes.podCidr &&
    !cidrContains(s.address, notes.podCidr.split('/')[0]!)
  ) {
    base = false;
  } else {
    base = { fork: `the source is in ${s.address}`, not: `the source is not in ${s.address}` };
  }
  return negate(base, s.negated);
}

function negate(t: Tri, negated: boolean): Tri {
  if (!negated) return t;
  if (t === true) return false;
  if (t === false) return true;
  return { fork: t.not, not: t.fork };
}

function evalDestination(rule: IptablesRule, pkt: SymbolicPacket): Tri {
  const d = rule.destination;
  if (!d) return true;
  const hit = pkt.destination === null ? false : cidrContains(d.address, pkt.destination);
  return negate(hit, d.negated);
}

function evalAddrType(
  spec: { type: string; negated: boolean } | undefined,
  side: 'src' | 'dst',
  pkt: SymbolicPacket,
  notes: WalkNotes,
): Tri {
  if (!spec) return true;
  let base: Tri;
  if (spec.type !== 'LOCAL')
    base = {
      fork: `${side} address type ${spec.type}`,
      not: `${side} address type not ${spec.type}`,
    };
  else if (side === 'src') base = pkt.from === 'node';
  else if (pkt.entry === 'node-port') base = true;
  else if (pkt.entry === 'cluster-ip') base = false;
  else if (notes.nodeAddresses) base = notes.nodeAddresses.has(pkt.destination ?? '');
  else
    base = {
      fork: `${pkt.destination ?? '?'} is an address of this node`,
      not: `${pkt.destination ?? '?'} is not an address of this node`,
    };
  return negate(base, spec.negated);
}

/** The conditions of one rule, in order; `recent --rcheck` never matches a new client. */
function ruleConditions(
  rule: IptablesRule,
  pkt: SymbolicPacket,
  state: WalkState,
  notes: WalkNotes,
): Tri[] {
  const out: Tri[] = [];
  if (rule.protocol)
    out.push(
      rule.protocol.replace(/^!/, '') === pkt.protocol
        ? !rule.protocol.startsWith('!')
        : rule.protocol.startsWith('!'),
    );
  if (rule.dport !== undefined) out.push(rule.dport === pkt.port);
  out.push(evalDestination(rule, pkt));
  out.push(evalSource(rule, pkt, notes));
  out.push(evalAddrType(rule.srcType, 'src', pkt, notes));
  out.push(evalAddrType(rule.dstType, 'dst', pkt, notes));
  if (rule.physdevIsIn) {
    const base: Tri =
      pkt.from === 'pod'
        ? { fork: 'the pod sits on a Linux bridge', not: 'the pod does not sit on a Linux bridge' }
        : false;
    out.push(negate(base, rule.physdevIsIn.negated));
  }
  if (rule.markMatch) {
    const marked = state.masq.length > 0 && rule.markMatch.value.includes('4000');
    out.push(rule.markMatch.negated ? !marked : marked);
  }
  if (rule.matchSet) out.push(evalMatchSet(rule.matchSet, pkt, notes));
  // The walk follows the first packet of a new connection.
  if (rule.ctstate) out.push(rule.ctstate.states.includes('NEW') !== rule.ctstate.negated);
  if (rule.recent?.mode === 'rcheck' || rule.recent?.mode === 'update') {
    if (rule.recent.seconds !== undefined) notes.affinitySeconds = rule.recent.seconds;
    out.push(false);
  }
  return out;
}

function splitOnConditions(
  conds: Tri[],
  state: WalkState,
  complements: Map<string, string>,
): { yes: WalkState[]; no: WalkState[] } {
  let yes: WalkState[] = [state];
  const no: WalkState[] = [];
  for (const c of conds) {
    if (c === true) continue;
    if (c === false) {
      no.push(...yes);
      return { yes: [], no };
    }
    complements.set(c.fork, c.not);
    complements.set(c.not, c.fork);
    const next: WalkState[] = [];
    for (const s of yes) {
      // A condition this path already assumed (or assumed false) is no longer open.
      if (s.conditions.includes(c.fork)) next.push(s);
      else if (s.conditions.includes(c.not)) no.push(s);
      else {
        next.push({ ...s, conditions: [...s.conditions, c.fork] });
        no.push({ ...s, conditions: [...s.conditions, c.not] });
      }
    }
    yes = next;
  }
  return { yes, no };
}

/**
 * Walks one chain. Outcomes are final verdicts; `returned` are the states that
 * fall off the end (or RETURN) and continue in the caller.
 */
function walkChain(
  rules: IptablesRuleset,
  table: string,
  chainName: string,
  pkt: SymbolicPacket,
  entryState: WalkState,
  notes: WalkNotes,
  depth: number,
): { outcomes: Outcome[]; returned: WalkState[] } {
  const outcomes: Outcome[] = [];
  const chain: IptablesChain | undefined = rules.chains.get(`${table}/${chainName}`);
  const state = { ...entryState, chains: [...entryState.chains, chainName] };
  if (!chain) {
    notes.missingChains.add(chainName);
    outcomes.push({ kind: 'incomplete', state, note: `chain ${chainName} is not in the dump` });
    return { outcomes, returned: [] };
  }
  if (depth > MAX_DEPTH) {
    outcomes.push({
      kind: 'incomplete',
      state,
      note: `jumps nest deeper than ${MAX_DEPTH} at ${chainName}`,
    });
    return { outcomes, returned: [] };
  }
  let live: WalkState[] = [state];
  const returned: WalkState[] = [];
  for (const rule of chain.rules) {
    const next: WalkState[] = [];
    for (const s of live) {
      const { yes, no } = splitOnConditions(
        ruleConditions(rule, pkt, s, notes),
        s,
        notes.complements,
      );
      next.push(...no);
      for (let m of yes) {
        if (rule.probability !== undefined && rule.probability < 1) {
          const p = Math.max(0, rule.probability);
          const miss = { ...m, weight: m.weight * (1 - p) };
          if (miss.weight > TINY) next.push(miss);
          m = { ...m, weight: m.weight * p };
          if (m.weight <= TINY) continue;
        }
        const r = applyTarget(rules, table, rule, pkt, m, notes, depth);
        outcomes.push(...r.outcomes);
        next.push(...r.continued);
        returned.push(...r.returned);
      }
    }
    live = next;
    if (live.length === 0) break;
  }
  return { outcomes, returned: [...returned, ...live] };
}

function applyTarget(
  rules: IptablesRuleset,
  table: string,
  rule: IptablesRule,
  pkt: SymbolicPacket,
  state: WalkState,
  notes: WalkNotes,
  depth: number,
): { outcomes: Outcome[]; continued: WalkState[]; returned: WalkState[] } {
  const t = rule.target;
  const none = {
    outcomes: [] as Outcome[],
    continued: [] as WalkState[],
    returned: [] as WalkState[],
  };
  if (!t) return { ...none, continued: [state] };
  if (
    t === 'KUBE-MARK-MASQ' ||
    (t === 'MARK' && /^(or|set) 0x0*4000\b/.test(rule.markAction ?? ''))
  ) {
    return {
      ...none,
      continued: [{ ...state, masq: [...state.masq, masqReason(rule, pkt, notes.podCidr)] }],
    };
  }
  if (t === 'KUBE-MARK-DROP')
    return {
      ...none,
      outcomes: [
        {
          kind: 'drop',
          state: { ...state, chains: [...state.chains, t] },
          note: rule.comment ?? `marked for drop in ${rule.chain}`,
        },
      ],
    };
  if (t === 'DNAT') {
    const packets = rule.counters?.packets;
    return {
      ...none,
      outcomes: [
        {
          kind: 'dnat',
          state,
          endpoint: rule.dnatTo ?? '?',
          endpointChain: rule.chain,
          ...(packets !== undefined ? { packets } : {}),
        },
      ],
    };
  }
  if (t === 'DROP' || t === 'REJECT')
    return {
      ...none,
      outcomes: [
        {
          kind: t === 'DROP' ? 'drop' : 'reject',
          state,
          note: rule.comment ?? `${t} in ${rule.chain}`,
        },
      ],
    };
  if (t === 'ACCEPT')
    return {
      ...none,
      outcomes: [{ kind: 'accept', state, note: rule.comment ?? `ACCEPT in ${rule.chain}` }],
    };
  if (t === 'RETURN') return { ...none, returned: [state] };
  if (
    t === 'MARK' ||
    t === 'MASQUERADE' ||
    t === 'SNAT' ||
    t === 'LOG' ||
    t === 'NFLOG' ||
    t === 'CONNMARK'
  )
    return { ...none, continued: [state] };
  const sub = walkChain(rules, table, t, pkt, state, notes, depth + 1);
  if (rule.isGoto) return { outcomes: sub.outcomes, continued: [], returned: sub.returned };
  return { outcomes: sub.outcomes, continued: sub.returned, returned: [] };
}

/** Where a walk starts (nat, before DNAT) and which filter chains decide when nothing was rewritten. */
export interface WalkLayout {
  nat: string;
  filter: readonly string[];
}

export const IPTABLES_LAYOUT: WalkLayout = {
  nat: 'KUBE-SERVICES',
  filter: [
    'KUBE-PROXY-FIREWALL',
    'KUBE-SERVICES',
    'KUBE-EXTERNAL-SERVICES',
    'KUBE-NODEPORTS',
    'KUBE-FORWARD',
  ],
};

/**
 * Every way a packet of `pkt` can go through the rules, grouped into paths.
 *
 * @param rules the node's iptables rules (nat and, when present, filter).
 * @param pkt entry, destination, port, protocol and sender.
 * @param notes filled with affinity, hairpin and missing-chain findings.
 */
export function walkIptables(
  rules: IptablesRuleset,
  pkt: SymbolicPacket,
  notes: WalkNotes,
  layout: WalkLayout = IPTABLES_LAYOUT,
): ServicePath[] {
  const start: WalkState = { weight: 1, masq: [], chains: [], conditions: [] };
  const nat = walkChain(rules, 'nat', layout.nat, pkt, start, notes, 0);
  const outcomes: Outcome[] = [...nat.outcomes];
  // Nothing rewrote these: the filter table has the last word.
  for (const s of nat.returned) {
    let live: WalkState[] = [{ ...s, chains: [...s.chains] }];
    for (const name of layout.filter) {
      if (!rules.chains.has(`filter/${name}`)) continue;
      if (name === 'KUBE-EXTERNAL-SERVICES' && pkt.entry === 'cluster-ip') continue;
      const next: WalkState[] = [];
      for (const l of live) {
        const r = walkChain(rules, 'filter', name, pkt, l, notes, 0);
        for (const o of r.outcomes) {
          if (o.kind === 'accept') next.push({ ...o.state, chains: l.chains });
          else outcomes.push(o);
        }
        next.push(...r.returned.map((x) => ({ ...x, chains: l.chains })));
      }
      live = next;
    }
    const hasFilter = [...rules.chains.values()].some((c) => c.table === 'filter');
    for (const l of live)
      outcomes.push(
        hasFilter
          ? { kind: 'incomplete', state: l, note: 'unmatched' }
          : {
              kind: 'incomplete',
              state: l,
              note: 'nat does not rewrite it and the filter table is not in the dump (it may be dropped or rejected there)',
            },
      );
  }
  return mergeIrrelevantForks(groupOutcomes(outcomes, pkt), notes.complements);
}

/**
 * Two paths that differ only in one condition and its opposite, and end the
 * same way, are one path: that condition did not matter.
 */
export function mergeIrrelevantForks(
  paths: ServicePath[],
  complements: Map<string, string>,
): ServicePath[] {
  const sameEnd = (a: ServicePath, b: ServicePath): boolean =>
    a.outcome === b.outcome &&
    a.note === b.note &&
    a.masquerade === b.masquerade &&
    a.endpoints.length === b.endpoints.length &&
    a.endpoints.every(
      (e, i) =>
        e.address === b.endpoints[i]?.address && Math.abs(e.share - b.endpoints[i]!.share) < 1e-9,
    );
  let changed = true;
  let list = paths;
  while (changed) {
    changed = false;
    outer: for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (!sameEnd(a, b) || a.conditions.length !== b.conditions.length) continue;
        const diff = a.conditions.flatMap((c, k) => (c === b.conditions[k] ? [] : [k]));
        if (diff.length !== 1) continue;
        const k = diff[0]!;
        if (complements.get(a.conditions[k]!) !== b.conditions[k]) continue;
        const merged: ServicePath = {
          ...a,
          conditions: a.conditions.filter((_, x) => x !== k),
          chains: [...new Set([...a.chains, ...b.chains])],
          masqueradeReasons: [...new Set([...a.masqueradeReasons, ...b.masqueradeReasons])],
        };
        list = [...list.slice(0, i), merged, ...list.slice(i + 1, j), ...list.slice(j + 1)];
        changed = true;
        break outer;
      }
  }
  return list;
}

function groupOutcomes(outcomes: Outcome[], pkt: SymbolicPacket): ServicePath[] {
  const groups = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    const kind = o.kind === 'incomplete' && o.note === 'unmatched' ? 'unmatched' : o.kind;
    const key = `${o.state.conditions.join(' & ')}|${kind === 'dnat' ? 'dnat' : `${kind}:${o.note ?? ''}`}`;
    const g = groups.get(key) ?? [];
    g.push(o);
    groups.set(key, g);
  }
  const address =
    pkt.entry === 'node-port' ? `<node>:${pkt.port}` : `${pkt.destination ?? '?'}:${pkt.port}`;
  const paths: ServicePath[] = [];
  for (const g of groups.values()) {
    const first = g[0]!;
    const unmatched = first.kind === 'incomplete' && first.note === 'unmatched';
    const endpoints: EndpointShare[] = [];
    for (const o of g) {
      if (o.kind !== 'dnat') continue;
      const existing = endpoints.find((e) => e.address === o.endpoint);
      if (existing) existing.share += o.state.weight;
      else
        endpoints.push({
          address: o.endpoint ?? '?',
          share: o.state.weight,
          ...(o.endpointChain ? { chain: o.endpointChain } : {}),
          ...(o.packets !== undefined ? { packets: o.packets } : {}),
        });
    }
    const weight = g.reduce((a, o) => a + o.state.weight, 0);
    const chains = [...new Set(g.flatMap((o) => o.state.chains))];
    const outcome: ServicePath['outcome'] =
      first.kind === 'dnat'
        ? 'dnat'
        : first.kind === 'drop'
          ? 'drop'
          : first.kind === 'reject'
            ? 'reject'
            : unmatched
              ? 'unmatched'
              : 'incomplete';
    const path: ServicePath = {
      entry: pkt.entry,
      address,
      from: pkt.from,
      outcome,
      endpoints,
      masquerade: g.some((o) => o.state.masq.length > 0),
      masqueradeReasons: [...new Set(g.flatMap((o) => o.state.masq))],
      chains,
      conditions: first.state.conditions,
      weight,
    };
    if (outcome !== 'dnat')
      path.note = unmatched
        ? 'no rule rewrites or stops it: it leaves the node unchanged'
        : (first.note ?? '');
    paths.push(path);
  }
  return paths;
}
