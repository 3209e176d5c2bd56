/**
 * Writes a node's kube-proxy rules for some Services, in kube-proxy's own shape:
 * an `iptables-restore` input (the iptables mode's current layout) or an
 * `nft -f` input for `table ip kube-proxy` (the 1.33–1.35 nftables layout).
 *
 * The lab loads these into a namespace and the explainer reads them back, so the
 * text must be what kube-proxy would have written for the same Service and
 * endpoints: same chains, same matches, same comments, same probabilities.
 * Not written: IPv6, internalTrafficPolicy Local, masqueradeAll, the
 * LoadBalancer "allow from node" rules, and the nftables filter rules kube-proxy
 * adds for health-check node ports.
 */
import {
  iptablesEndpointChain,
  iptablesServiceChains,
  nftablesEndpointChainBase,
  nftablesServiceChainBase,
  servicePortName,
} from './chainNames';
import type { ServicePortKey } from './chainNames';
import type { ServiceSpec } from './types';

/** One endpoint of a Service port, as an EndpointSlice lists it (ready ones only). */
export interface RuleEndpoint {
  ip: string;
  /** The target port on the endpoint. */
  port: number;
  /** The Service port name it serves; absent: every port of the Service. */
  portName?: string;
  /** The node it runs on, for people; `local` is what the rules use. */
  node?: string;
  /** True when the endpoint runs on the node these rules are for. */
  local: boolean;
}

/** A Service and its endpoints. */
export interface RuleService {
  spec: ServiceSpec;
  endpoints: readonly RuleEndpoint[];
  /** spec.healthCheckNodePort (externalTrafficPolicy Local on a LoadBalancer). */
  healthCheckNodePort?: number | null;
}

export interface WriteRulesOptions {
  /**
   * What kube-proxy counts as pod traffic (`--detect-local-mode`): the cluster
   * CIDR (ClusterCIDR mode) or the node's pod CIDR (NodeCIDR mode).
   */
  localTrafficCidr: string;
  /**
   * iptables: also accept node ports on 127.0.0.0/8 (route_localnet) with
   * kube-proxy's nfacct counters, and count dropped invalid packets — as
   * kube-proxy does by default. These need the nfacct objects, so a lab that
   * only loads the rules turns them off.
   */
  localhostNodePorts?: boolean;
  /** nftables: the service CIDR whose unallocated addresses are dropped. */
  serviceCidr?: string;
  /** nftables: the node's addresses that accept node ports. */
  nodeIPs?: readonly string[];
}

const MARK = '0x4000';

function quote(comment: string): string {
  return /\s/.test(comment) ? `"${comment}"` : comment;
}

function compareIps(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Probability as kube-proxy formats it: `%0.10f` of 1/n. */
function probability(n: number): string {
  return (1 / n).toFixed(10);
}

interface PortPlan {
  key: ServicePortKey;
  svcName: string;
  protocol: string;
  port: number;
  nodePort: number | null;
  /** Endpoints ordered as kube-proxy orders them (by address). */
  all: RuleEndpoint[];
  local: RuleEndpoint[];
  /** The endpoints external traffic goes to under the traffic policy. */
  external: RuleEndpoint[];
  policyLocal: boolean;
  usesExternal: boolean;
}

function planPorts(s: RuleService): PortPlan[] {
  const spec = s.spec;
  const policyLocal =
    spec.externalTrafficPolicy === 'Local' &&
    (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.externalIPs.length > 0);
  return spec.ports.map((p) => {
    const protocol = p.protocol.toLowerCase();
    const key = { namespace: spec.namespace, name: spec.name, portName: p.name, protocol };
    const all = s.endpoints
      .filter((e) => e.portName === undefined || e.portName === p.name)
      .slice()
      .sort((a, b) => compareIps(a.ip, b.ip) || a.port - b.port);
    const local = all.filter((e) => e.local);
    const nodePort = p.nodePort && p.nodePort > 0 ? p.nodePort : null;
    return {
      key,
      svcName: servicePortName(key),
      protocol,
      port: p.port,
      nodePort,
      all,
      local,
      external: policyLocal ? local : all,
      policyLocal,
      usesExternal:
        nodePort !== null || spec.externalIPs.length > 0 || spec.loadBalancerIPs.length > 0,
    };
  });
}

function sortedServices(services: readonly RuleService[]): RuleService[] {
  return services
    .slice()
    .sort((a, b) =>
      `${a.spec.namespace}/${a.spec.name}`.localeCompare(`${b.spec.namespace}/${b.spec.name}`),
    );
}

/**
 * The `iptables-restore` input kube-proxy's iptables mode writes for these
 * Services: a `*filter` and a `*nat` table, each with its chain lines, then its
 * rules, then COMMIT. The jumps from the built-in chains (PREROUTING, OUTPUT,
 * POSTROUTING, FORWARD, INPUT) are not part of it, as kube-proxy adds those apart.
 *
 * @param services the Services with their ready endpoints.
 * @param options the pod-traffic CIDR and whether to write the localhost node-port rules.
 */
export function writeIptablesRestore(
  services: readonly RuleService[],
  options: WriteRulesOptions,
): string {
  const localhost = options.localhostNodePorts === true;
  const filter = new Map<string, string[]>();
  for (const c of [
    'KUBE-NODEPORTS',
    'KUBE-SERVICES',
    'KUBE-EXTERNAL-SERVICES',
    'KUBE-FIREWALL',
    'KUBE-FORWARD',
    'KUBE-PROXY-FIREWALL',
  ])
    filter.set(c, []);
  const nat = new Map<string, string[]>([
    ['KUBE-NODEPORTS', []],
    ['KUBE-SERVICES', []],
    ['KUBE-MARK-MASQ', []],
    ['KUBE-POSTROUTING', []],
  ]);
  const f = (chain: string, ...args: string[]): void => {
    const rules = filter.get(chain) ?? [];
    rules.push(`-A ${chain} ${args.join(' ')}`.trimEnd());
    filter.set(chain, rules);
  };
  const n = (chain: string, ...args: string[]): void => {
    const rules = nat.get(chain) ?? [];
    rules.push(`-A ${chain} ${args.join(' ')}`.trimEnd());
    nat.set(chain, rules);
  };
  const declare = (chain: string): void => {
    if (!nat.has(chain)) nat.set(chain, []);
  };

  for (const s of sortedServices(services)) {
    const spec = s.spec;
    for (const p of planPorts(s)) {
      const chains = iptablesServiceChains(p.key);
      const c = (text: string): string => `-m comment --comment ${quote(text)}`;
      const proto = `-m ${p.protocol} -p ${p.protocol}`;
      const hasEndpoints = p.all.length > 0;
      const hasExternal = p.external.length > 0;
      const epChain = (e: RuleEndpoint): string =>
        iptablesEndpointChain(p.key, `${e.ip}:${e.port}`);
      const usesCluster = hasEndpoints;
      const usesLocal = p.policyLocal && p.local.length > 0;
      const externalPolicyChain = p.policyLocal ? chains.svl : chains.svc;
      const filterTarget = hasEndpoints ? 'DROP' : 'REJECT';
      const filterComment = hasEndpoints
        ? `${p.svcName} has no local endpoints`
        : `${p.svcName} has no endpoints`;
      const firewalled = spec.loadBalancerSourceRanges.length > 0;

      if (spec.clusterIP) {
        if (hasEndpoints)
          n(
            'KUBE-SERVICES',
            c(`${p.svcName} cluster IP`),
            proto,
            `-d ${spec.clusterIP} --dport ${p.port}`,
            `-j ${chains.svc}`,
          );
        else
          f(
            'KUBE-SERVICES',
            c(filterComment),
            proto,
            `-d ${spec.clusterIP} --dport ${p.port}`,
            '-j REJECT',
          );
      }
      for (const ip of spec.externalIPs) {
        if (hasEndpoints)
          n(
            'KUBE-SERVICES',
            c(`${p.svcName} external IP`),
            proto,
            `-d ${ip} --dport ${p.port}`,
            `-j ${chains.ext}`,
          );
        if (!hasExternal)
          f(
            'KUBE-EXTERNAL-SERVICES',
            c(filterComment),
            proto,
            `-d ${ip} --dport ${p.port}`,
            `-j ${filterTarget}`,
          );
      }
      for (const ip of spec.loadBalancerIPs) {
        if (hasEndpoints)
          n(
            'KUBE-SERVICES',
            c(`${p.svcName} loadbalancer IP`),
            proto,
            `-d ${ip} --dport ${p.port}`,
            `-j ${firewalled ? chains.fw : chains.ext}`,
          );
        if (firewalled)
          f(
            'KUBE-PROXY-FIREWALL',
            c(`${p.svcName} traffic not accepted by ${chains.fw}`),
            proto,
            `-d ${ip} --dport ${p.port}`,
            '-j DROP',
          );
      }
      if (!hasExternal)
        for (const ip of spec.loadBalancerIPs)
          f(
            'KUBE-EXTERNAL-SERVICES',
            c(filterComment),
            proto,
            `-d ${ip} --dport ${p.port}`,
            `-j ${filterTarget}`,
          );
      if (p.nodePort !== null) {
        if (hasEndpoints) {
          if (localhost)
            n(
              'KUBE-NODEPORTS',
              c(p.svcName),
              proto,
              `-d 127.0.0.0/8 --dport ${p.nodePort}`,
              '-m nfacct --nfacct-name localhost_nps_accepted_pkts',
              `-j ${chains.ext}`,
            );
          n('KUBE-NODEPORTS', c(p.svcName), proto, `--dport ${p.nodePort}`, `-j ${chains.ext}`);
        }
        if (!hasExternal)
          f(
            'KUBE-EXTERNAL-SERVICES',
            c(filterComment),
            '-m addrtype --dst-type LOCAL',
            proto,
            `--dport ${p.nodePort}`,
            `-j ${filterTarget}`,
          );
      }
      if (s.healthCheckNodePort && p.policyLocal)
        f(
          'KUBE-NODEPORTS',
          c(`${p.svcName} health check node port`),
          '-m tcp -p tcp',
          `--dport ${s.healthCheckNodePort}`,
          '-j ACCEPT',
        );

      if (!hasEndpoints) continue;
      if (p.usesExternal) {
        declare(chains.ext);
        if (!p.policyLocal) {
          n(
            chains.ext,
            c(`masquerade traffic for ${p.svcName} external destinations`),
            '-j KUBE-MARK-MASQ',
          );
        } else {
          n(
            chains.ext,
            c(`pod traffic for ${p.svcName} external destinations`),
            `-s ${options.localTrafficCidr}`,
            `-j ${chains.svc}`,
          );
          n(
            chains.ext,
            c(`masquerade LOCAL traffic for ${p.svcName} external destinations`),
            '-m addrtype --src-type LOCAL',
            '-j KUBE-MARK-MASQ',
          );
          n(
            chains.ext,
            c(`route LOCAL traffic for ${p.svcName} external destinations`),
            '-m addrtype --src-type LOCAL',
            `-j ${chains.svc}`,
          );
        }
        if (hasExternal) n(chains.ext, `-j ${externalPolicyChain}`);
      }
      if (firewalled && spec.loadBalancerIPs.length > 0) {
        declare(chains.fw);
        for (const range of spec.loadBalancerSourceRanges)
          n(chains.fw, c(`${p.svcName} loadbalancer IP`), `-s ${range}`, `-j ${chains.ext}`);
        n(chains.fw, c(`other traffic to ${p.svcName} will be dropped by KUBE-PROXY-FIREWALL`));
      }
      const toEndpoints = (chain: string, eps: RuleEndpoint[]): void => {
        if (spec.affinitySeconds !== null)
          for (const e of eps)
            n(
              chain,
              c(`${p.svcName} -> ${e.ip}:${e.port}`),
              `-m recent --name ${epChain(e)} --rcheck --seconds ${spec.affinitySeconds} --reap`,
              `-j ${epChain(e)}`,
            );
        eps.forEach((e, i) => {
          const stat =
            i < eps.length - 1
              ? `-m statistic --mode random --probability ${probability(eps.length - i)}`
              : '';
          n(chain, c(`${p.svcName} -> ${e.ip}:${e.port}`), stat, `-j ${epChain(e)}`.trim());
        });
      };
      if (usesCluster) {
        declare(chains.svc);
        if (spec.clusterIP)
          n(
            chains.svc,
            c(`${p.svcName} cluster IP`),
            proto,
            `-d ${spec.clusterIP} --dport ${p.port}`,
            `! -s ${options.localTrafficCidr}`,
            '-j KUBE-MARK-MASQ',
          );
        toEndpoints(chains.svc, p.all);
      }
      if (usesLocal) {
        declare(chains.svl);
        toEndpoints(chains.svl, p.local);
      }
      for (const e of p.all) {
        const chain = epChain(e);
        declare(chain);
        n(chain, c(p.svcName), `-s ${e.ip}`, '-j KUBE-MARK-MASQ');
        const recent = spec.affinitySeconds !== null ? `-m recent --name ${chain} --set` : '';
        n(chain, c(p.svcName), recent, proto, `-j DNAT --to-destination ${e.ip}:${e.port}`);
      }
    }
  }

  if (localhost)
    f(
      'KUBE-FIREWALL',
      `-m comment --comment "block incoming localnet connections"`,
      '-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    );
  f(
    'KUBE-FORWARD',
    '-m conntrack --ctstate INVALID',
    localhost ? '-m nfacct --nfacct-name ct_state_invalid_dropped_pkts' : '',
    '-j DROP',
  );
  f(
    'KUBE-FORWARD',
    `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${MARK}/${MARK} -j ACCEPT`,
  );
  f(
    'KUBE-FORWARD',
    '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );
  n(
    'KUBE-SERVICES',
    '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"',
    '-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  );
  n('KUBE-MARK-MASQ', `-j MARK --or-mark ${MARK}`);
  n('KUBE-POSTROUTING', `-m mark ! --mark ${MARK}/${MARK} -j RETURN`);
  n('KUBE-POSTROUTING', `-j MARK --xor-mark ${MARK}`);
  n(
    'KUBE-POSTROUTING',
    '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
  );

  const table = (name: string, chains: Map<string, string[]>, fixed: number): string[] => {
    // The fixed chains first, then the per-Service ones by name: kube-proxy's order.
    const names = [...chains.keys()];
    const ordered = [...names.slice(0, fixed), ...names.slice(fixed).sort()];
    return [
      `*${name}`,
      ...ordered.map((ch) => `:${ch} - [0:0]`),
      ...ordered.flatMap((ch) => (chains.get(ch) ?? []).map((r) => r.replace(/ {2,}/g, ' '))),
      'COMMIT',
    ];
  };
  return [...table('filter', filter, 6), ...table('nat', nat, 2), ''].join('\n');
}

/**
 * The `nft -f` input kube-proxy's nftables mode (1.33–1.35) writes for these
 * Services: `table ip kube-proxy` with its base chains, sets and maps, then per
 * Service port its service/external/local/endpoint/firewall chains and the
 * map elements that lead to them.
 *
 * @param services the Services with their ready endpoints.
 * @param options the pod-traffic CIDR, the service CIDR and the node's addresses.
 */
export function writeNftables(
  services: readonly RuleService[],
  options: WriteRulesOptions,
): string {
  const T = 'ip kube-proxy';
  const out: string[] = [
    `add table ${T} { comment "rules for kube-proxy" ; }`,
    `add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
    `add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
    `add map ${T} firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    `add chain ${T} cluster-ips-check`,
    `add chain ${T} filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }`,
    `add chain ${T} filter-output-pre-dnat { type filter hook output priority -110 ; }`,
    `add chain ${T} filter-forward { type filter hook forward priority 0 ; }`,
    `add chain ${T} filter-input { type filter hook input priority 0 ; }`,
    `add chain ${T} filter-output { type filter hook output priority 0 ; }`,
    `add chain ${T} firewall-check`,
    `add chain ${T} mark-for-masquerade`,
    `add chain ${T} masquerading`,
    `add chain ${T} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${T} nat-postrouting { type nat hook postrouting priority 100 ; }`,
    `add chain ${T} nat-prerouting { type nat hook prerouting priority -100 ; }`,
    `add chain ${T} nodeport-endpoints-check`,
    `add chain ${T} reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`,
    `add chain ${T} services`,
    `add chain ${T} service-endpoints-check`,
    `add rule ${T} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
    ...(options.serviceCidr
      ? [
          `add rule ${T} cluster-ips-check ip daddr { ${options.serviceCidr} } drop comment "Drop traffic to unallocated ClusterIPs"`,
        ]
      : []),
    `add rule ${T} filter-prerouting-pre-dnat ct state new jump firewall-check`,
    `add rule ${T} filter-forward ct state new jump service-endpoints-check`,
    `add rule ${T} filter-forward ct state new jump cluster-ips-check`,
    `add rule ${T} filter-input ct state new jump nodeport-endpoints-check`,
    `add rule ${T} filter-input ct state new jump service-endpoints-check`,
    `add rule ${T} filter-output ct state new jump service-endpoints-check`,
    `add rule ${T} filter-output-pre-dnat ct state new jump firewall-check`,
    `add rule ${T} filter-output ct state new jump cluster-ips-check`,
    `add rule ${T} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips`,
    `add rule ${T} mark-for-masquerade mark set mark or ${MARK}`,
    `add rule ${T} masquerading mark and ${MARK} == 0 return`,
    `add rule ${T} masquerading mark set mark xor ${MARK}`,
    `add rule ${T} masquerading masquerade fully-random`,
    `add rule ${T} nat-output jump services`,
    `add rule ${T} nat-postrouting jump masquerading`,
    `add rule ${T} nat-prerouting jump services`,
    `add rule ${T} nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
    `add rule ${T} reject-chain reject`,
    `add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${T} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
    ...(options.nodeIPs ?? []).map((ip) => `add element ${T} nodeport-ips { ${ip} }`),
    `add rule ${T} service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services`,
  ];
  for (const s of sortedServices(services)) {
    const spec = s.spec;
    for (const p of planPorts(s)) {
      const b = nftablesServiceChainBase(p.key);
      const svc = `service-${b}`;
      const ext = `external-${b}`;
      const loc = `local-${b}`;
      const fw = `firewall-${b}`;
      const epBase = (e: RuleEndpoint): string => nftablesEndpointChainBase(p.key, e.ip, e.port);
      const hasEndpoints = p.all.length > 0;
      const hasExternal = p.external.length > 0;
      const r = (chain: string, text: string): void => {
        out.push(`add rule ${T} ${chain} ${text}`);
      };
      out.push(`# ${p.svcName}`);
      const toEndpoints = (chain: string, eps: RuleEndpoint[]): void => {
        if (spec.affinitySeconds !== null)
          for (const e of eps)
            r(chain, `ip saddr @affinity-${epBase(e)} goto endpoint-${epBase(e)}`);
        const vmap = eps.map((e, i) => `${i} : goto endpoint-${epBase(e)}`).join(' , ');
        r(chain, `numgen random mod ${eps.length} vmap { ${vmap} }`);
      };
      if (hasEndpoints) {
        if (spec.affinitySeconds !== null)
          for (const e of p.all)
            out.push(
              `add set ${T} affinity-${epBase(e)} { type ipv4_addr ; flags dynamic,timeout ; timeout ${spec.affinitySeconds}s ; }`,
            );
        // Every chain of the port before any rule: the kernel resolves a jump or a
        // vmap's goto when the rule is added, so a chain declared later in the same
        // transaction is not found.
        const chains = [svc, ...p.all.map((e) => `endpoint-${epBase(e)}`)];
        if (p.usesExternal) chains.push(ext);
        if (p.policyLocal && p.local.length > 0) chains.push(loc);
        if (spec.loadBalancerSourceRanges.length > 0 && spec.loadBalancerIPs.length > 0)
          chains.push(fw);
        for (const chain of chains) out.push(`add chain ${T} ${chain}`);
        if (spec.clusterIP)
          r(
            svc,
            `ip daddr ${spec.clusterIP} ip saddr != ${options.localTrafficCidr} jump mark-for-masquerade`,
          );
        toEndpoints(svc, p.all);
        if (p.usesExternal) {
          if (!p.policyLocal) {
            r(ext, 'jump mark-for-masquerade');
          } else {
            r(
              ext,
              `ip saddr ${options.localTrafficCidr} goto ${svc} comment "short-circuit pod traffic"`,
            );
            r(
              ext,
              'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
            );
            r(ext, `fib saddr type local goto ${svc} comment "short-circuit local traffic"`);
          }
          if (hasExternal) r(ext, `goto ${p.policyLocal ? loc : svc}`);
        }
        if (p.policyLocal && p.local.length > 0) {
          toEndpoints(loc, p.local);
        }
        for (const e of p.all) {
          const ep = `endpoint-${epBase(e)}`;
          r(ep, `ip saddr ${e.ip} jump mark-for-masquerade`);
          if (spec.affinitySeconds !== null) r(ep, `update @affinity-${epBase(e)} { ip saddr }`);
          r(ep, `meta l4proto ${p.protocol} dnat to ${e.ip}:${e.port}`);
        }
        if (spec.loadBalancerSourceRanges.length > 0 && spec.loadBalancerIPs.length > 0) {
          r(fw, `ip saddr != { ${spec.loadBalancerSourceRanges.join(', ')} } drop`);
        }
      }
      const el = (set: string, text: string): void => {
        out.push(`add element ${T} ${set} { ${text} }`);
      };
      const noEp = hasEndpoints ? 'drop' : 'goto reject-chain';
      if (spec.clusterIP) {
        el('cluster-ips', spec.clusterIP);
        if (hasEndpoints)
          el('service-ips', `${spec.clusterIP} . ${p.protocol} . ${p.port} : goto ${svc}`);
        else
          el(
            'no-endpoint-services',
            `${spec.clusterIP} . ${p.protocol} . ${p.port} comment "${p.svcName}" : goto reject-chain`,
          );
      }
      const externalAddresses = [...spec.externalIPs, ...spec.loadBalancerIPs];
      if (hasEndpoints)
        for (const ip of externalAddresses)
          el('service-ips', `${ip} . ${p.protocol} . ${p.port} : goto ${ext}`);
      if (hasEndpoints && p.nodePort !== null)
        el('service-nodeports', `${p.protocol} . ${p.nodePort} : goto ${ext}`);
      if (hasEndpoints && spec.loadBalancerSourceRanges.length > 0)
        for (const ip of spec.loadBalancerIPs)
          el('firewall-ips', `${ip} . ${p.protocol} . ${p.port} : goto ${fw}`);
      if (!hasExternal) {
        if (p.nodePort !== null)
          el(
            'no-endpoint-nodeports',
            `${p.protocol} . ${p.nodePort} comment "${p.svcName}" : ${noEp}`,
          );
        for (const ip of externalAddresses)
          el(
            'no-endpoint-services',
            `${ip} . ${p.protocol} . ${p.port} comment "${p.svcName}" : ${noEp}`,
          );
      }
    }
  }
  return out.join('\n') + '\n';
}
