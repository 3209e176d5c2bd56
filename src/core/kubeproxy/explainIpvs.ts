/**
 * kube-proxy's IPVS mode (deprecated since Kubernetes 1.35): the virtual
 * servers do the DNAT, each real server getting weight / Σweights of new
 * connections; `persistent N` is ClientIP affinity; the iptables rules that
 * remain (with ipset matches evaluated against the ipset members) decide
 * masquerade; kube-ipvs0 must carry every Service address.
 */
import type { ServicePortKey } from './chainNames';
import { compareAddresses } from './explainIptables';
import { describeEntry, findPodCidr, walkIptables, type WalkNotes } from './iptablesResolver';
import type { IpvsState, IpvsVirtualService } from './ipvsRules';
import { summarizeService, type ServiceEntry } from './summarizeService';
import type { EntryKind, ExplainedService, ServicePath, ServiceSpec, SourceKind } from './types';

export const IPVS_DEPRECATION =
  'IPVS mode is deprecated since Kubernetes 1.35; nftables is the suggested replacement';

interface Group {
  key: ServicePortKey;
  servicePort: number | null;
  entries: { entry: ServiceEntry; vs: IpvsVirtualService | null }[];
}

function vsKey(protocol: string, address: string | null, port: number): string {
  return `${protocol}/${address ?? '*'}:${port}`;
}

function members(state: IpvsState, name: string): string[] {
  return state.ipsets.get(name) ?? [];
}

/**
 * Explains Service ports from a node's IPVS state.
 *
 * @param state virtual servers, ipsets, kube-ipvs0 and remaining iptables rules.
 * @param specs manifests give Services their names (IPVS itself has none).
 */
export function explainIpvs(
  state: IpvsState,
  specs: readonly ServiceSpec[],
): { services: ExplainedService[]; notes: string[] } {
  const byAddr = new Map(state.services.map((v) => [vsKey(v.protocol, v.address, v.port), v]));
  const claimed = new Set<IpvsVirtualService>();
  const groups: Group[] = [];
  const nodePortVs = (protocol: string, port: number): IpvsVirtualService[] =>
    state.services.filter(
      (v) => v.protocol === protocol && v.port === port && !clusterIPs.has(v.address),
    );
  const clusterIPs = new Set(members(state, 'KUBE-CLUSTER-IP').map((m) => m.split(',')[0]!));
  for (const s of specs)
    for (const p of s.ports) {
      const g: Group = {
        key: { namespace: s.namespace, name: s.name, portName: p.name, protocol: p.protocol },
        servicePort: p.port,
        entries: [],
      };
      const add = (kind: EntryKind, address: string | null, port: number): void => {
        const vs = address
          ? (byAddr.get(vsKey(p.protocol, address, port)) ?? null)
          : (nodePortVs(p.protocol, port)[0] ?? null);
        if (vs) claimed.add(vs);
        if (!address) for (const v of nodePortVs(p.protocol, port)) claimed.add(v);
        g.entries.push({ entry: { kind, destination: address, port }, vs });
      };
      if (s.clusterIP) add('cluster-ip', s.clusterIP, p.port);
      if (p.nodePort) add('node-port', null, p.nodePort);
      for (const ip of s.externalIPs) add('external-ip', ip, p.port);
      for (const ip of s.loadBalancerIPs) add('load-balancer', ip, p.port);
      groups.push(g);
    }
  // Virtual servers no manifest names: one Service per cluster IP, node ports
  // joined to the cluster IP with the same real servers.
  const nodePorts = new Set([
    ...members(state, 'KUBE-NODE-PORT-TCP'),
    ...members(state, 'KUBE-NODE-PORT-UDP'),
    ...members(state, 'KUBE-NODE-PORT-SCTP-HASH').map((m) => m.split(':').pop() ?? ''),
  ]);
  const servers = (v: IpvsVirtualService): string =>
    v.realServers
      .map((r) => r.address)
      .sort()
      .join(' ');
  const rest = state.services.filter((v) => !claimed.has(v));
  const isNodePort = (v: IpvsVirtualService): boolean =>
    nodePorts.has(String(v.port)) ||
    (!clusterIPs.has(v.address) && v.port >= 30000 && v.port <= 32767);
  for (const v of rest.filter((x) => !isNodePort(x))) {
    const external = members(state, 'KUBE-EXTERNAL-IP').includes(
      `${v.address},${v.protocol}:${v.port}`,
    );
    const lb = members(state, 'KUBE-LOAD-BALANCER').includes(
      `${v.address},${v.protocol}:${v.port}`,
    );
    const kind: EntryKind = lb ? 'load-balancer' : external ? 'external-ip' : 'cluster-ip';
    const same =
      kind === 'cluster-ip'
        ? undefined
        : groups.find((g) =>
            g.entries.some(
              (e) => e.vs && e.vs.protocol === v.protocol && servers(e.vs) === servers(v),
            ),
          );
    const g: Group = same ?? {
      key: { namespace: '?', name: `${v.address}:${v.port}`, portName: '', protocol: v.protocol },
      servicePort: v.port,
      entries: [],
    };
    g.entries.push({ entry: { kind, destination: v.address, port: v.port }, vs: v });
    if (!same) groups.push(g);
  }
  const seenNodePort = new Set<string>();
  for (const v of rest.filter(isNodePort)) {
    const id = `${v.protocol}/${v.port}`;
    if (seenNodePort.has(id)) continue;
    seenNodePort.add(id);
    const owner = groups.find((g) =>
      g.entries.some(
        (e) =>
          e.vs &&
          e.vs.protocol === v.protocol &&
          servers(e.vs) === servers(v) &&
          e.entry.kind === 'cluster-ip',
      ),
    );
    const g: Group = owner ?? {
      key: { namespace: '?', name: `node port ${v.port}`, portName: '', protocol: v.protocol },
      servicePort: null,
      entries: [],
    };
    g.entries.push({ entry: { kind: 'node-port', destination: null, port: v.port }, vs: v });
    if (!owner) groups.push(g);
  }

  const podCidr = findPodCidr(state.iptables);
  const loopBack = members(state, 'KUBE-LOOP-BACK');
  const services: ExplainedService[] = [];
  for (const g of groups) {
    const notes: WalkNotes = {
      affinitySeconds: null,
      hairpins: [],
      missingChains: new Set(),
      podCidr,
      complements: new Map(),
      ipsets: state.ipsets,
    };
    const extra: string[] = [];
    const paths: ServicePath[] = [];
    let affinity: number | null = null;
    g.entries.sort((a, b) =>
      compareAddresses(a.entry.destination ?? '', b.entry.destination ?? ''),
    );
    for (const { entry, vs } of g.entries) {
      if (vs?.persistentSeconds) affinity = vs.persistentSeconds;
      const total = vs ? vs.realServers.reduce((a, r) => a + r.weight, 0) : 0;
      const endpoints = (vs?.realServers ?? []).map((r) => ({
        address: r.address,
        share: total > 0 ? r.weight / total : 0,
      }));
      for (const from of ['pod', 'node', 'outside'] as SourceKind[]) {
        const pkt = {
          entry: entry.kind,
          destination: entry.destination,
          port: entry.port,
          protocol: g.key.protocol,
          from,
        };
        // The remaining iptables rules only mark (or drop); IPVS does the DNAT.
        const walked =
          state.iptables.chains.size > 0 ? walkIptables(state.iptables, pkt, notes) : [];
        const stopped = walked.find((p) => p.outcome === 'drop' || p.outcome === 'reject');
        const masq = [...new Set(walked.flatMap((p) => p.masqueradeReasons))];
        const address =
          entry.kind === 'node-port'
            ? `<node>:${entry.port}`
            : `${entry.destination ?? '?'}:${entry.port}`;
        const base = {
          entry: entry.kind,
          address,
          from,
          masqueradeReasons: masq,
          masquerade: masq.length > 0,
          chains: [...new Set(walked.flatMap((p) => p.chains))],
          conditions: [],
          weight: 1,
        };
        if (stopped)
          paths.push({
            ...base,
            outcome: stopped.outcome,
            endpoints: [],
            ...(stopped.note ? { note: stopped.note } : {}),
          });
        else if (!vs)
          paths.push({
            ...base,
            outcome: 'unmatched',
            endpoints: [],
            note: 'no IPVS virtual server for it',
          });
        else if (total === 0)
          paths.push({
            ...base,
            outcome: 'drop',
            endpoints: [],
            note: 'the IPVS virtual server has no real server with weight > 0 (no endpoints)',
          });
        else paths.push({ ...base, outcome: 'dnat', endpoints });
      }
      if (vs) {
        if (
          entry.kind !== 'node-port' &&
          state.dummyAddresses &&
          !state.dummyAddresses.has(vs.address)
        )
          extra.push(
            `${vs.address} is not on kube-ipvs0: the node does not accept packets for it, so IPVS never sees them`,
          );
        if (
          entry.kind === 'cluster-ip' &&
          state.ipsets.has('KUBE-CLUSTER-IP') &&
          !clusterIPs.has(vs.address)
        )
          extra.push(
            `${vs.address},${vs.protocol}:${vs.port} is not in ipset KUBE-CLUSTER-IP: the masquerade rule for it never matches`,
          );
        if (!/^(rr|wrr)$/.test(vs.scheduler))
          extra.push(
            `scheduler ${vs.scheduler}: shares are by weight only on average (${vs.scheduler} also looks at connections or hashes)`,
          );
        for (const r of vs.realServers) {
          if (r.weight === 0)
            extra.push(`${r.address} has weight 0: terminating, it gets no new connections`);
          const ip = r.address.replace(/:\d+$/, '');
          if (loopBack.some((m) => m.startsWith(`${ip},`) && m.endsWith(`,${ip}`)))
            notes.hairpins.push(
              `hairpin: when ${ip} reaches itself through the Service (ipset KUBE-LOOP-BACK)`,
            );
        }
      }
    }
    const spec =
      specs.find((s) => s.namespace === g.key.namespace && s.name === g.key.name) ?? null;
    services.push(
      summarizeService({
        key: g.key,
        servicePort: g.servicePort,
        entries: g.entries.map((e) => e.entry),
        paths,
        affinitySeconds: affinity,
        hairpins: [...new Set(notes.hairpins)],
        missing: [...notes.missingChains],
        chains: [],
        spec,
        describeEntry,
        extraFindings: [...new Set(extra)],
      }),
    );
  }
  services.sort((a, b) =>
    `${a.namespace}/${a.name}:${a.port}`.localeCompare(`${b.namespace}/${b.name}:${b.port}`),
  );
  return { services, notes: [IPVS_DEPRECATION] };
}
