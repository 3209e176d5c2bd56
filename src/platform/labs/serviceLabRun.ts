/**
 * The Service labs' run, after the flannel-vxlan topology is built: kube-proxy's rules
 * written into both node namespaces (iptables-restore or nft -f), a small server in each
 * endpoint pod, N requests from the client counted per endpoint and checked against the
 * shares the explainer reads back from the kernel, `conntrack -L` on the nodes worded as
 * DNAT/MASQUERADE, and one probe connection captured at every hop it may cross, analysed
 * along the route of the endpoint that answered.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabDefinition, LabKubeProxyMode } from '../../core/labs/catalog';
import { buildDatapathPlan } from '../../core/datapath/plans';
import type { DatapathPlan } from '../../core/datapath/types';
import type { AnalysisReport } from '../../core/hops/types';
import {
  endpointServerArgv,
  expectedShares,
  labServiceExplained,
  labServicePath,
  requestArgv,
  servedByLines,
  ruleReadArgv,
  serviceCaptureRoutes,
  serviceRuleClearArgv,
  serviceRuleLoads,
} from '../../core/labs/serviceLab';
import { explainServices } from '../../core/kubeproxy/explainService';
import type { ServicePath } from '../../core/kubeproxy/types';
import { parseConntrack, summarizeNat } from '../../core/netstate/conntrack';
import type { NatSummary } from '../../core/netstate/conntrack';
import { checkShares } from '../../core/stats/binomial';
import type { ShareCheck } from '../../core/stats/binomial';
import { natSteps } from '../../core/hops/natSteps';
import type { NatStep, ProbeAddresses } from '../../core/hops/natSteps';
import { innermostIpIndex } from '../../core/hops/packetObservation';
import type { ToolProcess } from '../exec/runner';
import type { ShellTarget } from '../shells/nodeShell';
import type { LabTopology } from '../netns/labBuild';
import type { CapturedHopFile, CaptureTimings } from '../capture/captureSession';
import { captureHops } from '../capture/captureSession';
import { analyzeCaptureFiles, readPage } from '../capture/analyzeFiles';
import type { AnalyzedCapture } from '../capture/analyzeFiles';
import type { Correlation } from '../../core/hops/correlation';

export interface ServiceLabTimings {
  rulesMs: number;
  requestsMs: number;
  conntrackMs: number;
  captureMs: number;
  analyzeMs: number;
}

export interface ServiceLabResult {
  kubeProxy: LabKubeProxyMode;
  /** The explainer's path the requests take, read back from node A's rules. */
  path: {
    entry: string;
    from: string;
    endpoints: { pod: string; address: string; share: number; chain: string | null }[];
    masquerade: boolean;
  };
  /** True when the rules read back from every node explain the same as the rules written. */
  rulesAgree: boolean;
  requests: number;
  /** Requests that got no endpoint's name back. */
  failed: number;
  /** Requests served per endpoint pod. */
  counts: Record<string, number>;
  shares: ShareCheck[];
  /** Affinity labs: every request on one endpoint. */
  affinity?: { ok: boolean; endpoint: string | null };
  /** Local-policy labs: only endpoints on the entry node answered. */
  localOnly?: { ok: boolean; local: string[]; answered: string[] };
  conntrack: { node: string; nat: NatSummary }[];
  /** The endpoint the probe connection landed on, and the NAT it met hop by hop. */
  probe: { endpoint: string | null; hops: string[]; nat: NatStep[] };
  /** Every check above held. */
  ok: boolean;
  findings: string[];
  timings: ServiceLabTimings;
}

export interface ServicePhaseResult {
  service: ServiceLabResult;
  report: AnalysisReport;
  files: CapturedHopFile[];
  captureTimings: CaptureTimings;
  plan: DatapathPlan;
}

function target(lab: LabDefinition, name: string): ShellTarget {
  const pod = lab.network.pods.find((p) => p.name === name);
  return pod ? { node: pod.node, pod: pod.name } : { node: name };
}

function sameConclusions(a: ServicePath | undefined, b: ServicePath | undefined): boolean {
  if (!a || !b) return a === b;
  // the kernel keeps a probability as a 32-bit fraction: compare shares to 1e-6
  const norm = (p: ServicePath): string =>
    JSON.stringify({
      outcome: p.outcome,
      masquerade: p.masquerade,
      endpoints: p.endpoints.map((e) => [e.address, Math.round(e.share * 1e6), e.chain]),
    });
  return norm(a) === norm(b);
}

/**
 * Everything a Service lab does once its topology is up. Servers it starts are recorded
 * with the run (the lab's shell records them) and stopped before it returns.
 */
export async function runServicePhase(
  topology: LabTopology,
  options: {
    mode: LabKubeProxyMode;
    requests?: number;
    outDir: string;
    signal?: AbortSignal;
    settleMs?: number;
    emit: (phase: 'build' | 'capture' | 'analyze', message: string) => void;
  },
): Promise<ServicePhaseResult> {
  const { lab, shell } = topology;
  const setup = lab.service;
  if (!setup) throw new Error(`lab ${lab.id} is not a Service lab`);
  const { signal, emit, mode } = options;
  const n = options.requests ?? 200;
  const findings: string[] = [];

  // 1. kube-proxy's rules into every node, then read back and explained
  let t = Date.now();
  emit('build', `Writing kube-proxy's ${mode} rules into the nodes`);
  const readBack = new Map<string, string>();
  let rulesAgree = true;
  for (const node of lab.network.nodes) {
    for (const load of serviceRuleLoads(lab, node.name, mode))
      await shell.run({ node: node.name }, load.argv, {
        input: load.input,
        signal,
        timeoutMs: 20_000,
      });
    const read = await shell.run({ node: node.name }, ruleReadArgv(mode), {
      signal,
      timeoutMs: 20_000,
    });
    readBack.set(node.name, read.stdout);
    await writeFile(join(options.outDir, `rules-${node.name}-${mode}.txt`), read.stdout);
    const written = serviceRuleLoads(lab, node.name, mode)[0]!.input;
    const specs = [setup.spec];
    const w = labServiceExplained(lab, explainServices(written, { specs }));
    const r = labServiceExplained(lab, explainServices(read.stdout, { specs }));
    const agree = !!w && !!r && sameConclusions(labServicePath(lab, w), labServicePath(lab, r));
    if (!agree) {
      rulesAgree = false;
      findings.push(
        `${node.name}: the ${mode} rules read back from the kernel do not explain the same as the rules written.`,
      );
    }
  }
  const entryRules = readBack.get(setup.target.node) ?? '';
  const explained = labServiceExplained(lab, explainServices(entryRules, { specs: [setup.spec] }));
  const path = explained ? labServicePath(lab, explained) : undefined;
  if (!path)
    throw new Error(
      `the explainer found no ${setup.entry} path from ${setup.from} for ${setup.spec.namespace}/${setup.spec.name} in ${setup.target.node}'s ${mode} rules`,
    );
  const shares = expectedShares(lab, path);
  const chainOf = new Map(path.endpoints.map((e) => [e.address, e.chain ?? null]));
  const rulesMs = Date.now() - t;

  // 2. a server in every endpoint pod, recorded with the run, stopped at the end
  const servers: ToolProcess[] = [];
  try {
    for (const e of setup.endpoints)
      servers.push(shell.start(target(lab, e.pod), endpointServerArgv(e.pod, e.port), { signal }));
    await Promise.all(setup.endpoints.map((e) => waitListening(topology, e.pod, e.port, signal)));

    // 3. N requests, one after the other from one process (affinity sees the first)
    t = Date.now();
    emit(
      'capture',
      `Sending ${n} requests from ${setup.client.name} to ${setup.target.ip}:${setup.target.port}`,
    );
    const client = target(lab, setup.client.name);
    const send = async (count: number): Promise<(string | undefined)[]> => {
      const r = await shell.run(client, requestArgv(setup.target.ip, setup.target.port, count), {
        signal,
        timeoutMs: 10_000 + count * 4000,
      });
      return servedByLines(lab, r.stdout, count);
    };
    const answers = n > 0 ? await send(n) : [];
    const requestsMs = Date.now() - t;
    const counts: Record<string, number> = {};
    for (const e of setup.endpoints) counts[e.pod] = 0;
    let failed = 0;
    for (const a of answers) {
      if (a === undefined) failed++;
      else counts[a] = (counts[a] ?? 0) + 1;
    }
    emit(
      'capture',
      `${n} requests in ${requestsMs} ms: ${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}${failed ? `, ${failed} failed` : ''}`,
    );
    if (failed > 0) findings.push(`${failed} of ${n} requests got no answer from an endpoint.`);

    const countMap = new Map(Object.entries(counts).filter(([, v]) => v > 0));
    let shareChecks: ShareCheck[] = [];
    let affinity: ServiceLabResult['affinity'];
    let localOnly: ServiceLabResult['localOnly'];
    const answered = [...countMap.keys()];
    if (setup.kind === 'affinity') {
      const endpoint = answered.length === 1 ? answered[0]! : null;
      affinity = { ok: endpoint !== null && failed === 0, endpoint };
      findings.push(
        endpoint
          ? `Session affinity held: all ${n} requests went to ${endpoint}.`
          : `Session affinity did not hold: requests went to ${answered.join(', ')}.`,
      );
    } else {
      shareChecks = checkShares(countMap, shares);
      for (const c of shareChecks)
        findings.push(
          `${c.endpoint}: ${c.count} of ${n} requests, expected share ${(c.share * 100).toFixed(1)} % → ${c.range.low}…${c.range.high} (99.9 %): ${c.ok ? 'ok' : 'OUTSIDE the range'}.`,
        );
    }
    if (setup.kind === 'local') {
      const local = setup.endpoints.filter((e) => e.node === setup.target.node).map((e) => e.pod);
      localOnly = {
        ok: answered.length > 0 && answered.every((a) => local.includes(a)),
        local,
        answered,
      };
      findings.push(
        localOnly.ok
          ? `externalTrafficPolicy Local: only ${setup.target.node}'s endpoint${local.length === 1 ? '' : 's'} (${local.join(', ')}) answered.`
          : `externalTrafficPolicy Local broken: ${answered.join(', ')} answered, only ${local.join(', ')} are on ${setup.target.node}.`,
      );
    }

    // 4. conntrack on every node: the NAT those connections met
    t = Date.now();
    const interesting = new Set([
      `${setup.target.ip}:${setup.target.port}`,
      ...setup.endpoints.map((e) => `${e.ip}:${e.port}`),
    ]);
    const conntrack: ServiceLabResult['conntrack'] = [];
    for (const node of lab.network.nodes) {
      const r = await shell.run({ node: node.name }, ['conntrack', '-L', '-p', 'tcp'], {
        signal,
        timeoutMs: 10_000,
      });
      await writeFile(join(options.outDir, `conntrack-${node.name}.txt`), r.stdout);
      const listing = parseConntrack(r.stdout);
      const nat = summarizeNat(listing.entries, {
        where: node.name,
        select: (e) => interesting.has(`${e.original.dst}:${e.original.dport ?? ''}`),
        chainFor: (to) => chainOf.get(to) ?? undefined,
      });
      conntrack.push({ node: node.name, nat });
      findings.push(...nat.findings);
    }
    const conntrackMs = Date.now() - t;

    // 5. one probe connection captured at every hop it may cross
    const plans = new Map<string, DatapathPlan>();
    for (const e of setup.endpoints) {
      const pod =
        topology.planInput.destination.name === e.pod ? topology.planInput.destination : undefined;
      const inv = lab.network.pods.find((p) => p.name === e.pod)!;
      plans.set(
        e.pod,
        buildDatapathPlan({
          ...topology.planInput,
          destination: pod ?? {
            kind: 'pod',
            name: inv.name,
            node: inv.node,
            ip: inv.ip,
            mac: inv.mac,
            interface: 'eth0',
            hostInterface: inv.hostInterface,
          },
          probe: { protocol: 'tcp', port: e.port },
        }),
      );
    }
    const { hops, routes } = serviceCaptureRoutes(lab, plans);
    const allDir = join(options.outDir, 'all-hops');
    await mkdir(allDir, { recursive: true });
    t = Date.now();
    let probeEndpoint: string | undefined;
    emit('capture', `Capturing one probe connection at ${hops.length} points`);
    const capture = await captureHops({
      shell,
      hops: hops.map((h) => ({
        name: h.name,
        target: h.target,
        interface: h.interface,
        filter: h.filter,
      })),
      outDir: allDir,
      signal,
      settleMs: options.settleMs,
      onProgress: (m) => emit('capture', m),
      traffic: async () => {
        [probeEndpoint] = await send(1);
        emit('capture', `Probe connection served by ${probeEndpoint ?? 'no endpoint'}`);
      },
    });
    const captureMs = Date.now() - t;

    // 6. the route of the endpoint that answered, analysed hop by hop
    t = Date.now();
    const routeEndpoint = probeEndpoint ?? setup.endpoints[0]!.pod;
    const route = routes.get(routeEndpoint)!;
    const byName = new Map(capture.files.map((f) => [f.hop, f]));
    const probeDir = join(options.outDir, 'probe');
    await mkdir(probeDir, { recursive: true });
    const files: CapturedHopFile[] = [];
    for (const [i, h] of route.entries()) {
      const f = byName.get(h.name);
      if (!f) continue;
      const name = `${String(i + 1).padStart(2, '0')}-${h.name}`;
      const pcap = join(probeDir, `${name}.pcap`);
      const text = join(probeDir, `${name}.txt`);
      await copyFile(f.pcap, pcap);
      await copyFile(f.text, text).catch(() => undefined);
      files.push({ hop: name, pcap, text, packets: f.packets, bytes: f.bytes });
    }
    const { report, captures, correlation } = await analyzeCaptureFiles(
      files.map((f) => f.pcap),
      { signal },
    );
    const seen = await probeAddressesAlong(captures, correlation);
    const steps = natSteps(seen, {
      dnatRule: (to) => chainOf.get(to) ?? undefined,
      snatRule: 'MASQUERADE',
    });
    // The hop analysis said "DNAT"/"SNAT" by address only; the steps say it with ports and rules.
    report.findings = [
      ...report.findings.filter((f) => !/: (DNAT|SNAT)\.$/.test(f)),
      ...steps.map((s) => s.sentence),
    ];
    const analyzeMs = Date.now() - t;

    const dnatSeen = conntrack.some((c) => c.nat.dnat.length > 0);
    const expectSnat = path.masquerade;
    const snatSeen = conntrack.some((c) => c.nat.snat.length > 0);
    if (!dnatSeen) findings.push('conntrack shows no DNAT for the Service connections.');
    if (expectSnat !== snatSeen)
      findings.push(
        expectSnat
          ? 'The rules mark these connections for masquerade, but conntrack shows no SNAT.'
          : 'conntrack shows an SNAT the rules do not ask for.',
      );
    const probeOk = probeEndpoint !== undefined && report.firstMissingHop === null;
    const ok =
      rulesAgree &&
      failed === 0 &&
      shareChecks.every((c) => c.ok) &&
      (affinity?.ok ?? true) &&
      (localOnly?.ok ?? true) &&
      dnatSeen &&
      expectSnat === snatSeen &&
      probeOk;
    const service: ServiceLabResult = {
      kubeProxy: mode,
      path: {
        entry: path.entry,
        from: path.from,
        endpoints: path.endpoints.map((e) => ({
          pod: setup.endpoints.find((x) => `${x.ip}:${x.port}` === e.address)?.pod ?? e.address,
          address: e.address,
          share: e.share,
          chain: e.chain ?? null,
        })),
        masquerade: path.masquerade,
      },
      rulesAgree,
      requests: n,
      failed,
      counts,
      shares: shareChecks,
      ...(affinity ? { affinity } : {}),
      ...(localOnly ? { localOnly } : {}),
      conntrack,
      probe: { endpoint: probeEndpoint ?? null, hops: files.map((f) => f.hop), nat: steps },
      ok,
      findings,
      timings: { rulesMs, requestsMs, conntrackMs, captureMs, analyzeMs },
    };
    return {
      service,
      report,
      files,
      captureTimings: capture.timings,
      plan: plans.get(routeEndpoint)!,
    };
  } finally {
    for (const s of servers) s.stop('SIGTERM');
    await Promise.allSettled(servers.map((s) => s.done));
  }
}

/**
 * Removes `mode`'s rules and the tracked connections from every node of the lab, so the
 * other mode can run on the same topology (the root tests share one build per lab).
 */
export async function clearServiceRules(
  topology: LabTopology,
  mode: LabKubeProxyMode,
  signal?: AbortSignal,
): Promise<void> {
  for (const node of topology.lab.network.nodes)
    for (const argv of serviceRuleClearArgv(mode))
      await topology.shell.run({ node: node.name }, argv, { signal, timeoutMs: 10_000 });
}

/**
 * The probe's innermost addresses and ports at every hop that saw it: the packet that
 * stands for the probe there, decoded again from its file.
 */
export async function probeAddressesAlong(
  captures: readonly AnalyzedCapture[],
  correlation: Correlation,
): Promise<ProbeAddresses[]> {
  const seen: ProbeAddresses[] = [];
  for (const [i, m] of correlation.hops.entries()) {
    const c = captures[i];
    if (!c || m.record < 0) continue;
    const [packet] = await readPage(c, m.record, 1);
    if (!packet) continue;
    const ipAt = innermostIpIndex(packet.layers);
    const ip = packet.layers[ipAt];
    const l4 = packet.layers[ipAt + 1];
    if (!ip || (ip.kind !== 'ipv4' && ip.kind !== 'ipv6')) continue;
    const ports = l4 && (l4.kind === 'tcp' || l4.kind === 'udp') ? l4 : undefined;
    seen.push({
      hop: c.name,
      src: ip.src,
      dst: ip.dst,
      sport: ports?.srcPort ?? null,
      dport: ports?.dstPort ?? null,
    });
  }
  return seen;
}

/** Waits until the endpoint pod has a listening socket on `port` (5 s at most). */
async function waitListening(
  topology: LabTopology,
  pod: string,
  port: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const t = target(topology.lab, pod);
  for (let i = 0; i < 50; i++) {
    const r = await topology.shell.run(t, ['ss', '-Hltn', `sport = :${port}`], {
      signal,
      timeoutMs: 5000,
    });
    if (r.stdout.trim() !== '') return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`the server in ${pod} did not listen on port ${port} within 5 s`);
}
