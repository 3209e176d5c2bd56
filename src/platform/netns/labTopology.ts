/**
 * Builds and tears down the offline lab topologies (src/core/labs/catalog.ts)
 * in network namespaces: an underlay namespace with a bridge as the switch, a
 * namespace per node and per pod, and whatever the CNI mode programs (cni0,
 * flannel.1, cali* with proxy ARP, vxlan.calico, BIRD daemons). Every name
 * starts with `pp-`, so a crash or a cancel can always be cleaned up by prefix.
 *
 * Commands are plain `ip -n <ns> …` argv through runTool (no `ip netns exec`
 * where netlink can target the namespace directly: it is faster); commands for
 * different namespaces run concurrently, commands for one device in order.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { runTool, startTool, ToolError } from '../exec/runner';
import type { RunOptions, RunResult, ToolProcess } from '../exec/runner';
import type { NodeShell, ShellTarget } from '../shells/nodeShell';
import { NetnsNodeShell } from '../shells/netnsShell';
import type { FaultKind, LabDefinition, LabNodeSpec, LabPodSpec } from '../../core/labs/catalog';
import { renderBirdConfig } from '../../core/labs/birdConfig';
import type { PlanInput } from '../../core/datapath/types';
import { parseIpAddr } from '../../core/netstate/ipLink';
import { bgpEstablished, parseBirdProtocols } from '../../core/netstate/bird';
import { parseIpRoute } from '../../core/netstate/ipRoute';
import type { CleanupReport } from '../../core/labs/runRecord';
import { LAB_PREFIX, linkCreatedBy } from '../../core/labs/runRecord';
import { LAB_RUN_DIR, birdFiles } from './labPaths';
import { acquireLabLock, releaseLabLock } from './labLocks';
import { RunLedger, removeStaleRunsOf } from './labRuns';
import { listNamespaces, sleep } from './netnsQueries';

export { LAB_RUN_DIR, LAB_PREFIX };
export { cleanLeftovers } from './labRuns';
export { labAvailability } from './kernelProbes';

export interface LabInterface {
  name: string;
  mac: string;
  ipv4?: string;
  mtu: number;
  kind: string;
}

export interface LabTopology {
  lab: LabDefinition;
  runId: string;
  /** `{node:'nodeA'}` → node namespace, `{node:'nodeA', pod:'podA'}` → pod namespace, `{node:'underlay'}` → the switch. */
  shell: NodeShell;
  /** All created, every name starts with `pp-`. */
  namespaces: string[];
  /** The run's record of everything it made; teardown removes exactly that. */
  ledger: RunLedger;
  inventory: {
    nodes: { name: string; namespace: string; interfaces: LabInterface[] }[];
    pods: { name: string; node: string; namespace: string; interfaces: LabInterface[] }[];
  };
  /** lab.planInput with the real MACs and names filled in. */
  planInput: PlanInput;
  fault?: FaultKind;
  timings: { buildMs: number };
  /** BIRD daemons (calico-bgp), stopped by teardownLab. */
  daemons: ToolProcess[];
}

const BGP_TIMEOUT_MS = 15_000;
const UNDERLAY_ROLE = 'ul';

/** Raised when a build step fails; the topology has already been removed. */
export class LabBuildError extends Error {
  readonly step: string;
  override readonly cause: unknown;
  constructor(labId: string, step: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`Building lab ${labId} failed at "${step}" (everything it created was removed): ${why}`);
    this.name = 'LabBuildError';
    this.step = step;
    this.cause = cause;
  }
}

/** Namespace name of a lab role: `pp-fv-nodeA`, `pp-fv-podA`, `pp-fv-ul`. */
export function labNamespace(lab: LabDefinition, role: string): string {
  return `${LAB_PREFIX}${lab.network.short}-${role}`;
}

/** Runs argv lists one after the other (their links are already recorded, see runParallel). */
async function runSequence(
  cmds: readonly string[][],
  ledger: RunLedger,
  signal?: AbortSignal,
): Promise<void> {
  for (const argv of cmds) {
    try {
      await runTool(argv, { signal, timeoutMs: 10_000 });
    } catch (e) {
      // `ip` refused to make a root-namespace link: a link of that name is someone else's
      const link = linkCreatedBy(argv);
      if (link && link.namespace === undefined && e instanceof ToolError && e.kind === 'exit')
        await ledger.forgetLink(link);
      throw e;
    }
  }
}

/**
 * Runs independent sequences concurrently; waits for all, then throws the first failure.
 * Every link they create is recorded in the run's ledger first, in one write.
 */
async function runParallel(
  seqs: readonly string[][][],
  ledger: RunLedger,
  signal?: AbortSignal,
): Promise<void> {
  await ledger.addLinks(
    seqs.flat().flatMap((argv) => {
      const link = linkCreatedBy(argv);
      return link ? [link] : [];
    }),
  );
  const results = await Promise.allSettled(seqs.map((s) => runSequence(s, ledger, signal)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function nodeOf(lab: LabDefinition, name: string): LabNodeSpec {
  const node = lab.network.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`lab ${lab.id} has no node ${name}`);
  return node;
}

/** `ip netns exec <ns> sysctl -q -e -w …` (-e: keys a kernel lacks, like bridge-nf-call without br_netfilter, are skipped). */
function sysctl(ns: string, settings: Record<string, string>): string[] {
  return [
    'ip',
    'netns',
    'exec',
    ns,
    'sysctl',
    '-q',
    '-e',
    '-w',
    ...Object.entries(settings).map(([k, v]) => `${k}=${v}`),
  ];
}

function nodeCommands(
  lab: LabDefinition,
  node: LabNodeSpec,
  fault: FaultKind | undefined,
): string[][] {
  const ns = labNamespace(lab, node.name);
  const ipn = (...args: string[]): string[] => ['ip', '-n', ns, ...args];
  const u = lab.network.underlay;
  const onA = node.name === 'nodeA';
  const peers = lab.network.nodes.filter((n) => n.name !== node.name);
  const routing = lab.network.routing;
  const cmds: string[][] = [
    ipn('link', 'set', 'lo', 'up'),
    ipn('addr', 'add', `${node.ip}/${u.prefixLength}`, 'dev', 'eth0'),
    ipn('link', 'set', 'eth0', 'up'),
    ipn('route', 'add', 'default', 'via', u.ip, 'dev', 'eth0'),
    sysctl(ns, {
      'net.ipv4.ip_forward': '1',
      'net.ipv4.conf.all.rp_filter': '0',
      'net.ipv4.conf.default.rp_filter': '0',
      'net.ipv4.conf.all.proxy_arp': '0',
      'net.bridge.bridge-nf-call-iptables': '1',
    }),
  ];
  if (node.bridge) {
    const b = node.bridge;
    cmds.push(
      ipn('link', 'add', b.name, 'address', b.mac, 'mtu', String(b.mtu), 'type', 'bridge'),
      ipn('addr', 'add', `${b.address}/${b.prefixLength}`, 'dev', b.name),
      ipn('link', 'set', b.name, 'up'),
    );
  }
  const t = node.tunnel;
  // the MTU fault is on the pod side: the tunnel keeps its (correct) smaller MTU
  if (t && t.kind === 'vxlan') {
    cmds.push(
      ipn(
        'link',
        'add',
        t.device,
        'address',
        t.mac ?? '',
        'mtu',
        String(t.mtu),
        'type',
        'vxlan',
        'id',
        String(t.vni ?? 1),
        'local',
        node.ip,
        'dev',
        'eth0',
        'dstport',
        String(t.port ?? 4789),
        'nolearning',
      ),
      ipn('addr', 'add', `${t.address}/32`, 'dev', t.device),
      ipn('link', 'set', t.device, 'up'),
    );
    for (const p of peers) {
      const pt = p.tunnel;
      if (!pt) continue;
      cmds.push(
        ipn(
          'neigh',
          'replace',
          pt.address,
          'lladdr',
          pt.mac ?? '',
          'dev',
          t.device,
          'nud',
          'permanent',
        ),
      );
      if (!(onA && fault === 'missing-fdb'))
        cmds.push([
          'bridge',
          '-n',
          ns,
          'fdb',
          'append',
          pt.mac ?? '',
          'dev',
          t.device,
          'dst',
          p.ip,
          'self',
          'permanent',
        ]);
    }
  }
  if (t && t.kind === 'ipip') {
    // the ipip module creates a fallback tunl0 in every namespace; use it like Calico does
    cmds.push(
      ipn('link', 'set', t.device, 'mtu', String(t.mtu), 'up'),
      ipn('addr', 'add', `${t.address}/32`, 'dev', t.device),
    );
  }
  const skipPeerRoute = onA && fault === 'missing-route' && !lab.sameNode;
  for (const p of peers) {
    if (skipPeerRoute) break;
    if (routing === 'flannel-vxlan' && p.tunnel)
      cmds.push(
        ipn('route', 'add', p.podCidr, 'via', p.tunnel.address, 'dev', 'flannel.1', 'onlink'),
      );
    else if (routing === 'flannel-host-gw')
      cmds.push(ipn('route', 'add', p.podCidr, 'via', p.ip, 'dev', 'eth0'));
    else if (routing === 'calico-vxlan' && p.tunnel)
      cmds.push(
        ipn(
          'route',
          'add',
          p.podCidr,
          'via',
          p.tunnel.address,
          'dev',
          'vxlan.calico',
          'onlink',
          'proto',
          '80',
        ),
      );
    else if (routing === 'calico-ipip')
      cmds.push(
        ipn('route', 'add', p.podCidr, 'via', p.ip, 'dev', 'tunl0', 'onlink', 'proto', '80'),
      );
  }
  // Felix blackholes the node's own block; with BIRD, the static protocol does it (proto bird)
  if (routing === 'calico-vxlan' || routing === 'calico-ipip')
    cmds.push(ipn('route', 'add', 'blackhole', node.podCidr, 'proto', '80'));
  return cmds;
}

function podCommands(
  lab: LabDefinition,
  pod: LabPodSpec,
  fault: FaultKind | undefined,
): string[][] {
  const nodeNs = labNamespace(lab, pod.node);
  const podNs = labNamespace(lab, pod.name);
  const ipn = (...args: string[]): string[] => ['ip', '-n', nodeNs, ...args];
  const ipp = (...args: string[]): string[] => ['ip', '-n', podNs, ...args];
  const node = nodeOf(lab, pod.node);
  const mtu = fault === 'mtu-mismatch' && pod.name === 'podA' ? 1500 : pod.mtu;
  const cmds: string[][] = [
    ipn(
      'link',
      'add',
      pod.hostInterface,
      'address',
      pod.hostMac,
      'mtu',
      String(mtu),
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'address',
      pod.mac,
      'mtu',
      String(mtu),
      'netns',
      podNs,
    ),
  ];
  if (node.bridge) {
    cmds.push(ipn('link', 'set', pod.hostInterface, 'master', node.bridge.name, 'up'), [
      'bridge',
      '-n',
      nodeNs,
      'link',
      'set',
      'dev',
      pod.hostInterface,
      'hairpin',
      'on',
    ]);
  } else {
    const h = pod.hostInterface;
    cmds.push(
      ipn('link', 'set', h, 'up'),
      // proxy ARP answers the pod's ARP for 169.254.1.1 with ee:ee:ee:ee:ee:ee;
      // proxy_delay 0 answers at once instead of after up to 0.8 s (as Felix sets it)
      sysctl(nodeNs, {
        [`net.ipv4.conf.${h}.proxy_arp`]: '1',
        [`net.ipv4.neigh.${h}.proxy_delay`]: '0',
        [`net.ipv4.conf.${h}.forwarding`]: '1',
      }),
    );
    const faultHere =
      lab.sameNode && pod.name === 'podB' && (fault === 'missing-route' || fault === 'blackhole');
    if (!faultHere) cmds.push(ipn('route', 'add', pod.ip, 'dev', h, 'scope', 'link'));
    else if (fault === 'blackhole') cmds.push(ipn('route', 'add', 'blackhole', `${pod.ip}/32`));
  }
  cmds.push(
    ipp('link', 'set', 'lo', 'up'),
    ipp('addr', 'add', `${pod.ip}/${pod.prefixLength}`, 'dev', 'eth0'),
    ipp('link', 'set', 'eth0', 'up'),
  );
  if (node.bridge) {
    const gw = node.bridge.address;
    cmds.push(
      ipp('route', 'add', lab.network.clusterCidr, 'via', gw, 'dev', 'eth0'),
      ipp('route', 'add', 'default', 'via', gw, 'dev', 'eth0'),
    );
  } else {
    cmds.push(
      ipp('route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link'),
      ipp('route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0'),
    );
  }
  return cmds;
}

async function startBird(
  lab: LabDefinition,
  fault: FaultKind | undefined,
  signal: AbortSignal | undefined,
  daemons: ToolProcess[],
  ledger: RunLedger,
): Promise<void> {
  await mkdir(LAB_RUN_DIR, { recursive: true, mode: 0o700 });
  const nodes = lab.network.nodes;
  const peerPod = lab.network.pods.find((p) => p.name === 'podB');
  for (const node of nodes) {
    const ns = labNamespace(lab, node.name);
    const files = birdFiles(ns);
    const onA = node.name === 'nodeA';
    const conf = renderBirdConfig({
      node: node.name,
      routerId: node.ip,
      sourceAddress: node.ip,
      asn: lab.network.bgpAsn ?? 64512,
      block: node.podCidr,
      pool: lab.network.clusterCidr,
      peers: nodes.filter((n) => n !== node).map((n) => ({ ip: n.ip })),
      logPath: files.log,
      // calico-node waits 2 s; the lab connects at once so a run stays short
      connectDelaySeconds: 1,
      rejectFromPeers:
        onA && fault === 'missing-route' && !lab.sameNode
          ? nodes.filter((n) => n !== node).map((n) => n.podCidr)
          : undefined,
      // a blackhole for the peer pod must not be advertised back to the peer
      ignoreKernelRoutes:
        onA && fault === 'blackhole' && peerPod ? [`${peerPod.ip}/32`] : undefined,
    });
    await ledger.addFiles([files.conf, files.socket, files.log]);
    await rm(files.socket, { force: true });
    await writeFile(files.conf, conf);
    const argv = ['ip', 'netns', 'exec', ns, 'bird', '-f', '-c', files.conf, '-s', files.socket];
    const proc = startTool(argv, { signal });
    daemons.push(proc);
    // `ip netns exec` execs bird in place: the pid is BIRD's
    await ledger.addProcess(proc.pid, argv);
  }
}

async function waitForBgp(
  lab: LabDefinition,
  fault: FaultKind | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + BGP_TIMEOUT_MS;
  const nodes = lab.network.nodes;
  const pending = new Set(nodes.map((n) => n.name));
  let last = '';
  while (pending.size > 0) {
    for (const node of nodes) {
      if (!pending.has(node.name)) continue;
      const ns = labNamespace(lab, node.name);
      const protocols = await runTool(['birdc', '-s', birdFiles(ns).socket, 'show', 'protocols'], {
        signal,
        timeoutMs: 2000,
      }).then(
        (r) => parseBirdProtocols(r.stdout),
        (e: unknown) => {
          if (e instanceof ToolError && e.kind === 'cancelled') throw e;
          return [];
        },
      );
      if (!bgpEstablished(protocols)) {
        last = `${node.name}: BGP not Established (${protocols.map((p) => `${p.name} ${p.info || p.state}`).join(', ') || 'BIRD not answering'})`;
        continue;
      }
      const rejecting = node.name === 'nodeA' && fault === 'missing-route' && !lab.sameNode;
      const wanted = rejecting ? [] : nodes.filter((n) => n !== node).map((n) => n.podCidr);
      const routes = parseIpRoute(
        (await runTool(['ip', '-n', ns, 'route', 'show', 'proto', 'bird'], { signal })).stdout,
      );
      const missing = wanted.filter(
        (w) => !routes.some((r) => r.destination === w && r.type === 'unicast'),
      );
      if (missing.length === 0) pending.delete(node.name);
      else last = `${node.name}: Established but ${missing.join(', ')} not yet in the kernel`;
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline)
      throw new Error(`BGP did not converge within ${BGP_TIMEOUT_MS / 1000} s (${last})`);
    await sleep(100, signal);
  }
}

function toInterfaces(text: string): LabInterface[] {
  return parseIpAddr(text)
    .filter((l) => l.name !== 'lo')
    .map((l) => {
      const iface: LabInterface = {
        name: l.name,
        mac: l.mac ?? '',
        mtu: l.mtu,
        kind: l.kind ?? l.linkType ?? '',
      };
      const v4 = l.addresses.find((a) => a.family === 'inet');
      if (v4) iface.ipv4 = `${v4.address}/${v4.prefixLength}`;
      return iface;
    });
}

async function readInterfaces(ns: string, signal?: AbortSignal): Promise<LabInterface[]> {
  const r = await runTool(['ip', '-d', '-n', ns, 'addr', 'show'], { signal });
  return toInterfaces(r.stdout);
}

async function stopDaemons(daemons: readonly ToolProcess[]): Promise<void> {
  await Promise.all(
    daemons.map(async (d) => {
      d.stop('SIGTERM');
      const exited = await Promise.race([
        d.done.then(
          () => true,
          () => true,
        ),
        sleep(2000).then(() => false),
      ]);
      if (!exited) d.stop('SIGKILL');
    }),
  );
}

/**
 * Builds `lab` in network namespaces, recording each thing in a run record before it
 * makes it. Removes this lab's own leftovers (runs whose process is gone) first, and
 * refuses to start when a namespace it needs exists and no run recorded it. On any
 * failure or abort it removes everything it made, then throws: a ToolError of kind
 * `cancelled` on abort, a LabBuildError otherwise.
 */
export async function buildLab(
  lab: LabDefinition,
  options: { signal?: AbortSignal; onProgress?: (step: string) => void; fault?: FaultKind } = {},
): Promise<LabTopology> {
  const { signal, onProgress, fault } = options;
  const started = Date.now();
  if (fault !== undefined && !lab.faults.includes(fault))
    throw new Error(
      `Fault ${fault} does not apply to lab ${lab.id} (it supports: ${lab.faults.join(', ') || 'none'})`,
    );
  const roles = [
    UNDERLAY_ROLE,
    ...lab.network.nodes.map((n) => n.name),
    ...lab.network.pods.map((p) => p.name),
  ];
  const planned = roles.map((r) => labNamespace(lab, r));
  const daemons: ToolProcess[] = [];
  let locked = false;
  let ledger: RunLedger | undefined;
  let step = 'remove leftovers of this lab';
  const progress = (s: string): void => {
    step = s;
    onProgress?.(s);
  };
  const checkAbort = (): void => {
    if (signal?.aborted) throw new ToolError('cancelled', ['buildLab', lab.id], null, '');
  };

  try {
    progress('wait for the lab to be free');
    await acquireLabLock(lab, signal);
    locked = true;
    progress('remove leftovers of this lab');
    await removeStaleRunsOf(lab);
    const taken = (await listNamespaces(signal)).filter((n) => planned.includes(n));
    if (taken.length > 0)
      throw new Error(
        `${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''} and no Podpath run recorded ${taken.length === 1 ? 'it' : 'them'}: Podpath leaves what it did not make alone; remove ${taken.length === 1 ? 'it' : 'them'} yourself (\`ip netns del NAME\`) if ${taken.length === 1 ? 'it is' : 'they are'} not in use`,
      );
    const run = await RunLedger.open(lab);
    ledger = run;
    checkAbort();

    progress('create namespaces');
    await run.addNamespaces(planned);
    const created = await Promise.allSettled(
      planned.map(async (ns) => {
        try {
          await runTool(['ip', 'netns', 'add', ns], { signal, timeoutMs: 10_000 });
        } catch (e) {
          // refused: not made, so not ours; cut short: it may exist, so it stays recorded
          if (e instanceof ToolError && e.kind === 'exit') await run.forgetNamespace(ns);
          throw e;
        }
      }),
    );
    await run.namespacesCreated(planned);
    const failed = created.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    checkAbort();

    progress('underlay switch');
    const ul = labNamespace(lab, UNDERLAY_ROLE);
    const u = lab.network.underlay;
    await runParallel(
      [
        [
          ['ip', '-n', ul, 'link', 'set', 'lo', 'up'],
          [
            'ip',
            '-n',
            ul,
            'link',
            'add',
            u.bridge,
            'address',
            u.mac,
            'mtu',
            String(u.mtu),
            'type',
            'bridge',
          ],
          ['ip', '-n', ul, 'addr', 'add', `${u.ip}/${u.prefixLength}`, 'dev', u.bridge],
          ['ip', '-n', ul, 'link', 'set', u.bridge, 'up'],
        ],
      ],
      run,
      signal,
    );
    await runParallel(
      lab.network.nodes.map((n) => [
        [
          'ip',
          '-n',
          ul,
          'link',
          'add',
          n.underlayPort,
          'address',
          n.underlayPortMac,
          'type',
          'veth',
          'peer',
          'name',
          'eth0',
          'address',
          n.mac,
          'netns',
          labNamespace(lab, n.name),
        ],
        ['ip', '-n', ul, 'link', 'set', n.underlayPort, 'master', u.bridge, 'up'],
      ]),
      run,
      signal,
    );
    checkAbort();

    progress('nodes');
    await runParallel(
      lab.network.nodes.map((n) => nodeCommands(lab, n, fault)),
      run,
      signal,
    );
    checkAbort();

    progress('pods');
    await runParallel(
      lab.network.pods.map((p) => podCommands(lab, p, fault)),
      run,
      signal,
    );
    if (fault === 'blackhole' && !lab.sameNode) {
      const podB = lab.network.pods.find((p) => p.name === 'podB');
      if (podB)
        await runTool(
          ['ip', '-n', labNamespace(lab, 'nodeA'), 'route', 'add', 'blackhole', `${podB.ip}/32`],
          {
            signal,
          },
        );
    }
    checkAbort();

    if (lab.network.routing === 'calico-bgp') {
      progress('start BIRD');
      await startBird(lab, fault, signal, daemons, run);
      progress('wait for BGP Established and routes');
      await waitForBgp(lab, fault, signal);
    }
    checkAbort();

    progress('inventory');
    const nodes = await Promise.all(
      lab.network.nodes.map(async (n) => {
        const namespace = labNamespace(lab, n.name);
        return { name: n.name, namespace, interfaces: await readInterfaces(namespace, signal) };
      }),
    );
    const pods = await Promise.all(
      lab.network.pods.map(async (p) => {
        const namespace = labNamespace(lab, p.name);
        return {
          name: p.name,
          node: p.node,
          namespace,
          interfaces: await readInterfaces(namespace, signal),
        };
      }),
    );
    checkAbort();

    const byTarget = new Map<string, string>();
    byTarget.set(`underlay`, ul);
    for (const n of nodes) byTarget.set(n.name, n.namespace);
    for (const p of pods) byTarget.set(`${p.node}/${p.name}`, p.namespace);
    const netns = new NetnsNodeShell((t: ShellTarget) => {
      const key = t.pod !== undefined ? `${t.node}/${t.pod}` : t.node;
      const ns = byTarget.get(key);
      if (!ns)
        throw new Error(
          `lab ${lab.id} has no ${t.pod !== undefined ? `pod ${t.pod} on ` : ''}node ${t.node}`,
        );
      return ns;
    });

    const topology: LabTopology = {
      lab,
      runId: run.runId,
      shell: recordingShell(netns, run),
      namespaces: [...planned],
      ledger: run,
      inventory: { nodes, pods },
      planInput: fillPlanInput(lab.planInput, nodes, pods),
      timings: { buildMs: Date.now() - started },
      daemons,
    };
    if (fault !== undefined) topology.fault = fault;
    return topology;
  } catch (e) {
    await stopDaemons(daemons).catch(() => undefined);
    // the record lists everything this run made, including a namespace whose
    // `ip netns add` was cancelled after it had made it
    if (ledger) await ledger.teardown().catch(() => undefined);
    if (locked) await releaseLabLock(lab).catch(() => undefined);
    if (signal?.aborted || (e instanceof ToolError && e.kind === 'cancelled'))
      throw e instanceof ToolError && e.kind === 'cancelled'
        ? e
        : new ToolError('cancelled', ['buildLab', lab.id], null, '');
    throw new LabBuildError(lab.id, step, e);
  }
}

function fillPlanInput(
  input: PlanInput,
  nodes: LabTopology['inventory']['nodes'],
  pods: LabTopology['inventory']['pods'],
): PlanInput {
  const podMac = (name: string): string | undefined =>
    pods.find((p) => p.name === name)?.interfaces.find((i) => i.name === 'eth0')?.mac;
  const nodeMac = (name: string): string | undefined =>
    nodes.find((n) => n.name === name)?.interfaces.find((i) => i.name === 'eth0')?.mac;
  return {
    ...input,
    source: { ...input.source, mac: podMac(input.source.name) ?? input.source.mac },
    destination: {
      ...input.destination,
      mac: podMac(input.destination.name) ?? input.destination.mac,
    },
    nodes: input.nodes.map((n) => ({ ...n, mac: nodeMac(n.name) ?? n.mac })),
  };
}

/**
 * Wraps the lab's shell so every process it starts (tcpdump, iperf3) is recorded with
 * the run: if the owner dies mid-capture, clean-up stops exactly those.
 */
function recordingShell(inner: NodeShell, ledger: RunLedger): NodeShell {
  return {
    kind: inner.kind,
    run: (target: ShellTarget, argv: readonly string[], options?: RunOptions): Promise<RunResult> =>
      inner.run(target, argv, options),
    start: (target: ShellTarget, argv: readonly string[], options?: RunOptions): ToolProcess => {
      const proc = inner.start(target, argv, options);
      void ledger.addProcess(proc.pid, argv).catch(() => undefined);
      return proc;
    },
  };
}

/**
 * Stops the lab's daemons and removes exactly what its run record lists (namespaces
 * and everything in them, links, files), then the record and the lab's lock.
 */
export async function teardownLab(
  topology: LabTopology,
): Promise<{ durationMs: number; report: CleanupReport }> {
  const started = Date.now();
  await stopDaemons(topology.daemons);
  const report = await topology.ledger.teardown();
  await releaseLabLock(topology.lab);
  return { durationMs: Date.now() - started, report };
}
