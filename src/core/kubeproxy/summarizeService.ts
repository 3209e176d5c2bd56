/**
 * Turns the paths of one Service port into the explanation people read: the
 * endpoints and their shares, masquerade with reasons, and findings in words.
 * Shared by the iptables, nftables and IPVS explainers.
 */
import type { ServicePortKey } from './chainNames';
import type { EndpointShare, EntryKind, ExplainedService, ServicePath, ServiceSpec } from './types';

/** One way into a Service as the rules (or the manifest) show it. */
export interface ServiceEntry {
  kind: EntryKind;
  /** Null for a node port (any address of the node). */
  destination: string | null;
  port: number;
}

export interface SummaryInput {
  key: ServicePortKey;
  servicePort: number | null;
  entries: ServiceEntry[];
  paths: ServicePath[];
  affinitySeconds: number | null;
  hairpins: string[];
  missing: string[];
  chains: string[];
  spec: ServiceSpec | null;
  describeEntry: (e: { entry: EntryKind; destination: string | null; port: number }) => string;
  /** Notes the mode adds (IPVS scheduler…). */
  extraFindings?: string[];
}

/** `42%`, `33.3%`, `100%`. */
export function formatShare(share: number): string {
  const pct = share * 100;
  const text = Math.abs(pct - Math.round(pct)) < 0.05 ? String(Math.round(pct)) : pct.toFixed(1);
  return `${text}%`;
}

function endpointList(eps: readonly EndpointShare[]): string {
  return eps.map((e) => `${e.address} (${formatShare(e.share)})`).join(', ');
}

function sameEndpoints(a: readonly EndpointShare[], b: readonly EndpointShare[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((e) =>
    b.some((f) => f.address === e.address && Math.abs(f.share - e.share) < 1e-6),
  );
}

const FROM_WORDS = { pod: 'a pod', node: 'the node', outside: 'outside' } as const;

function entryOf(p: ServicePath): { entry: EntryKind; destination: string | null; port: number } {
  const colon = p.address.lastIndexOf(':');
  const host = p.address.slice(0, colon);
  return {
    entry: p.entry,
    destination: host === '<node>' ? null : host,
    port: Number(p.address.slice(colon + 1)),
  };
}

function isLocalChain(c: string): boolean {
  return /^KUBE-(SVL|XLB)-/.test(c) || c.startsWith('local-');
}

/**
 * Builds the explanation of one Service port from its paths.
 *
 * @param input the walked paths and what the walk noticed.
 */
export function summarizeService(input: SummaryInput): ExplainedService {
  const { key, entries, paths, spec } = input;
  const clusterEntry = entries.find((e) => e.kind === 'cluster-ip');
  const dnatFromPod = paths.filter(
    (p) => p.entry === 'cluster-ip' && p.from === 'pod' && p.outcome === 'dnat',
  );
  const main =
    dnatFromPod.find((p) => p.conditions.length === 0) ??
    dnatFromPod[0] ??
    paths.find((p) => p.outcome === 'dnat');
  const endpoints = main ? main.endpoints : [];
  const findings: string[] = [];

  // Paths that end somewhere else than the endpoints, grouped over senders.
  const groups = new Map<string, { path: ServicePath; froms: string[] }>();
  for (const p of paths) {
    const local = p.chains.some(isLocalChain);
    if (p.outcome === 'dnat' && sameEndpoints(p.endpoints, endpoints) && !local) continue;
    // A missing chain is said once below, not once per sender.
    if (p.outcome === 'incomplete' && input.missing.some((m) => p.note?.includes(m))) continue;
    const id = `${p.entry}|${p.address}|${p.conditions.join('&')}|${p.outcome}|${p.note ?? ''}|${endpointList(p.endpoints)}|${p.masquerade}`;
    const g = groups.get(id);
    if (g) g.froms.push(FROM_WORDS[p.from]);
    else groups.set(id, { path: p, froms: [FROM_WORDS[p.from]] });
  }
  for (const { path: p, froms } of groups.values()) {
    const where = `${input.describeEntry(entryOf(p))} from ${froms.join(', ')}${p.conditions.length ? ` (when ${p.conditions.join(' and ')})` : ''}`;
    const part = p.weight < 0.999 ? `${formatShare(p.weight)} of new connections to ` : '';
    switch (p.outcome) {
      case 'dnat': {
        const local = p.chains.some(isLocalChain);
        const policy = local
          ? p.entry === 'cluster-ip'
            ? ' (internalTrafficPolicy Local: endpoints on this node only)'
            : ` (externalTrafficPolicy Local: endpoints on this node only${p.masquerade ? '' : ', the client address is kept'})`
          : '';
        findings.push(`${part}${where}: goes to ${endpointList(p.endpoints)}${policy}`);
        break;
      }
      case 'drop':
        findings.push(`${part}${where}: dropped — ${p.note ?? ''}`);
        break;
      case 'reject':
        findings.push(`${part}${where}: rejected — ${p.note ?? ''}`);
        break;
      case 'unmatched':
        findings.push(
          `${part}${where}: no rule rewrites or stops it; it leaves the node unchanged`,
        );
        break;
      case 'incomplete':
        findings.push(`${part}${where}: cannot be followed — ${p.note ?? ''}`);
        break;
    }
  }
  for (const m of input.missing) findings.push(`chain ${m} is jumped to but not in the dump`);
  if (endpoints.length > 1) {
    // Weight-0 (terminating) IPVS real servers are reported on their own.
    const shares = endpoints.map((e) => e.share).filter((x) => x > 0);
    if (Math.max(...shares) - Math.min(...shares) > 0.01)
      findings.push(
        `uneven shares (${endpointList(endpoints)}): kube-proxy writes equal shares, so these rules were edited or are stale`,
      );
  }
  if (entries.length === 0 && paths.length === 0)
    findings.push('no rules for this Service port in the dump');
  findings.push(...(input.extraFindings ?? []));

  if (spec) {
    const p = spec.ports.find(
      (x) => x.name === key.portName && x.protocol === key.protocol.toLowerCase(),
    );
    if (spec.clusterIP && clusterEntry && clusterEntry.destination !== spec.clusterIP)
      findings.push(
        `the manifest says cluster IP ${spec.clusterIP}, the rules use ${clusterEntry.destination ?? '?'}`,
      );
    const handled = (kind: string, port: number): boolean =>
      paths.some(
        (x) =>
          x.entry === kind &&
          x.address.endsWith(`:${port}`) &&
          (x.outcome === 'dnat' || x.outcome === 'drop' || x.outcome === 'reject'),
      );
    if (p?.nodePort && !handled('node-port', p.nodePort))
      findings.push(`the manifest's node port ${p.nodePort} has no rule`);
    const external = paths.filter(
      (x) => x.entry !== 'cluster-ip' && x.from === 'outside' && x.outcome === 'dnat',
    );
    const local = external.some((x) => x.chains.some(isLocalChain));
    if (spec.externalTrafficPolicy === 'Local' && external.length > 0 && !local)
      findings.push(
        'the manifest asks for externalTrafficPolicy Local, but from outside the rules spread traffic over all endpoints (Cluster)',
      );
    if (spec.externalTrafficPolicy === 'Cluster' && local)
      findings.push(
        'the manifest asks for externalTrafficPolicy Cluster, but from outside the rules keep traffic on this node (Local)',
      );
    if ((spec.affinitySeconds ?? null) !== input.affinitySeconds)
      findings.push(
        `the manifest asks for ${spec.affinitySeconds === null ? 'no affinity' : `ClientIP affinity for ${spec.affinitySeconds} s`}, the rules have ${input.affinitySeconds === null ? 'none' : `${input.affinitySeconds} s`}`,
      );
  }

  const masquerade = [
    ...new Set([...paths.flatMap((p) => p.masqueradeReasons), ...input.hairpins]),
  ];
  return {
    namespace: key.namespace,
    name: key.name,
    port: key.portName || String(input.servicePort ?? '?'),
    protocol: key.protocol.toUpperCase(),
    clusterIP: clusterEntry?.destination ?? spec?.clusterIP ?? null,
    servicePort: input.servicePort,
    nodePort: entries.find((e) => e.kind === 'node-port')?.port ?? null,
    externalIPs: entries.filter((e) => e.kind === 'external-ip').map((e) => e.destination ?? '?'),
    loadBalancerIPs: entries
      .filter((e) => e.kind === 'load-balancer')
      .map((e) => e.destination ?? '?'),
    endpoints,
    affinitySeconds: input.affinitySeconds,
    masquerade,
    findings,
    paths,
    chains: input.chains,
  };
}
