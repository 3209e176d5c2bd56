/**
 * kube-proxy's nftables mode, explained with the same walker as iptables: the
 * table is translated into iptables-shaped rules (a `numgen random mod N`
 * verdict map becomes N rules with probabilities 1/N, 1/(N−1)… so each
 * endpoint gets exactly 1/N; the `service-ips` / `service-nodeports` maps
 * become one rule per element; an affinity set lookup becomes a `recent`
 * check with the set's timeout), then walked from a pod, the node and outside.
 *
 * Both layouts are read: 1.33–1.35 (endpoint chains, `mark-for-masquerade`)
 * and the later one (`dnat to numgen random mod N map { … }`, the mark set
 * inline, a single endpoint DNATed directly).
 */
import type { ServicePortKey } from './chainNames';
import { explainFound, parseServiceComment, type FoundServicePort } from './explainIptables';
import type { IptablesChain, IptablesRule, IptablesRuleset } from './iptablesRules';
import type { WalkLayout } from './iptablesResolver';
import type { NftRule, NftRuleset, NftVerdict } from './nftablesRules';
import type { EntryKind, ExplainedService, ServiceSpec } from './types';

const START = 'podpath-nat-prerouting';
const MASQ_CHAIN = 'mark-for-masquerade';

const NFT_LAYOUT: WalkLayout = {
  nat: START,
  filter: ['service-endpoints-check', 'nodeport-endpoints-check', 'cluster-ips-check'],
};

const CHAIN_NAME =
  /^(service|external|local|firewall|endpoint)-[A-Z2-7]{8}-([^/]+)\/([^/]+)\/([a-z]+)\/([^_/]*)(?:__(.+)\/(\d+))?$/;

/** The Service port a kube-proxy nftables chain belongs to. */
export function nftChainServicePort(chain: string): ServicePortKey | null {
  const m = CHAIN_NAME.exec(chain);
  if (!m) return null;
  return { namespace: m[2]!, name: m[3]!, protocol: m[4]!, portName: m[5]! };
}

function stripHost(a: string): string {
  return a.replace(/\/(32|128)$/, '');
}

function base(chain: string, r: NftRule): IptablesRule {
  const rule: IptablesRule = {
    table: 'nat',
    chain,
    isGoto: false,
    randomFully: false,
    other: [...r.other],
    line: r.line,
    text: r.text,
  };
  if (r.comment) rule.comment = r.comment;
  if (r.counters) rule.counters = r.counters;
  if (r.l4proto) rule.protocol = r.l4proto;
  if (r.dport !== undefined) rule.dport = r.dport;
  if (r.fibSaddrLocal !== undefined) rule.srcType = { type: 'LOCAL', negated: !r.fibSaddrLocal };
  if (r.fibDaddrLocal !== undefined) rule.dstType = { type: 'LOCAL', negated: !r.fibDaddrLocal };
  return rule;
}

function applyVerdict(rule: IptablesRule, v: NftVerdict | undefined): IptablesRule {
  if (!v) return rule;
  switch (v.kind) {
    case 'jump':
    case 'goto':
      rule.target = v.target === MASQ_CHAIN ? 'KUBE-MARK-MASQ' : v.target;
      rule.isGoto = v.kind === 'goto';
      break;
    case 'drop':
      rule.target = 'DROP';
      break;
    case 'reject':
      rule.target = 'REJECT';
      break;
    case 'accept':
      rule.target = 'ACCEPT';
      break;
    case 'return':
      rule.target = 'RETURN';
      break;
  }
  return rule;
}

/** Turns one nftables rule into iptables-shaped rules with the same meaning for the walk. */
function translateRule(nft: NftRuleset, chain: string, r: NftRule): IptablesRule[] {
  const out: IptablesRule[] = [];
  const variants: IptablesRule[] = [base(chain, r)];
  const expand = (
    m: NftRule['daddr'],
    set: (rule: IptablesRule, addr: { address: string; negated: boolean }) => void,
    onSet: (rule: IptablesRule, name: string, negated: boolean) => boolean,
  ): void => {
    if (!m) return;
    if (m.set) {
      const s = nft.sets.get(m.set);
      for (const v of variants) if (onSet(v, m.set, m.negated)) return;
      // A set of addresses: one rule per element (only for "in the set").
      if (s && !m.negated) {
        const copies = variants.splice(0);
        for (const v of copies)
          for (const el of s.elements) {
            const c: IptablesRule = { ...v, other: [...v.other] };
            set(c, { address: stripHost(el.key[0] ?? ''), negated: false });
            variants.push(c);
          }
      } else for (const v of variants) v.other.push(`${m.negated ? 'not in' : 'in'} @${m.set}`);
      return;
    }
    const address = m.values.map(stripHost).join(', ');
    for (const v of variants) set(v, { address, negated: m.negated });
  };
  expand(
    r.daddr,
    (v, a) => (v.destination = a),
    (v, name, negated) => {
      if (name !== 'nodeport-ips') return false;
      v.dstType = { type: 'LOCAL', negated };
      return true;
    },
  );
  expand(
    r.saddr,
    (v, a) => (v.source = a),
    (v, name) => {
      if (!name.startsWith('affinity-')) return false;
      const timeout = nft.sets.get(name)?.timeout;
      v.recent = { mode: 'rcheck', name, ...(timeout !== undefined ? { seconds: timeout } : {}) };
      return true;
    },
  );
  for (const v of variants) {
    if (r.markOr && /4000$/.test(r.markOr)) {
      out.push({ ...v, target: 'MARK', markAction: `or ${r.markOr}`, other: [...v.other] });
    }
    if (r.lookup) {
      const map = nft.sets.get(r.lookup.map);
      const fields = r.lookup.fields.map((f) =>
        f.replace(/^ip6? /, '').replace(/^(th|tcp|udp|sctp) /, ''),
      );
      for (const el of map?.elements ?? []) {
        const rule: IptablesRule = { ...v, other: [...v.other] };
        fields.forEach((f, i) => {
          const k = el.key[i];
          if (k === undefined) return;
          if (f === 'daddr') rule.destination = { address: stripHost(k), negated: false };
          else if (f === 'saddr') rule.source = { address: stripHost(k), negated: false };
          else if (f === 'meta l4proto') rule.protocol = k;
          else if (f === 'dport') rule.dport = Number(k);
        });
        if (el.comment) rule.comment = el.comment;
        if (r.lookup.map.startsWith('no-endpoint-') && el.comment)
          rule.comment =
            el.verdict?.kind === 'drop'
              ? `${el.comment} has no local endpoints (externalTrafficPolicy Local)`
              : `${el.comment} has no endpoints`;
        // reject-chain only rejects; say it where the Service is known.
        if (el.verdict?.target === 'reject-chain') rule.target = 'REJECT';
        else applyVerdict(rule, el.verdict);
        out.push(rule);
      }
      if (!map) out.push({ ...v, other: [...v.other, `map @${r.lookup.map} missing`] });
      continue;
    }
    if (r.numgenVmap) {
      const entries = [...r.numgenVmap.entries].sort((a, b) => a.index - b.index);
      entries.forEach((e, i) => {
        const left = r.numgenVmap!.mod - i;
        const rule = applyVerdict({ ...v, other: [...v.other] }, e.verdict);
        if (left > 1) rule.probability = 1 / left;
        out.push(rule);
      });
      continue;
    }
    if (r.dnatNumgen) {
      const entries = [...r.dnatNumgen.entries].sort((a, b) => a.index - b.index);
      entries.forEach((e, i) => {
        const left = r.dnatNumgen!.mod - i;
        const rule: IptablesRule = { ...v, other: [...v.other], target: 'DNAT', dnatTo: e.to };
        if (left > 1) rule.probability = 1 / left;
        out.push(rule);
      });
      continue;
    }
    if (r.dnatTo) {
      out.push({ ...v, target: 'DNAT', dnatTo: r.dnatTo });
      continue;
    }
    if (r.masquerade) {
      out.push({
        ...v,
        target: 'MASQUERADE',
        randomFully: r.text.includes('fully-random') || v.randomFully,
      });
      continue;
    }
    if (r.markOr && !r.verdict) continue;
    if (chain.startsWith('firewall-') && r.verdict?.kind === 'drop' && !v.comment)
      v.comment = 'the source is not in loadBalancerSourceRanges';
    out.push(applyVerdict(v, r.verdict));
  }
  return out;
}

/**
 * The nftables table as iptables-shaped chains, plus a start chain that runs
 * the firewall check (filter, before DNAT) and then `services` (nat).
 */
export function translateNftables(nft: NftRuleset): IptablesRuleset {
  const chains = new Map<string, IptablesChain>();
  const add = (name: string, rules: IptablesRule[]): void => {
    const chain: IptablesChain = { table: 'nat', name, rules };
    chains.set(`nat/${name}`, chain);
    chains.set(`filter/${name}`, chain);
  };
  for (const [name, rules] of nft.chains)
    add(
      name,
      rules.flatMap((r) => translateRule(nft, name, r)),
    );
  const start: IptablesRule[] = [];
  for (const name of ['firewall-check', 'services'])
    if (nft.chains.has(name))
      start.push({
        table: 'nat',
        chain: START,
        target: name,
        isGoto: false,
        randomFully: false,
        other: [],
        line: 0,
        text: `jump ${name}`,
      });
  add(START, start);
  return { chains, unread: nft.unread, notes: nft.notes, form: 'save' };
}

function ipsOf(nft: NftRuleset, set: string): Set<string> {
  return new Set((nft.sets.get(set)?.elements ?? []).map((e) => stripHost(e.key[0] ?? '')));
}

/**
 * Explains Service ports from kube-proxy's nftables table.
 *
 * @param nft the table as read by parseNftables.
 * @param specs Service manifests (load-balancer IPs, comparisons).
 */
export function explainNftables(
  nft: NftRuleset,
  specs: readonly ServiceSpec[],
): { services: ExplainedService[]; notes: string[] } {
  const found = new Map<string, FoundServicePort>();
  const clusterIPs = ipsOf(nft, 'cluster-ips');
  const firewalled = ipsOf(nft, 'firewall-ips');
  const remember = (
    key: ServicePortKey,
    kind: EntryKind,
    destination: string | null,
    port: number,
    chain?: string,
  ): void => {
    const id = `${key.namespace}/${key.name}:${key.portName}/${key.protocol}`;
    let f = found.get(id);
    if (!f) {
      f = { key, servicePort: null, entries: [], chains: new Set() };
      found.set(id, f);
    }
    if (kind !== 'node-port') f.servicePort = port;
    if (!f.entries.some((e) => e.kind === kind && e.destination === destination && e.port === port))
      f.entries.push({ kind, destination, port });
    if (chain) f.chains.add(chain);
  };
  const ipKind = (key: ServicePortKey, ip: string, chainKind: string): EntryKind => {
    const spec = specs.find((s) => s.namespace === key.namespace && s.name === key.name);
    if (spec?.loadBalancerIPs.includes(ip)) return 'load-balancer';
    if (spec?.externalIPs.includes(ip)) return 'external-ip';
    if (spec?.clusterIP === ip) return 'cluster-ip';
    if (clusterIPs.size > 0 ? clusterIPs.has(ip) : chainKind === 'service') return 'cluster-ip';
    return firewalled.has(ip) ? 'load-balancer' : 'external-ip';
  };
  for (const el of nft.sets.get('service-ips')?.elements ?? []) {
    const target = el.verdict?.target;
    const key = target ? nftChainServicePort(target) : null;
    const [ip, , port] = el.key;
    if (!key || !ip || !port) continue;
    remember(
      key,
      ipKind(key, stripHost(ip), target!.split('-')[0]!),
      stripHost(ip),
      Number(port),
      target,
    );
  }
  for (const el of nft.sets.get('service-nodeports')?.elements ?? []) {
    const target = el.verdict?.target;
    const key = target ? nftChainServicePort(target) : null;
    const [, port] = el.key;
    if (key && port) remember(key, 'node-port', null, Number(port), target);
  }
  const fromComment = (
    comment: string | undefined,
    protocol: string | undefined,
  ): ServicePortKey | null => {
    const c = parseServiceComment(comment);
    return c
      ? { namespace: c.namespace, name: c.name, portName: c.portName, protocol: protocol ?? 'tcp' }
      : null;
  };
  for (const el of nft.sets.get('no-endpoint-services')?.elements ?? []) {
    const [ip, proto, port] = el.key;
    const key = fromComment(el.comment, proto);
    if (!key || !ip || !port) continue;
    const known = [...found.values()].find((f) =>
      f.entries.some((e) => e.destination === stripHost(ip)),
    );
    if (known) continue;
    remember(key, ipKind(key, stripHost(ip), ''), stripHost(ip), Number(port));
  }
  for (const el of nft.sets.get('no-endpoint-nodeports')?.elements ?? []) {
    const [proto, port] = el.key;
    const key = fromComment(el.comment, proto);
    if (key && port) remember(key, 'node-port', null, Number(port));
  }
  for (const s of specs)
    for (const p of s.ports) {
      const key = { namespace: s.namespace, name: s.name, portName: p.name, protocol: p.protocol };
      if (s.clusterIP) remember(key, 'cluster-ip', s.clusterIP, p.port);
      if (p.nodePort) remember(key, 'node-port', null, p.nodePort);
      for (const ip of s.externalIPs) remember(key, 'external-ip', ip, p.port);
      for (const ip of s.loadBalancerIPs) remember(key, 'load-balancer', ip, p.port);
    }
  const rules = translateNftables(nft);
  const nodeAddresses = ipsOf(nft, 'nodeport-ips');
  const services = explainFound(
    rules,
    [...found.values()],
    specs,
    NFT_LAYOUT,
    (c) => CHAIN_NAME.test(c),
    nodeAddresses.size > 0 ? nodeAddresses : undefined,
  );
  return { services, notes: nftMasqueradeNotes(nft) };
}

function nftMasqueradeNotes(nft: NftRuleset): string[] {
  const mark = nft.chains.get(MASQ_CHAIN)?.find((r) => r.markOr)?.markOr;
  const masq = nft.chains.get('masquerading')?.find((r) => r.masquerade);
  const inline = [...nft.chains.values()].some((rules) =>
    rules.some((r) => r.chain !== MASQ_CHAIN && r.markOr),
  );
  const notes: string[] = [];
  if (!masq)
    notes.push(
      'no masquerade rule in the masquerading chain: marked packets keep their source address',
    );
  else
    notes.push(
      `masquerade: ${mark ? `${MASQ_CHAIN} sets mark ${mark}` : inline ? 'the service chains set the mark inline' : 'nothing sets the mark'}; the masquerading chain masquerades packets carrying it${masq.text.includes('fully-random') ? ' (fully-random)' : ''}`,
    );
  return notes;
}
