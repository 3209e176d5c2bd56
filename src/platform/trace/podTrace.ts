/**
 * `tracePods`: one action that traces a probe between two pods of a real cluster.
 * It reads the two pods and their nodes from the API, detects the CNI mode, reaches
 * the nodes through a NodeShell (kind nodes by `<provider> exec`; any other cluster
 * through an injected shell, such as a node-shell pod), reads each node's real state
 * and builds the live hop plan from it, stops before anything is captured when that
 * state contradicts the mode, then captures at every hop on both nodes at once while
 * pod A probes pod B, stops cleanly and analyzes the pcaps with the core — the same
 * report as `podpath lab run` and `podpath analyze`.
 *
 * Cancelling (the signal) stops every capture and the probe; a shell the hook made is
 * disposed of whatever happens, so nothing is left running on the nodes.
 */
import { homedir } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  detectNetwork,
  planInputFromCluster,
  summarizeNode,
  summarizePod,
} from '../../core/cluster/detect';
import type { NetworkDetection, NodeSummary, PodSummary } from '../../core/cluster/types';
import { buildLivePlan } from '../../core/datapath/livePlan';
import type { NodeStateDump } from '../../core/datapath/livePlan';
import type { CniMode, DatapathPlan, PlanHop, Probe } from '../../core/datapath/types';
import type { AnalysisReport } from '../../core/hops/types';
import { analyzeCaptureFiles } from '../capture/analyzeFiles';
import type { CaptureHop, CaptureLimitHit } from '../capture/captureSession';
import { captureHops } from '../capture/captureSession';
import type { PlacedProbeOutcome } from './podProbe';
import { runPodProbe } from './podProbe';
import { ClusterClient, loadKubeConfigSet } from '../kube/kubeClient';
import { KUBE_PATHS, readNetworkObjects, slimNode } from '../kube/clusterReader';
import { kubeconfigFiles } from '../kube/kubeconfig';
import { KindNodeShell, parseKindProviderId } from '../shells/kindShell';
import type { NodeShellConsentRequest } from '../shells/nodeShellConsent';
import { cleanupNodeShellPods, createPodNodeShell } from '../shells/podShell';
import type { NodeShell, ShellTarget } from '../shells/nodeShell';
import { readNodeState, readPodLinks } from '../shells/nodeState';

/** The probe pod A sends to pod B: `{protocol: 'icmp'}`, or tcp / udp with a port. */
export type TraceProbe = Probe;

/** The steps `onProgress` reports, in order. */
export type TraceStep =
  | 'connect'
  | 'pods'
  | 'detect'
  | 'shell'
  | 'state'
  | 'plan'
  | 'capture'
  | 'probe'
  | 'stop'
  | 'analyze';

/** A node as the `nodeShellFor` hook gets it. */
export interface TraceNode {
  name: string;
  providerId: string | null;
  internalIP: string | null;
}

/** A shell the hook made; `dispose` (when present) removes what it created (node-shell pods). */
export type TraceNodeShell = NodeShell & { dispose?: () => Promise<void> };

export interface TraceLimits {
  /** Longest the captures may run, in seconds (default 60). */
  durationSeconds?: number;
  /** Bytes of pcap per hop before that capture stops (default 100 MB). */
  maxBytesPerHop?: number;
  /** Bytes kept of each packet (`tcpdump -s`; default: whole packets). */
  snaplen?: number;
}

export interface TracePodsOptions {
  /** Kubeconfig file(s) (path-list like KUBECONFIG); default KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  /** Context to use; default the current context. */
  context?: string;
  /** A connected client instead of kubeconfig/context (the extension's open cluster). */
  client?: ClusterClient;
  /** Pod A, the probe's source: `NAMESPACE/NAME` (`NAME` alone means namespace default). */
  podA: string;
  /** Pod B, the probe's destination. */
  podB: string;
  /** Default ICMP (ping). */
  probe?: TraceProbe;
  /**
   * The container of pod A the probe runs in (default its first). The probe runs from pod A's
   * network namespace on its node instead when it cannot start there (see podProbe.ts).
   */
  probeContainer?: string;
  /** Folder for the pcaps and their text renderings (created when missing). */
  outDir: string;
  limits?: TraceLimits;
  signal?: AbortSignal;
  onProgress?: (step: TraceStep, message: string) => void;
  /**
   * Reaches nodes that are not kind nodes (a node-shell pod per node, after the person
   * agreed). Without it such clusters fail with a TraceError at the `shell` step.
   */
  nodeShellFor?: (nodes: readonly TraceNode[], signal?: AbortSignal) => Promise<TraceNodeShell>;
  /**
   * Reaches nodes that are not kind nodes through a short-lived privileged pod per node
   * (PodNodeShell), created only when `confirm` (the person's answer) says yes, deleted when
   * the trace ends; pods a dead trace left behind are deleted first. Used when
   * `nodeShellFor` is absent.
   */
  nodeShellPods?: {
    confirm: (request: NodeShellConsentRequest) => Promise<boolean>;
    image?: string;
    namespace?: string;
    /** Where the node's root is seen from the node-shell container (PodNodeShellOptions). */
    hostRoot?: string;
  };
  /**
   * Capture even when the live plan lists problems (to see where the probe stops);
   * default false: the trace stops before capturing and the TraceError carries them.
   */
  captureDespiteProblems?: boolean;
}

/** One hop of the plan as the result shows it. */
export interface TraceHop {
  name: string;
  node: string;
  /** `NAMESPACE/NAME` for hops inside a pod. */
  pod?: string;
  interface: string;
  filter: string;
}

export interface TraceFile {
  hop: string;
  pcap: string;
  text: string;
  packets: number;
  bytes: number;
  /** A limit stopped this capture early. */
  limitedBy?: CaptureLimitHit;
}

export interface TraceTimings {
  /** API reads, detection, node state and the live plan. */
  planMs: number;
  /** Until every capture listened. */
  captureStartMs: number;
  probeMs: number;
  stopMs: number;
  /** Text renderings and the analysis. */
  analysisMs: number;
  totalMs: number;
}

export interface TraceResult {
  /** The API server and, for kind, the kind cluster's name and provider. */
  cluster: { server: string; kind: { name: string; provider: string } | null };
  context: string;
  mode: CniMode;
  plan: { title: string; hops: TraceHop[]; notes: string[]; problems: string[] };
  /** The full live plan (what the analysis and the diagram use). */
  datapath: DatapathPlan;
  report: AnalysisReport;
  files: TraceFile[];
  /** The probe's outcome and where it ran (`ranIn`, and the `fallback` reason when not in pod A). */
  probe: PlacedProbeOutcome | null;
  /** One sentence per limit that stopped a capture; empty when none did. */
  limits: string[];
  outDir: string;
  timings: TraceTimings;
}

/** A trace that cannot go on: the step and one sentence (plus the plan's problems). */
export class TraceError extends Error {
  override readonly name = 'TraceError';
  constructor(
    readonly step: TraceStep,
    message: string,
    readonly problems: string[] = [],
    readonly plan: DatapathPlan | null = null,
  ) {
    super(message);
  }
}

/** `icmp`, `tcp:80`, `udp:53` → a TraceProbe; undefined for anything else. */
export function parseTraceProbe(text: string): TraceProbe | undefined {
  if (text === 'icmp') return { protocol: 'icmp' };
  const m = /^(tcp|udp):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) return undefined;
  return { protocol: m[1] as 'tcp' | 'udp', port };
}

/** `ns/name` or `name` → its parts; throws a TraceError for anything else. */
export function parsePodRef(text: string): { namespace: string; name: string } {
  const parts = text.split('/');
  const [namespace, name] = parts.length === 1 ? ['default', parts[0]] : parts;
  // DNS names as the API takes them (upper case too: the offline lab names its pods podA, podB).
  const dns = /^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$/;
  if (parts.length > 2 || !namespace || !name || !dns.test(namespace) || !dns.test(name)) {
    throw new TraceError('pods', `"${text}" is not a pod reference; give it as NAMESPACE/NAME.`);
  }
  return { namespace, name };
}

function clientFor(options: TracePodsOptions): ClusterClient {
  if (options.client) return options.client;
  const files = kubeconfigFiles(options.kubeconfig ?? '', process.env, homedir());
  return new ClusterClient(loadKubeConfigSet(files), options.context);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

interface PodFacts {
  ref: string;
  namespace: string;
  name: string;
  summary: PodSummary;
  /** spec.containers' names, in order. */
  containers: string[];
}

async function readPod(
  client: ClusterClient,
  text: string,
  signal?: AbortSignal,
): Promise<PodFacts> {
  const { namespace, name } = parsePodRef(text);
  const raw = await client.get(
    `/api/v1/namespaces/${namespace}/pods/${name}`,
    { verb: 'get', resource: 'pods', namespace, name },
    signal,
  );
  if (raw === null) {
    throw new TraceError(
      'pods',
      `There is no pod ${namespace}/${name} in context ${client.context}.`,
    );
  }
  const summary = summarizePod(raw);
  if (summary.phase !== 'Running') {
    throw new TraceError(
      'pods',
      `Pod ${namespace}/${name} is ${summary.phase ?? 'in no phase'}, not Running: there is nothing to trace yet.`,
    );
  }
  const spec = (raw as { spec?: { containers?: { name?: unknown }[] } }).spec;
  const containers = (spec?.containers ?? [])
    .map((c) => c.name)
    .filter((n): n is string => typeof n === 'string');
  return { ref: `${namespace}/${name}`, namespace, name, summary, containers };
}

async function chooseShell(
  client: ClusterClient,
  nodes: readonly (NodeSummary & { providerId: string | null })[],
  options: TracePodsOptions,
): Promise<{ shell: TraceNodeShell; kind: TraceResult['cluster']['kind'] }> {
  const kinds = nodes.map((n) => (n.providerId ? parseKindProviderId(n.providerId) : undefined));
  const first = kinds[0];
  if (
    first &&
    kinds.every((k) => k && k.provider === first.provider && k.cluster === first.cluster)
  ) {
    // A kind node's container is named after the node.
    return {
      shell: new KindNodeShell({ cluster: first.cluster, provider: first.provider }),
      kind: { name: first.cluster, provider: first.provider },
    };
  }
  if (options.nodeShellFor) {
    const shell = await options.nodeShellFor(
      nodes.map((n) => ({ name: n.name, providerId: n.providerId, internalIP: n.internalIP })),
      options.signal,
    );
    return { shell, kind: null };
  }
  if (options.nodeShellPods) {
    const { confirm, image, namespace, hostRoot } = options.nodeShellPods;
    // Pods of traces that died (their process is gone, or their deadline passed) go first.
    await cleanupNodeShellPods(client, { signal: options.signal }).catch(() => []);
    const shell = createPodNodeShell({
      client,
      confirm,
      image,
      namespace,
      ...(hostRoot !== undefined ? { hostRoot } : {}),
      onProgress: (message) => options.onProgress?.('shell', message),
    });
    // prepare deletes what it made when it fails or is refused.
    await shell.prepare(
      nodes.map((n) => n.name),
      options.signal,
    );
    return { shell, kind: null };
  }
  throw new TraceError(
    'shell',
    `Node${nodes.length > 1 ? 's' : ''} ${nodes.map((n) => n.name).join(' and ')} ${nodes.length > 1 ? 'are' : 'is'} not kind nodes; reaching them needs a privileged node-shell pod on each, created only with your consent (in the editor a dialog asks; on the command line add --node-shell-pods).`,
  );
}

/**
 * Traces a probe from pod A to pod B at every hop of the cluster's datapath and analyzes
 * it. Throws TraceError (a step and a sentence; for plan problems, the problems and the
 * plan) when the trace cannot go on, KubeError when the cluster cannot be reached or read,
 * and the signal's reason when cancelled. Nothing it started is left running either way.
 */
export async function tracePods(options: TracePodsOptions): Promise<TraceResult> {
  const { signal } = options;
  const say = (step: TraceStep, message: string): void => options.onProgress?.(step, message);
  const t0 = Date.now();
  const probe: TraceProbe = options.probe ?? { protocol: 'icmp' };
  const outDir = resolve(options.outDir);
  const limits = options.limits ?? {};

  const client = clientFor(options);
  say('connect', `Reading context ${client.context} at ${client.server}`);
  const [podA, podB] = await Promise.all([
    readPod(client, options.podA, signal),
    readPod(client, options.podB, signal),
  ]);
  say(
    'pods',
    `${podA.ref} (${podA.summary.podIP ?? '?'}) on ${podA.summary.node ?? '?'} → ${podB.ref} (${podB.summary.podIP ?? '?'}) on ${podB.summary.node ?? '?'}`,
  );

  const [nodeList, network] = await Promise.all([
    client.list(KUBE_PATHS.nodes, { verb: 'list', resource: 'nodes' }, slimNode, { signal }),
    readNetworkObjects(client, signal),
  ]);
  const detection: NetworkDetection = detectNetwork({ nodes: nodeList.items, ...network.objects });
  const nodes = nodeList.items.map((raw) => ({
    ...summarizeNode(raw),
    providerId: str((raw['spec'] as Record<string, unknown> | undefined)?.['providerID']),
  }));
  const pair = planInputFromCluster(detection, nodes, podA.summary, podB.summary);
  if (!pair.ok) throw new TraceError('detect', pair.reason);
  const mode = pair.input.mode;
  say(
    'detect',
    `${detection.cni}, ${mode}${detection.evidence[0] ? ` (${detection.evidence[0]})` : ''}`,
  );

  // planInputFromCluster has checked that both nodes were read.
  const usedNodes = nodes.filter(
    (n) => n.name === pair.input.source.node || n.name === pair.input.destination.node,
  );
  const { shell, kind } = await chooseShell(client, usedNodes, options);
  try {
    say(
      'shell',
      kind
        ? `kind cluster ${kind.name} through ${kind.provider} exec`
        : `node shell: ${shell.kind}`,
    );
    signal?.throwIfAborted();

    // Every place a command runs, by the plan's endpoint names.
    const targetOf = new Map<string, ShellTarget>([
      [pair.input.source.name, { node: pair.input.source.node, pod: podA.ref }],
      [pair.input.destination.name, { node: pair.input.destination.node, pod: podB.ref }],
    ]);
    const state: Record<string, NodeStateDump> = {};
    const [linkA, linkB] = await Promise.all([
      readPodLinks(shell, targetOf.get(pair.input.source.name)!, { signal }),
      readPodLinks(shell, targetOf.get(pair.input.destination.name)!, { signal }),
      ...usedNodes.map(async (n) => {
        state[n.name] = await readNodeState(shell, n.name, { signal });
      }),
      ...usedNodes.map((n) => checkTcpdump(shell, n.name, signal)),
    ]);
    say(
      'state',
      `Read links, addresses, routes, neighbours and FDB of ${usedNodes.map((n) => n.name).join(', ')}`,
    );

    const live = buildLivePlan({
      mode,
      source: { ...pair.input.source, link: linkA ?? '' },
      destination: { ...pair.input.destination, link: linkB ?? '' },
      nodes: state,
      probe,
      initialTtl: 64,
    });
    if (!live.plan) {
      throw new TraceError(
        'plan',
        `No plan could be built: ${live.problems.join(' ')}`,
        live.problems,
      );
    }
    const datapath = live.plan;
    const planMs = Date.now() - t0;
    say('plan', `${datapath.title}: ${datapath.hops.length} hops (${planMs} ms)`);
    for (const p of live.problems) say('plan', `Problem: ${p}`);
    if (live.problems.length > 0 && !options.captureDespiteProblems) {
      throw new TraceError(
        'plan',
        `The nodes' state contradicts ${mode}, so nothing was captured: ${live.problems.join(' ')}`,
        live.problems,
        datapath,
      );
    }

    const hops: CaptureHop[] = datapath.hops.map((h) => ({
      name: h.name,
      target: hopPlace(h, targetOf),
      interface: h.interface,
      filter: h.filter,
    }));
    await mkdir(outDir, { recursive: true });
    let outcome: PlacedProbeOutcome | null = null;
    const from = targetOf.get(pair.input.source.name)!;
    const to = pair.input.destination.ip;
    const capture = await captureHops({
      shell,
      hops,
      outDir,
      signal,
      limits: {
        durationMs: (limits.durationSeconds ?? 60) * 1000,
        maxBytesPerHop: limits.maxBytesPerHop ?? 100 * 1024 * 1024,
        ...(limits.snaplen !== undefined ? { snaplen: limits.snaplen } : {}),
      },
      listenTimeoutMs: 20_000,
      stopTimeoutMs: 5000,
      onProgress: (m) => say('capture', m),
      traffic: async (trafficSignal) => {
        say('probe', `${describeProbe(probe)} from ${podA.ref} to ${to}`);
        outcome = await runPodProbe({
          client,
          shell,
          from: { node: from.node, pod: podA.ref },
          namespace: podA.namespace,
          name: podA.name,
          container: probeContainer(podA, options.probeContainer),
          probe,
          to,
          signal: trafficSignal,
        });
        say('probe', `${outcome.summary} — ${outcome.where}`);
      },
    });
    say('stop', `Captures stopped (${capture.timings.stopMs} ms)`);
    signal?.throwIfAborted();

    const ta = Date.now();
    const { report } = await analyzeCaptureFiles(
      capture.files.map((f) => f.pcap),
      { plan: datapath, signal },
    );
    const analysisMs = Date.now() - ta + capture.timings.renderMs;
    say(
      'analyze',
      `${report.hops.filter((h) => h.seen).length}/${report.hops.length} hops saw the probe`,
    );

    const limitNotes: string[] = [];
    if (capture.durationLimitHit) {
      limitNotes.push(`The ${limits.durationSeconds ?? 60} s duration limit stopped the captures.`);
    }
    for (const f of capture.files) {
      if (f.limitedBy === 'size') {
        limitNotes.push(
          `${f.hop} reached its ${limits.maxBytesPerHop ?? 100 * 1024 * 1024} byte limit and stopped early.`,
        );
      }
    }
    return {
      cluster: { server: client.server, kind },
      context: client.context,
      mode,
      plan: {
        title: datapath.title,
        hops: datapath.hops.map((h) => {
          const target = hopPlace(h, targetOf);
          return {
            name: h.name,
            node: target.node,
            ...(target.pod ? { pod: target.pod } : {}),
            interface: h.interface,
            filter: h.filter,
          };
        }),
        notes: datapath.notes,
        problems: live.problems,
      },
      datapath,
      report,
      files: capture.files.map((f) => ({
        hop: f.hop,
        pcap: f.pcap,
        text: f.text,
        packets: f.packets,
        bytes: f.bytes,
        ...(f.limitedBy ? { limitedBy: f.limitedBy } : {}),
      })),
      probe: outcome,
      limits: limitNotes,
      outDir,
      timings: {
        planMs,
        captureStartMs: capture.timings.startMs,
        probeMs: capture.timings.trafficMs,
        stopMs: capture.timings.stopMs,
        analysisMs,
        totalMs: Date.now() - t0,
      },
    };
  } finally {
    await shell.dispose?.().catch(() => undefined);
  }
}

/**
 * tcpdump must be on every node before any capture starts (kind node images ship none):
 * the shell's own sentence says how to install it there.
 */
async function checkTcpdump(shell: NodeShell, node: string, signal?: AbortSignal): Promise<void> {
  try {
    await shell.run({ node }, ['tcpdump', '--version'], { signal, timeoutMs: 15_000 });
  } catch (e) {
    if (signal?.aborted) throw e;
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
    throw new TraceError(
      'state',
      /tcpdump/.test(why) ? why : `tcpdump does not run on ${node}: ${why}`,
    );
  }
}

/** The container the probe runs in, or why there is none. */
function probeContainer(pod: PodFacts, wanted: string | undefined): string | { missing: string } {
  if (wanted !== undefined) {
    return pod.containers.includes(wanted)
      ? wanted
      : {
          missing: `has no container named ${wanted} (it has ${pod.containers.join(', ') || 'none'})`,
        };
  }
  return pod.containers[0] ?? { missing: 'lists no containers' };
}

function hopPlace(hop: PlanHop, targets: ReadonlyMap<string, ShellTarget>): ShellTarget {
  if (hop.location.kind === 'pod') {
    const t = targets.get(hop.location.name);
    if (t) return t;
  }
  return { node: hop.location.name };
}

function describeProbe(p: TraceProbe): string {
  return p.protocol === 'icmp'
    ? 'ICMP echo (ping)'
    : `${p.protocol.toUpperCase()} to port ${p.port} (curl)`;
}
