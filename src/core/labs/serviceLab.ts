/**
 * The Service labs' pure half: the kube-proxy rules each node of a Service lab gets
 * (written by writeRules.ts in the chosen mode), the argv of the endpoint servers and of
 * the client's requests, the expected shares read back from the explainer, and the
 * capture points of the probe connection for each endpoint it may land on.
 * src/platform/labs/serviceLabRun.ts runs all of it.
 */
import type { DatapathPlan, PlanHop } from '../datapath/types';
import type { RuleService } from '../kubeproxy/writeRules';
import { writeIptablesRestore, writeNftables } from '../kubeproxy/writeRules';
import type { ExplainedService, ServiceExplanation, ServicePath } from '../kubeproxy/types';
import type { LabDefinition, LabKubeProxyMode, LabServiceSetup } from './catalog';

/** One command that loads rules into a node namespace: argv after `ip netns exec NS`, and its stdin. */
export interface RuleLoad {
  argv: string[];
  input: string;
}

/**
 * The jumps from the built-in chains into kube-proxy's own, which kube-proxy adds apart
 * from its `iptables-restore` input (so writeRules leaves them out): loaded with
 * `iptables-restore --noflush` after the rules.
 */
export const KUBE_PROXY_JUMPS = [
  '*filter',
  '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
  '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
  '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
  '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  'COMMIT',
  '*nat',
  '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  'COMMIT',
  '',
].join('\n');

function setupOf(lab: LabDefinition): LabServiceSetup {
  if (!lab.service) throw new Error(`lab ${lab.id} is not a Service lab`);
  return lab.service;
}

/** The Service and its endpoints as node `node` sees them (local = on that node). */
export function ruleServicesFor(lab: LabDefinition, node: string): RuleService[] {
  const s = setupOf(lab);
  return [
    {
      spec: s.spec,
      endpoints: s.endpoints.map((e) => ({
        ip: e.ip,
        port: e.port,
        node: e.node,
        local: e.node === node,
      })),
    },
  ];
}

/**
 * What loads kube-proxy's rules into node `node` of a Service lab, in `mode`:
 * iptables-restore with the rules, then the jumps from the built-in chains; or one
 * `nft -f -` with `table ip kube-proxy` (its base chains hook themselves).
 */
export function serviceRuleLoads(
  lab: LabDefinition,
  node: string,
  mode: LabKubeProxyMode,
): RuleLoad[] {
  const s = setupOf(lab);
  const n = lab.network.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`lab ${lab.id} has no node ${node}`);
  const services = ruleServicesFor(lab, node);
  if (mode === 'iptables')
    return [
      {
        argv: ['iptables-restore'],
        input: writeIptablesRestore(services, { localTrafficCidr: lab.network.clusterCidr }),
      },
      { argv: ['iptables-restore', '--noflush'], input: KUBE_PROXY_JUMPS },
    ];
  return [
    {
      argv: ['nft', '-f', '-'],
      input: writeNftables(services, {
        localTrafficCidr: lab.network.clusterCidr,
        serviceCidr: s.serviceCidr,
        nodeIPs: [n.ip],
      }),
    },
  ];
}

/**
 * What removes a mode's rules and the connections they tracked from a node, so the other
 * mode can run on the same topology from a clean slate (affinity's memory goes with the rules).
 */
export function serviceRuleClearArgv(mode: LabKubeProxyMode): string[][] {
  const rules =
    mode === 'iptables'
      ? [
          ['iptables', '-t', 'nat', '-F'],
          ['iptables', '-t', 'nat', '-X'],
          ['iptables', '-t', 'filter', '-F'],
          ['iptables', '-t', 'filter', '-X'],
        ]
      : [['nft', 'delete', 'table', 'ip', 'kube-proxy']];
  return [...rules, ['conntrack', '-F']];
}

/** The argv that reads node rules back in `mode` (what the explainer is given). */
export function ruleReadArgv(mode: LabKubeProxyMode): string[] {
  return mode === 'iptables' ? ['iptables-save'] : ['nft', 'list', 'table', 'ip', 'kube-proxy'];
}

/**
 * The endpoint's server: accepts on the target port and answers every connection with
 * the pod's name, so the client learns which endpoint served it. One python3 process
 * (no process per connection: 200 requests take a fraction of a second).
 */
export const ENDPOINT_SERVER = [
  'import socket, sys',
  'name, port = sys.argv[1].encode() + b"\\n", int(sys.argv[2])',
  'srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)',
  'srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
  "srv.bind(('0.0.0.0', port))",
  'srv.listen(128)',
  'while True:',
  '    c, _ = srv.accept()',
  '    try:',
  '        c.sendall(name)',
  '    except OSError:',
  '        pass',
  '    c.close()',
  '',
].join('\n');

/** `python3 -c <server> POD PORT`: the endpoint pod's server. */
export function endpointServerArgv(pod: string, port: number): string[] {
  return ['python3', '-c', ENDPOINT_SERVER, pod, String(port)];
}

/**
 * The client's requests, in one process so N connections take milliseconds, not N
 * process starts: each connects, half-closes, reads the endpoint's name until the server
 * closes, and prints it on a line of its own (`-` when it failed); one after the other,
 * so session affinity sees the first before the second.
 */
export const REQUEST_CLIENT = [
  'import socket, sys',
  'ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])',
  'for _ in range(n):',
  '    try:',
  '        s = socket.create_connection((ip, port), timeout=3)',
  '        s.shutdown(socket.SHUT_WR)',
  "        got = b''",
  '        while True:',
  '            d = s.recv(256)',
  '            if not d:',
  '                break',
  '            got += d',
  '        s.close()',
  "        print(got.decode('utf-8', 'replace').strip() or '-', flush=True)",
  '    except OSError:',
  "        print('-', flush=True)",
  '',
].join('\n');

/** `python3 -c <client> IP PORT N`: N requests from the client namespace. */
export function requestArgv(ip: string, port: number, count: number): string[] {
  return ['python3', '-c', REQUEST_CLIENT, ip, String(port), String(count)];
}

/** Which endpoint served each request, in order (undefined: none answered with a name). */
export function servedByLines(
  lab: LabDefinition,
  stdout: string,
  count: number,
): (string | undefined)[] {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return Array.from({ length: count }, (_, i) => servedBy(lab, lines[i] ?? ''));
}

/** The endpoint pod that answered a request, or undefined when the reply is not one of them. */
export function servedBy(lab: LabDefinition, stdout: string): string | undefined {
  const name = stdout.trim();
  return setupOf(lab).endpoints.some((e) => e.pod === name) ? name : undefined;
}

/** The explained Service port of a Service lab, from an explanation of the node's rules. */
export function labServiceExplained(
  lab: LabDefinition,
  explanation: ServiceExplanation,
): ExplainedService | undefined {
  const s = setupOf(lab).spec;
  return explanation.services.find((x) => x.namespace === s.namespace && x.name === s.name);
}

/**
 * The path the lab's requests take, as the explainer reads it from the node's rules:
 * the lab's entry (cluster IP from a pod, node port from outside) that ends in a DNAT.
 */
export function labServicePath(
  lab: LabDefinition,
  explained: ExplainedService,
): ServicePath | undefined {
  const s = setupOf(lab);
  const paths = explained.paths.filter((p) => p.entry === s.entry && p.from === s.from);
  return paths.find((p) => p.outcome === 'dnat') ?? paths[0];
}

/** Endpoint pod → its expected share on `path` (endpoints the path never reaches get 0). */
export function expectedShares(lab: LabDefinition, path: ServicePath): Map<string, number> {
  const s = setupOf(lab);
  const shares = new Map<string, number>();
  for (const e of s.endpoints) {
    const share = path.endpoints
      .filter((x) => x.address === `${e.ip}:${e.port}`)
      .reduce((a, x) => a + x.share, 0);
    shares.set(e.pod, share);
  }
  return shares;
}

/** A capture point of the probe connection. */
export interface ServiceCaptureHop {
  /** Unique among the lab's capture points: `nodeA-eth0`, `nodeA-eth0-in`. */
  name: string;
  target: { node: string; pod?: string };
  interface: string;
  filter: string;
}

/**
 * The capture points the probe crosses to each endpoint pod, in path order, and their
 * union (captured at once, since which endpoint a connection lands on is decided by
 * the rules at random). `plans` holds the datapath plan from pod A to each endpoint;
 * an outside client's route is its own eth0, node A's eth0 on the way in, then the
 * plan's hops after pod A's side of node A.
 */
export function serviceCaptureRoutes(
  lab: LabDefinition,
  plans: ReadonlyMap<string, DatapathPlan>,
): { hops: ServiceCaptureHop[]; routes: Map<string, ServiceCaptureHop[]> } {
  const s = setupOf(lab);
  const ports = [...new Set([s.target.port, ...s.endpoints.map((e) => e.port)])];
  const tcp = ports.map((p) => `tcp port ${p}`).join(' or ');
  const podA = lab.network.pods.find((p) => p.name === 'podA');
  const union = new Map<string, ServiceCaptureHop>();
  const routes = new Map<string, ServiceCaptureHop[]>();
  const toHop = (h: PlanHop): ServiceCaptureHop => {
    const name = `${h.location.name}-${h.interface}`;
    const target =
      h.location.kind === 'pod'
        ? { node: h.location.node ?? h.location.name, pod: h.location.name }
        : { node: h.location.name };
    return {
      name,
      target,
      interface: h.interface,
      filter: h.encapsulation ? h.filter : tcp,
    };
  };
  for (const e of s.endpoints) {
    const plan = plans.get(e.pod);
    if (!plan) throw new Error(`no datapath plan to ${e.pod}`);
    let route: ServiceCaptureHop[];
    if (s.client.kind === 'pod') route = plan.hops.map(toHop);
    else {
      const entry = s.target.node;
      const crossNode = e.node !== entry;
      route = [
        {
          name: `${s.client.name}-eth0`,
          target: { node: s.client.name },
          interface: 'eth0',
          filter: tcp,
        },
        { name: `${entry}-eth0-in`, target: { node: entry }, interface: 'eth0', filter: tcp },
        ...plan.hops
          .filter((h) => h.location.kind !== 'pod' || h.location.name !== 'podA')
          .filter((h) => h.interface !== podA?.hostInterface)
          .filter((h) => !(crossNode && h.location.name === entry && h.interface === 'cni0'))
          .map(toHop),
      ];
    }
    routes.set(e.pod, route);
    for (const h of route) if (!union.has(h.name)) union.set(h.name, h);
  }
  return { hops: [...union.values()], routes };
}
