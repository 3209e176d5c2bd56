/**
 * One explanation per Service port found in kube-proxy's iptables rules (or
 * named by a manifest): its entries, the paths from a pod / the node / outside,
 * the endpoints with their effective shares, masquerade, affinity, policies and
 * whatever is missing or matches nothing.
 */
import { iptablesServiceChains, type ServicePortKey } from './chainNames';
import type { IptablesRule, IptablesRuleset } from './iptablesRules';
import {
  describeEntry,
  findPodCidr,
  IPTABLES_LAYOUT,
  walkIptables,
  type WalkLayout,
  type WalkNotes,
} from './iptablesResolver';
import { summarizeService, type ServiceEntry } from './summarizeService';
import type { EntryKind, ExplainedService, ServicePath, ServiceSpec, SourceKind } from './types';

const SERVICE_CHAIN = /^KUBE-(SVC|EXT|FW|XLB|SVL)-[A-Z2-7]{16}$/;

/** A Service port found in the rules (or a manifest), with its ways in. */
export interface FoundServicePort {
  key: ServicePortKey;
  servicePort: number | null;
  entries: ServiceEntry[];
  chains: Set<string>;
}

/** Numeric order for dotted IPv4 addresses, text order otherwise. */
export function compareAddresses(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4 && [...pa, ...pb].every((n) => Number.isInteger(n)))
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return a.localeCompare(b);
}

/** `ns/name:port suffix` → parts; kube-proxy writes this in every comment. */
export function parseServiceComment(
  comment: string | undefined,
): { namespace: string; name: string; portName: string; suffix: string } | null {
  if (!comment) return null;
  const m = /^([a-z0-9][-a-z0-9.]*)\/([a-z0-9][-a-z0-9.]*)(?::([-a-z0-9]*))?(?:\s+(.*))?$/.exec(
    comment.trim(),
  );
  if (!m) return null;
  return { namespace: m[1]!, name: m[2]!, portName: m[3] ?? '', suffix: m[4] ?? '' };
}

function entryKind(rule: IptablesRule, suffix: string): EntryKind {
  if (/cluster IP/.test(suffix)) return 'cluster-ip';
  if (/external IP/.test(suffix)) return 'external-ip';
  if (/loadbalancer IP/i.test(suffix)) return 'load-balancer';
  const t = rule.target ?? '';
  if (t.startsWith('KUBE-FW-')) return 'load-balancer';
  if (t.startsWith('KUBE-EXT-') || t.startsWith('KUBE-XLB-')) return 'external-ip';
  return 'cluster-ip';
}

function keyId(k: ServicePortKey): string {
  return `${k.namespace}/${k.name}:${k.portName}/${k.protocol.toLowerCase()}`;
}

/**
 * Explains Service ports from iptables rules.
 *
 * @param rules the node's rules (`iptables-save` or listings).
 * @param specs Services from manifests: used to name chains without comments,
 *   to add entries the rules do not show, and to compare.
 */
export function explainIptables(
  rules: IptablesRuleset,
  specs: readonly ServiceSpec[],
): {
  services: ExplainedService[];
  notes: string[];
} {
  const byChain = new Map<string, ServicePortKey>();
  for (const s of specs)
    for (const p of s.ports) {
      const key = { namespace: s.namespace, name: s.name, portName: p.name, protocol: p.protocol };
      for (const legacy of [false, true])
        for (const c of Object.values(iptablesServiceChains(key, legacy))) byChain.set(c, key);
    }
  const found = new Map<string, FoundServicePort>();
  const identify = (rule: IptablesRule): { key: ServicePortKey; suffix: string } | null => {
    const c = parseServiceComment(rule.comment);
    if (c && !/^kubernetes /.test(rule.comment ?? ''))
      return {
        key: {
          namespace: c.namespace,
          name: c.name,
          portName: c.portName,
          protocol: rule.protocol ?? 'tcp',
        },
        suffix: c.suffix,
      };
    const byHash = rule.target ? byChain.get(rule.target) : undefined;
    if (byHash) return { key: byHash, suffix: '' };
    if (rule.target && SERVICE_CHAIN.test(rule.target))
      return {
        key: { namespace: '?', name: rule.target, portName: '', protocol: rule.protocol ?? 'tcp' },
        suffix: '',
      };
    return null;
  };
  const remember = (key: ServicePortKey, entry: ServiceEntry | null, chain?: string): void => {
    const id = keyId(key);
    let f = found.get(id);
    if (!f) {
      f = { key, servicePort: null, entries: [], chains: new Set() };
      found.set(id, f);
    }
    if (entry) {
      if (entry.kind !== 'node-port') f.servicePort = entry.port;
      if (
        !f.entries.some(
          (e) =>
            e.kind === entry.kind && e.destination === entry.destination && e.port === entry.port,
        )
      )
        f.entries.push(entry);
    }
    if (chain) f.chains.add(chain);
  };

  const natServices = rules.chains.get('nat/KUBE-SERVICES')?.rules ?? [];
  for (const r of natServices) {
    if (!r.target || r.target === 'KUBE-MARK-MASQ' || r.target === 'KUBE-NODEPORTS') continue;
    const id = identify(r);
    if (!id || !r.destination || r.destination.negated || r.dport === undefined) continue;
    remember(
      id.key,
      { kind: entryKind(r, id.suffix), destination: r.destination.address, port: r.dport },
      r.target,
    );
  }
  for (const r of rules.chains.get('nat/KUBE-NODEPORTS')?.rules ?? []) {
    if (!r.target || r.target === 'KUBE-MARK-MASQ' || r.dport === undefined) continue;
    if (r.destination && r.destination.address.startsWith('127.')) continue;
    const id = identify(r);
    if (id) remember(id.key, { kind: 'node-port', destination: null, port: r.dport }, r.target);
  }
  // Services without endpoints have rules only in filter.
  for (const chainName of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS']) {
    for (const r of rules.chains.get(`filter/${chainName}`)?.rules ?? []) {
      if (r.target !== 'REJECT' && r.target !== 'DROP') continue;
      const id = identify(r);
      if (!id || r.dport === undefined) continue;
      const known = found.get(keyId(id.key));
      if (r.destination && known?.entries.some((e) => e.destination === r.destination!.address))
        continue;
      if (r.dstType?.type === 'LOCAL' && !r.destination) {
        remember(id.key, { kind: 'node-port', destination: null, port: r.dport });
      } else if (r.destination && !r.destination.negated) {
        const spec = specs.find((s) => s.namespace === id.key.namespace && s.name === id.key.name);
        const hasCluster = known?.entries.some((e) => e.kind === 'cluster-ip');
        const kind: EntryKind =
          chainName === 'KUBE-SERVICES' &&
          !hasCluster &&
          (!spec || spec.clusterIP === r.destination.address)
            ? 'cluster-ip'
            : spec?.loadBalancerIPs.includes(r.destination.address)
              ? 'load-balancer'
              : 'external-ip';
        remember(id.key, { kind, destination: r.destination.address, port: r.dport });
      }
    }
  }
  // Chains listed on their own (a partial listing) still name their Service.
  for (const chain of rules.chains.values()) {
    if (chain.table !== 'nat' || !/^KUBE-SVC-/.test(chain.name)) continue;
    const known = [...found.values()].some((f) => f.chains.has(chain.name));
    if (known) continue;
    const byHash = byChain.get(chain.name);
    const c = byHash ? null : parseServiceComment(chain.rules.find((r) => r.comment)?.comment);
    const key =
      byHash ??
      (c
        ? {
            namespace: c.namespace,
            name: c.name,
            portName: c.portName,
            protocol: chain.rules[0]?.protocol ?? 'tcp',
          }
        : null);
    if (key) remember(key, null, chain.name);
  }
  for (const s of specs)
    for (const p of s.ports) {
      const key = { namespace: s.namespace, name: s.name, portName: p.name, protocol: p.protocol };
      const f = found.get(keyId(key));
      if (!f) remember(key, null);
      const g = found.get(keyId(key))!;
      if (g.servicePort === null) g.servicePort = p.port;
      // Entries the manifest promises: walked so that missing rules show.
      const want: ServiceEntry[] = [
        ...(s.clusterIP
          ? [{ kind: 'cluster-ip' as const, destination: s.clusterIP, port: p.port }]
          : []),
        ...(p.nodePort
          ? [{ kind: 'node-port' as const, destination: null, port: p.nodePort }]
          : []),
        ...s.externalIPs.map((ip) => ({
          kind: 'external-ip' as const,
          destination: ip,
          port: p.port,
        })),
        ...s.loadBalancerIPs.map((ip) => ({
          kind: 'load-balancer' as const,
          destination: ip,
          port: p.port,
        })),
      ];
      for (const w of want) remember(key, w);
    }

  const services = explainFound(
    rules,
    [...found.values()],
    specs,
    IPTABLES_LAYOUT,
    (c) => SERVICE_CHAIN.test(c) || c.startsWith('KUBE-SEP-'),
  );
  return { services, notes: masqueradeNotes(rules) };
}

/**
 * Walks every entry of every Service port from a pod, the node and outside,
 * and summarizes. Shared with nftables, whose rules are translated first.
 */
export function explainFound(
  rules: IptablesRuleset,
  found: readonly FoundServicePort[],
  specs: readonly ServiceSpec[],
  layout: WalkLayout,
  ownChain: (chain: string) => boolean,
  nodeAddresses?: ReadonlySet<string>,
): ExplainedService[] {
  const podCidr = findPodCidr(rules);
  const services: ExplainedService[] = [];
  for (const f of found.values()) {
    const notes: WalkNotes = {
      affinitySeconds: null,
      hairpins: [],
      missingChains: new Set(),
      podCidr,
      complements: new Map(),
      ...(nodeAddresses ? { nodeAddresses } : {}),
    };
    // The same order whatever order the dump lists things in.
    const order: EntryKind[] = ['cluster-ip', 'node-port', 'external-ip', 'load-balancer'];
    f.entries.sort(
      (a, b) =>
        order.indexOf(a.kind) - order.indexOf(b.kind) ||
        compareAddresses(a.destination ?? '', b.destination ?? '') ||
        a.port - b.port,
    );
    const paths: ServicePath[] = [];
    for (const e of f.entries)
      for (const from of ['pod', 'node', 'outside'] as SourceKind[])
        paths.push(
          ...walkIptables(
            rules,
            {
              entry: e.kind,
              destination: e.destination,
              port: e.port,
              protocol: f.key.protocol.toLowerCase(),
              from,
            },
            notes,
            layout,
          ),
        );
    if (f.entries.length === 0) {
      // Only the KUBE-SVC chain is known: walk it as a pod would after KUBE-SERVICES.
      const svc = [...f.chains].find((c) => c.startsWith('KUBE-SVC-'));
      if (svc) {
        const shadow: IptablesRuleset = {
          ...rules,
          chains: new Map([
            ...rules.chains,
            [
              'nat/KUBE-SERVICES',
              {
                table: 'nat',
                name: 'KUBE-SERVICES',
                rules: [
                  {
                    table: 'nat',
                    chain: 'KUBE-SERVICES',
                    target: svc,
                    isGoto: false,
                    randomFully: false,
                    other: [],
                    line: 0,
                    text: '',
                  },
                ],
              },
            ],
          ]),
        };
        paths.push(
          ...walkIptables(
            shadow,
            {
              entry: 'cluster-ip',
              destination: null,
              port: f.servicePort ?? 0,
              protocol: f.key.protocol,
              from: 'pod',
            },
            notes,
          ),
        );
      }
    }
    const spec =
      specs.find((s) => s.namespace === f.key.namespace && s.name === f.key.name) ?? null;
    const chains = [...new Set([...f.chains, ...paths.flatMap((p) => p.chains)])].filter(ownChain);
    services.push(
      summarizeService({
        key: f.key,
        servicePort: f.servicePort,
        entries: f.entries,
        paths,
        affinitySeconds: notes.affinitySeconds,
        hairpins: notes.hairpins,
        missing: [...notes.missingChains],
        chains,
        spec,
        describeEntry,
      }),
    );
  }
  services.sort((a, b) =>
    `${a.namespace}/${a.name}:${a.port}`.localeCompare(`${b.namespace}/${b.name}:${b.port}`),
  );
  return services;
}

/** Is the mark set by KUBE-MARK-MASQ the one KUBE-POSTROUTING masquerades? */
function masqueradeNotes(rules: IptablesRuleset): string[] {
  const notes: string[] = [];
  const mark = rules.chains.get('nat/KUBE-MARK-MASQ');
  const post = rules.chains.get('nat/KUBE-POSTROUTING');
  const setMark = mark?.rules.find((r) => r.target === 'MARK')?.markAction;
  const masq = post?.rules.find((r) => r.target === 'MASQUERADE');
  if (mark && !setMark) notes.push('KUBE-MARK-MASQ sets no mark: nothing will be masqueraded');
  if (post && !masq)
    notes.push('KUBE-POSTROUTING has no MASQUERADE rule: marked packets keep their source address');
  if (!post && rules.chains.size > 0)
    notes.push(
      'KUBE-POSTROUTING is not in the dump: where marked packets are masqueraded cannot be checked',
    );
  if (setMark && masq) {
    const bit = /0x[0-9a-f]+/i.exec(setMark)?.[0];
    const check = post?.rules.find((r) => r.markMatch)?.markMatch?.value;
    if (bit && check && !check.startsWith(bit))
      notes.push(
        `KUBE-MARK-MASQ sets ${bit} but KUBE-POSTROUTING checks ${check}: marked packets are not masqueraded`,
      );
    else
      notes.push(
        `masquerade: KUBE-MARK-MASQ sets mark ${bit ?? '?'}; KUBE-POSTROUTING masquerades packets carrying it${masq.randomFully ? ' (--random-fully)' : ''}`,
      );
  }
  return notes;
}
