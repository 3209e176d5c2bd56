/**
 * Turns what the platform and core produce (a capture analysis, a datapath plan, parsed
 * tcpdump text, a kind cluster config, a Service) into the `PanelView` the webview draws.
 * No `vscode` import, so these are unit-tested in plain Node. Each builder also returns
 * a table per hop (`PanelContent.tables`): the host answers the webview's page, filter,
 * follow and layer requests from it, decoding only what is shown, so whole captures never
 * cross to the webview nor stay in memory.
 */
import { basename } from 'node:path';
import type { HopReport } from '../../core/hops/types';
import { inputProblems, lossHeadline } from '../../core/hops/findings';
import type { DatapathPlan } from '../../core/datapath/types';
import { buildSequenceDiagram } from '../../core/diagram/sequenceDiagram';
import type { KindClusterManifest, ServiceManifest } from '../../core/manifests/types';
import { kindNodeNames, kindTopologyDiagram } from '../../core/manifests/kindTopology';
import { describeService } from '../../core/manifests/describeService';
import { buildServiceDiagram } from '../../core/kubeproxy/serviceDiagram';
import { formatShare } from '../../core/kubeproxy/summarizeService';
import type { ExplainedService, ServiceExplanation } from '../../core/kubeproxy/types';
import type { CaptureIssue, Packet } from '../../core/packets/model';
import { summarizePacket } from '../../core/packets/packetSummary';
import type { FileAnalysis } from '../../platform/capture/analyzeFiles';
import type { TraceResult } from '../../platform/trace/podTrace';
import { analysisTables, HopTable } from '../../platform/capture/packetTable';

export { analysisTables };
import type { HopView, PanelView } from '../../protocol';

/** Rows sent with the view per hop (the first page); the webview asks the host for the rest. */
export const MAX_ROWS_PER_HOP = 500;

/** A view and the table behind each hop's rows (same order as `view.hops`). */
export interface PanelContent {
  view: PanelView;
  tables: HopTable[];
  /** Each hop's capture file on this machine (same order as `view.hops`), when kept. */
  files?: string[];
}

/**
 * Gives every hop of `content` its capture file (Reveal, and Open in Wireshark when
 * `wireshark` is installed). `paths` are in hop order, as the capture wrote them.
 */
export function attachCaptureFiles(
  content: PanelContent,
  paths: readonly string[],
  wireshark: boolean,
): PanelContent {
  content.files = content.view.hops.map((_, i) => paths[i] ?? '');
  content.view.hops.forEach((hop, i) => {
    const path = paths[i];
    if (path) hop.capture = { path, wireshark };
  });
  return content;
}

/** What the host does for a `captureFile` message: act on its own path, or say why not. */
export type CaptureFileAction =
  | { kind: 'reveal'; path: string }
  | { kind: 'wireshark'; argv: string[] }
  | { kind: 'refused'; message: string };

/**
 * Decides a `captureFile` request from the webview against the files the host kept for
 * the view shown; the webview only names a hop index, never a path.
 *
 * @param files the shown content's `files` (empty after a reload: the view came back alone).
 * @param wireshark where `wireshark` is on PATH, or undefined when it is not installed.
 */
export function captureFileAction(
  files: readonly string[] | undefined,
  hop: number,
  action: 'reveal' | 'wireshark',
  wireshark: string | undefined,
): CaptureFileAction {
  if (!files || files.length === 0) {
    return {
      kind: 'refused',
      message:
        'This view has no capture files at hand (VS Code was reloaded, or it was not captured here): run the trace again.',
    };
  }
  const path = files[hop];
  if (!path) return { kind: 'refused', message: `Hop ${hop + 1} has no capture file.` };
  if (action === 'reveal') return { kind: 'reveal', path };
  if (!wireshark) {
    return {
      kind: 'refused',
      message: 'Wireshark is not installed (no wireshark on PATH); Reveal shows the pcap instead.',
    };
  }
  // `-r FILE` opens the capture; `--` never applies: the path is ours, absolute.
  return { kind: 'wireshark', argv: [wireshark, '-r', path] };
}

/** `1234` → `1.2 s`, `87` → `87 ms`. */
function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`;
}

/**
 * The panel view of a trace between two pods of a cluster (tracePods): the analysis of its
 * pcaps drawn like a lab run, with the cluster, the probe's outcome, the plan's problems
 * (when captured anyway), the limits that stopped captures, the timings, and each hop's
 * capture file for Reveal / Open in Wireshark.
 */
export async function traceView(
  result: TraceResult,
  analysis: FileAnalysis,
  options: { podA: string; podB: string; wireshark: boolean; maxRows?: number },
): Promise<PanelContent> {
  const content = await analysisView(analysis, {
    title: `Trace ${options.podA} → ${options.podB}`,
    plan: result.datapath,
    ...(options.maxRows !== undefined ? { maxRows: options.maxRows } : {}),
  });
  const t = result.timings;
  const view = content.view;
  view.findings = [
    ...result.plan.problems.map((p) => `Plan problem (captured anyway): ${p}`),
    ...view.findings,
    ...result.limits,
  ];
  view.notes.unshift(
    `Context ${result.context}${result.cluster.kind ? ` (kind cluster ${result.cluster.kind.name} through ${result.cluster.kind.provider} exec)` : ''} · ${result.mode}.`,
    ...(result.probe ? [`Probe: ${result.probe.summary}`, `${sentence(result.probe.where)}.`] : []),
    `Timings: plan ${ms(t.planMs)}, captures listening ${ms(t.captureStartMs)}, probe ${ms(t.probeMs)}, stop ${ms(t.stopMs)}, analysis ${ms(t.analysisMs)}; total ${ms(t.totalMs)}.`,
    `Captures (pcap and text per hop) kept in ${result.outDir}.`,
  );
  return attachCaptureFiles(
    content,
    analysis.captures.map((c) => c.path),
    options.wireshark,
  );
}

function issueText(issue: CaptureIssue): string {
  return `${issue.fatal ? 'Stopped at' : 'At'} ${issue.at}: ${issue.message}`;
}

function rowsOf(packets: readonly Packet[], maxRows: number): Pick<HopView, 'rows' | 'truncated'> {
  const shown = packets.length > maxRows ? packets.slice(0, maxRows) : packets;
  return { rows: shown.map(summarizePacket), truncated: packets.length > maxRows };
}

/** One line for the hop list: what the probe looked like at this hop. */
export function hopSummary(hop: HopReport): string {
  const parts: string[] = [];
  if (!hop.seen) parts.push('probe not seen');
  else parts.push(`probe seen ${hop.probesSeen}×`);
  if (hop.ttl !== null) parts.push(`TTL ${hop.ttl}`);
  if (hop.innerLength !== null) parts.push(`${hop.innerLength} B`);
  const e = hop.encapsulation;
  if (e) {
    const details = [e.type.toUpperCase()];
    if (e.vni !== null) details.push(`VNI ${e.vni}`);
    if (e.dstPort !== null) details.push(`UDP ${e.dstPort}`);
    if (hop.overheadBytes !== null) details.push(`+${hop.overheadBytes} B`);
    parts.push(details.join(' '));
  }
  parts.push(`${hop.packets} packets`);
  return parts.join(' · ');
}

/**
 * The panel view of an analysis of capture files (one file per hop). Each hop carries its
 * first page of rows, read back from its file; the rest is paged on request.
 *
 * @param analysis what analyzeCaptureFiles returned.
 * @param options `title`, the plan the analysis was made against, and the rows sent per hop.
 */
export async function analysisView(
  analysis: FileAnalysis,
  options: { title: string; subtitle?: string; plan?: DatapathPlan; maxRows?: number },
): Promise<PanelContent> {
  const maxRows = options.maxRows ?? MAX_ROWS_PER_HOP;
  const { report, captures } = analysis;
  const problems = inputProblems(
    captures.map((c) => ({ file: basename(c.path), format: c.format, issues: c.issues })),
  );
  const tables = analysisTables(analysis);
  const hops: HopView[] = [];
  for (const [i, capture] of captures.entries()) {
    const hop = report.hops.find((h) => h.name === capture.name) ?? report.hops[i];
    const total = capture.records.length;
    // A capture read only in part says nothing about loss: not "✗ not seen".
    const unread = hop && !hop.seen && capture.issues.some((x) => x.fatal);
    const first = await tables[i]!.query({
      filter: '',
      probeOnly: false,
      notSeenAtNextHop: false,
      sort: 'index',
      descending: false,
      offset: 0,
      count: maxRows,
    });
    hops.push({
      name: capture.name,
      packetCount: total,
      seen: hop && !unread ? hop.seen : null,
      summary: unread ? 'could not be read to the end' : hop ? hopSummary(hop) : `${total} packets`,
      rows: first.rows,
      truncated: total > first.rows.length,
      issues: capture.issues.map(issueText),
    });
  }
  const subtitle =
    options.subtitle ??
    [
      // Bad input first: it changes how the rest reads.
      ...problems,
      `${captures.length} hops`,
      options.plan ? options.plan.title : 'no datapath plan',
      lossHeadline(report),
    ].join(' · ');
  return {
    view: {
      kind: 'analysis',
      title: options.title,
      subtitle,
      diagram: report.diagram || null,
      missingHop: report.firstMissingHop,
      findings: [...problems, ...report.findings],
      notes: options.plan ? [...options.plan.notes] : [],
      hops,
    },
    tables,
  };
}

/** The panel view of a datapath plan: its diagram and its hops, with no packets yet. */
export function datapathView(plan: DatapathPlan): PanelContent {
  const from = `${plan.source.name} ${plan.source.ip}`;
  const to = `${plan.destination.name} ${plan.destination.ip}`;
  return {
    view: {
      kind: 'datapath',
      title: plan.title,
      subtitle: `${from} → ${to} · ${plan.hops.length} capture points`,
      diagram: buildSequenceDiagram({ plan }),
      missingHop: null,
      findings: [],
      notes: [...plan.notes],
      hops: plan.hops.map((h) => ({
        name: h.name,
        packetCount: 0,
        seen: null,
        // The name already says where (`02-nodeA-cni0`): the summary says what happens there.
        summary: `${h.description} TTL ${h.expectedTtl}, MTU ${h.mtu}; filter: ${h.filter}`,
        rows: [],
        truncated: false,
        issues: [],
      })),
    },
    tables: plan.hops.map((h) => HopTable.fromPackets(h.name, [])),
  };
}

/** Parsed tcpdump text (a selection or the clipboard) as a single-hop packet table. */
export function packetsView(
  title: string,
  parsed: { packets: Packet[]; issues: CaptureIssue[] },
  maxRows: number = MAX_ROWS_PER_HOP,
): PanelContent {
  const { packets, issues } = parsed;
  const notParsed = issues.filter((i) => !i.fatal).length;
  return {
    view: {
      kind: 'packets',
      title,
      subtitle: `${packets.length} packets${notParsed > 0 ? ` · ${notParsed} lines not understood` : ''}`,
      diagram: null,
      missingHop: null,
      findings: [],
      notes: [],
      hops: [
        {
          name: 'tcpdump',
          packetCount: packets.length,
          seen: null,
          summary: `${packets.length} packets`,
          ...rowsOf(packets, maxRows),
          issues: issues.map(issueText),
        },
      ],
    },
    tables: [HopTable.fromPackets('tcpdump', packets)],
  };
}

/** A kind cluster config drawn as its node containers, networks and CNI. */
export function topologyView(cluster: KindClusterManifest): PanelContent {
  const names = kindNodeNames(cluster);
  const notes = [
    `Nodes: ${names.map((n, i) => `${n} (${cluster.nodes[i]?.role ?? '?'})`).join(', ')}.`,
    'Node IPs are on the Docker network `kind` (172.18.0.0/16 by default); Docker assigns them when kind creates the node containers.',
    `Pod subnet ${cluster.podSubnet ?? '10.244.0.0/16 (kind default)'}: each node gets its own podCIDR from it (a /24), and pods take addresses from their node's.`,
    `Service subnet ${cluster.serviceSubnet ?? '10.96.0.0/12 (kind default)'}: virtual addresses, no interface has them; kube-proxy rules on every node translate them to pod addresses.`,
    cluster.disableDefaultCNI
      ? 'disableDefaultCNI is true: pods stay Pending until a CNI (Flannel or Calico) is installed.'
      : 'kind installs its default CNI (kindnet).',
  ];
  return {
    view: {
      kind: 'topology',
      title: `kind cluster ${cluster.name ?? 'kind'}`,
      subtitle: `${names.length} nodes`,
      diagram: kindTopologyDiagram(cluster),
      missingHop: null,
      findings: [],
      notes,
      hops: [],
    },
    tables: [],
  };
}

/** A Service's type and ports (the kube-proxy chain comes later). */
export function serviceView(service: ServiceManifest): PanelContent {
  const notes = service.ports.map((p) => {
    const target = p.targetPort ? ` → target port ${p.targetPort}` : '';
    const node = p.nodePort !== null ? `, node port ${p.nodePort}` : '';
    return `${p.name ? `${p.name}: ` : ''}port ${p.port ?? '?'}/${p.protocol}${target}${node}`;
  });
  return {
    view: {
      kind: 'service',
      title: `Service ${service.name ?? '(unnamed)'}`,
      subtitle: `${service.type}${service.namespace ? ` · namespace ${service.namespace}` : ''}`,
      diagram: null,
      missingHop: null,
      findings: [describeService(service)],
      notes: notes.length > 0 ? notes : ['No ports.'],
      hops: [],
    },
    tables: [],
  };
}

/**
 * One Service port explained from a node's kube-proxy rules: the diagram (ways in →
 * Service → endpoints with shares and NAT) and the same in words.
 *
 * @param source where the rules came from (a file name), for the subtitle.
 */
export function serviceExplanationView(
  explanation: ServiceExplanation,
  service: ExplainedService,
  source: string,
): PanelContent {
  const endpointLines = service.endpoints.map(
    (e) =>
      `Endpoint ${e.address}: ${formatShare(e.share)} of new connections${e.chain ? ` (${e.chain})` : ''}${e.packets !== undefined ? `, ${e.packets} packets counted` : ''}.`,
  );
  const entries = [
    service.clusterIP ? `cluster IP ${service.clusterIP}` : null,
    service.nodePort !== null ? `node port ${service.nodePort}` : null,
    ...service.externalIPs.map((ip) => `external IP ${ip}`),
    ...service.loadBalancerIPs.map((ip) => `load-balancer IP ${ip}`),
  ].filter((x): x is string => x !== null);
  return {
    view: {
      kind: 'service',
      title: `Service ${service.namespace}/${service.name} · port ${service.port}/${service.protocol}`,
      subtitle: `kube-proxy ${explanation.mode} rules from ${source}`,
      diagram: buildServiceDiagram(service),
      missingHop: null,
      findings:
        service.findings.length > 0
          ? service.findings
          : [`Every way in (${entries.join(', ') || 'none found'}) reaches the endpoints.`],
      notes: [
        ...(endpointLines.length > 0 ? endpointLines : ['No endpoints in the rules.']),
        ...(service.affinitySeconds !== null
          ? [`ClientIP affinity: a client keeps its endpoint for ${service.affinitySeconds} s.`]
          : []),
        ...service.masquerade.map((m) => `Masquerade — ${m}.`),
        ...explanation.notes,
        ...(explanation.unread.length > 0
          ? [`${explanation.unread.length} line(s) of the rules file could not be read.`]
          : []),
      ],
      hops: [],
    },
    tables: [],
  };
}

/** Short lens title for a Service: `Service ClusterIP 80→8080/TCP`. */
export function serviceLensTitle(service: ServiceManifest): string {
  const ports = service.ports.map((p) => {
    const target = p.targetPort && p.targetPort !== String(p.port) ? `→${p.targetPort}` : '';
    return `${p.port ?? '?'}${target}/${p.protocol}`;
  });
  return `Service ${service.type}${ports.length > 0 ? ` ${ports.join(', ')}` : ''}`;
}

/**
 * Whether a value restored from the webview's saved state looks like a PanelView. The state
 * comes back from another process, so the shape is checked before it is shown again.
 */
export function restoredView(state: unknown): PanelView | undefined {
  const isRecord = (x: unknown): x is Record<string, unknown> =>
    typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isRecord(state)) return undefined;
  const candidate = isRecord(state.view) ? state.view : state;
  const kinds = ['analysis', 'datapath', 'packets', 'topology', 'service'];
  if (
    typeof candidate.kind === 'string' &&
    kinds.includes(candidate.kind) &&
    typeof candidate.title === 'string' &&
    typeof candidate.subtitle === 'string' &&
    (candidate.diagram === null || typeof candidate.diagram === 'string') &&
    Array.isArray(candidate.findings) &&
    Array.isArray(candidate.notes) &&
    Array.isArray(candidate.hops)
  ) {
    return candidate as unknown as PanelView;
  }
  return undefined;
}

/** "probed from inside …" → "Probed from inside …" (a pod name may start the sentence too). */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
