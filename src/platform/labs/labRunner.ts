/**
 * The lab runner: prerequisites → leftovers from a killed run cleaned → topology
 * built → tcpdump at every hop of the datapath plan while a probe runs → analysis
 * against the same plan → teardown. Progress goes to a callback (the CLI prints it,
 * the extension shows it), everything honours one AbortSignal, and the topology is
 * torn down whatever happens unless the caller asked to keep it.
 */
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import type { FaultKind, LabDefinition, LabKubeProxyMode } from '../../core/labs/catalog';
import { findFault, findLab } from '../../core/labs/catalog';
import { buildDatapathPlan } from '../../core/datapath/plans';
import {
  checkNotesAgainstState,
  explainLoss,
  lossHeadline,
  type SmallProbeOutcome,
} from '../../core/hops/findings';
import type { NodeState } from '../../core/netstate/nodeState';
import { readNodeStates, type StatePlace } from './labState';
import { installAdviceHere, labsUnsupportedReason } from './hostSupport';
import type { DatapathPlan, PlanHop, Probe } from '../../core/datapath/types';
import type { AnalysisReport } from '../../core/hops/types';
import { runTool, ToolError } from '../exec/runner';
import type { ShellTarget } from '../shells/nodeShell';
import type { LabTopology } from '../netns/labBuild';
import { buildLab, teardownLab } from '../netns/labBuild';
import { cleanLeftovers } from '../netns/labRuns';
import { labAvailability } from '../netns/kernelProbes';
import type { CaptureHop, CapturedHopFile, CaptureTimings } from '../capture/captureSession';
import { captureHops } from '../capture/captureSession';
import type { ProbeOutcome } from '../capture/probes';
import { runPingProbe, runTcpProbe } from '../capture/probes';
import { analyzeCaptureFiles } from '../capture/analyzeFiles';
import { describeCleanup, removedNothing } from '../../core/labs/runRecord';
import type { ServiceLabResult } from './serviceLabRun';
import { runServicePhase } from './serviceLabRun';

export type LabPhase = 'prerequisites' | 'build' | 'capture' | 'analyze' | 'teardown';

export interface LabProgress {
  phase: LabPhase;
  message: string;
}

export type LabProbeKind = 'icmp' | 'tcp';

export interface RunLabOptions {
  /** Where pcaps and their text go (created if needed); default `./podpath-lab-<lab>-<time>`. */
  outDir?: string;
  /** Leave the topology up after the run (not after a cancel). */
  keep?: boolean;
  fault?: FaultKind;
  probe?: LabProbeKind;
  signal?: AbortSignal;
  onProgress?: (step: LabProgress) => void;
  /** Called once the topology is built (the extension shows it in the tree). */
  onTopology?: (topology: LabTopology) => void;
  /** Settle time after the probe before captures stop (default 200 ms). */
  settleMs?: number;
  /** Service labs: the kube-proxy mode whose rules are written (default iptables). */
  kubeProxy?: LabKubeProxyMode;
  /** Service labs: how many requests the client sends (default 200). */
  requests?: number;
}

export interface LabTimings {
  prerequisitesMs: number;
  buildMs: number;
  captureMs: number;
  analyzeMs: number;
  teardownMs: number;
  totalMs: number;
}

export interface LabRunResult {
  lab: string;
  fault?: FaultKind;
  report: AnalysisReport;
  outDir: string;
  /** One per hop, in plan order. */
  files: CapturedHopFile[];
  timings: LabTimings;
  /** Finer capture timings (start, traffic, settle, stop, render). */
  captureTimings: CaptureTimings;
  probe: ProbeOutcome;
  /** The plan, its notes checked against the node state (what a fault changed is marked). */
  plan: DatapathPlan;
  /** Nodes and pods as read after the build (dumps in `<outDir>/state/`). */
  nodeState: NodeState[];
  /** True when the topology was left up (`keep`); tear it down with `podpath lab clean`. */
  kept: boolean;
  /** Service labs: the distribution, shares check, conntrack NAT and the probe's NAT steps. */
  service?: ServiceLabResult;
}

/** A run that could not go on: which phase, and one sentence that says what to do. */
export class LabRunError extends Error {
  readonly phase: LabPhase;
  constructor(phase: LabPhase, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabRunError';
    this.phase = phase;
  }
}

/** The binary a required tool name stands for (`bird2` is a package; the binary is `bird`). */
function binaryFor(tool: string): string {
  return tool === 'bird2' ? 'bird' : tool;
}

async function onPath(binary: string): Promise<boolean> {
  // sbin folders too: `ip` lives there and a non-root PATH may not list them.
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/sbin',
    '/usr/bin',
    '/bin',
  ];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      await access(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

export interface PrerequisiteReport {
  ok: boolean;
  /** How privileged commands run: already root, or through passwordless sudo. */
  privilege: 'root' | 'sudo' | 'none';
  missingTools: string[];
  /** The install command for the missing tools on this distribution (apt, dnf, apk…), when any. */
  installCommand: string | null;
  /** Every problem, one sentence each. */
  problems: string[];
}

/** Checks what a lab needs on this machine; never prompts (sudo runs with `-n`). */
export async function checkLabPrerequisites(
  lab: LabDefinition,
  options: { probe?: LabProbeKind; signal?: AbortSignal; kubeProxy?: LabKubeProxyMode } = {},
): Promise<PrerequisiteReport> {
  const problems: string[] = [];
  const unsupported = labsUnsupportedReason();
  if (unsupported) {
    return {
      ok: false,
      privilege: 'none',
      missingTools: [],
      installCommand: null,
      problems: [unsupported],
    };
  }
  let privilege: PrerequisiteReport['privilege'] = 'none';
  if (process.getuid?.() === 0) privilege = 'root';
  else {
    try {
      // -n: fail at once instead of asking for a password.
      await runTool(['sudo', '-n', 'true'], { signal: options.signal, timeoutMs: 5000 });
      privilege = 'sudo';
      problems.push(
        'Labs create network namespaces and need root; passwordless sudo works here: run it again with `sudo podpath lab run …`.',
      );
    } catch (err) {
      const why =
        (err instanceof ToolError && err.kind === 'not-found') || !(await onPath('sudo'))
          ? 'sudo is not installed'
          : '`sudo -n true` failed, so sudo would ask for a password';
      problems.push(
        `Labs create network namespaces and need root: run as root (\`sudo podpath lab run …\`); ${why}.`,
      );
    }
  }
  const needed = new Set<string>(['ip', 'tcpdump', options.probe === 'tcp' ? 'iperf3' : 'ping']);
  for (const t of lab.requires.tools) needed.add(binaryFor(t));
  if (lab.service) {
    needed.add('ss');
    if ((options.kubeProxy ?? 'iptables') === 'iptables') {
      needed.add('iptables-restore');
      needed.add('iptables-save');
    } else needed.add('nft');
  }
  const missingTools: string[] = [];
  for (const tool of needed) if (!(await onPath(tool))) missingTools.push(tool);
  let installCommand: string | null = null;
  if (missingTools.length > 0) {
    const advice = await installAdviceHere(missingTools);
    installCommand = advice.command;
    problems.push(advice.sentence);
  }
  // The kernel check asks in a throwaway namespace: only as root, and only once the rest
  // is fine (it would repeat the root and tool problems above).
  const availability = problems.length === 0 ? await labAvailability(lab) : { available: true };
  if (!availability.available) {
    problems.push(availability.reason ?? `Lab ${lab.id} is not available on this machine.`);
  }
  return { ok: problems.length === 0, privilege, missingTools, installCommand, problems };
}

/** Where a hop's capture runs: a pod's namespace on its node, or the node (or underlay) itself. */
export function hopTarget(hop: PlanHop): ShellTarget {
  if (hop.location.kind === 'pod') {
    return { node: hop.location.node ?? hop.location.name, pod: hop.location.name };
  }
  return { node: hop.location.name };
}

/**
 * Reads the lab's state (every node, the underlay, the clients, the pods) into `outDir` and
 * says how many namespaces were read.
 */
async function readLabState(
  lab: LabDefinition,
  topology: LabTopology,
  outDir: string,
  signal: AbortSignal | undefined,
  emit: (phase: LabPhase, message: string) => void,
): Promise<NodeState[]> {
  const nodeState = await readNodeStates(topology.shell, statePlaces(lab, topology), {
    outDir,
    signal,
  });
  emit(
    'analyze',
    `Read the routes, neighbours and forwarding entries of ${nodeState.length} namespaces`,
  );
  return nodeState;
}

/** Where a lab's state is read: its nodes, the underlay, the clients outside the cluster, its pods. */
function statePlaces(lab: LabDefinition, topology: LabTopology): StatePlace[] {
  return [
    ...topology.inventory.nodes.map((n) => ({
      name: n.name,
      kind: 'node' as const,
      target: { node: n.name },
    })),
    { name: 'underlay', kind: 'node' as const, target: { node: 'underlay' } },
    ...(lab.network.clients ?? []).map((c) => ({
      name: c.name,
      kind: 'node' as const,
      target: { node: c.name },
    })),
    ...topology.inventory.pods.map((p) => ({
      name: p.name,
      kind: 'pod' as const,
      target: { node: p.node, pod: p.name },
    })),
  ];
}

function defaultOutDir(labId: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\..*$/, '')
    .replace('T', '-');
  return resolve(`podpath-lab-${labId}-${stamp}`);
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return (
    signal?.aborted === true ||
    (err instanceof Error &&
      (err.name === 'AbortError' || (err as { kind?: string }).kind === 'cancelled'))
  );
}

/**
 * Runs one lab end to end and returns the analysis. Throws `LabRunError` (phase and
 * a sentence) when a step fails, or the abort reason when cancelled; in both cases
 * the topology is already torn down.
 */
export async function runLab(labId: string, options: RunLabOptions = {}): Promise<LabRunResult> {
  const { signal } = options;
  const emit = (phase: LabPhase, message: string): void => options.onProgress?.({ phase, message });
  const t0 = Date.now();
  const lab = findLab(labId);
  if (!lab) throw new LabRunError('prerequisites', `There is no lab called ${labId}.`);
  if (options.fault && !lab.faults.includes(options.fault)) {
    throw new LabRunError(
      'prerequisites',
      `Lab ${lab.id} cannot inject ${options.fault}; it can inject: ${lab.faults.join(', ') || 'nothing'}.`,
    );
  }
  const probeKind: LabProbeKind = options.probe ?? 'icmp';

  emit('prerequisites', `Checking prerequisites for ${lab.id}`);
  const prereq = await checkLabPrerequisites(lab, {
    probe: probeKind,
    signal,
    ...(options.kubeProxy ? { kubeProxy: options.kubeProxy } : {}),
  });
  if (!prereq.ok) throw new LabRunError('prerequisites', prereq.problems.join(' '));
  signal?.throwIfAborted();
  return runPreparedLab(lab, options, probeKind, t0, emit);
}

/** Everything after the prerequisites. */
async function runPreparedLab(
  lab: LabDefinition,
  options: RunLabOptions,
  probeKind: LabProbeKind,
  t0: number,
  emit: (phase: LabPhase, message: string) => void,
): Promise<LabRunResult> {
  const { signal } = options;
  // only runs whose process is gone; anything else with a pp- name is left alone
  const leftovers = await cleanLeftovers({ signal });
  if (!removedNothing(leftovers)) {
    const [summary, ...names] = describeCleanup({ ...leftovers, leftAlone: [] });
    emit('prerequisites', `Leftovers of an earlier run: ${summary ?? ''}`);
    for (const line of names) emit('prerequisites', line.trim());
  }
  const prerequisitesMs = Date.now() - t0;
  emit('prerequisites', `Prerequisites ok (${prerequisitesMs} ms)`);

  const outDir = resolve(options.outDir ?? defaultOutDir(lab.id));
  await mkdir(outDir, { recursive: true });

  signal?.throwIfAborted();
  emit('build', `Building ${lab.title}${options.fault ? ` with fault ${options.fault}` : ''}`);
  let t = Date.now();
  let topology: LabTopology;
  try {
    topology = await buildLab(lab, {
      signal,
      fault: options.fault,
      onProgress: (m: string) => emit('build', m),
    });
  } catch (err) {
    // buildLab removes what it created before it rejects.
    if (isAbort(err, signal)) throw signal?.reason ?? err;
    throw new LabRunError('build', `Building ${lab.id} failed: ${errorText(err)}`, { cause: err });
  }
  const buildMs = Date.now() - t;
  emit('build', `Built ${topology.namespaces.length} namespaces (${buildMs} ms)`);

  let kept = false;
  let teardownMs = 0;
  const tearDown = async (): Promise<void> => {
    emit('teardown', `Tearing down ${lab.id}`);
    const td = Date.now();
    const { report } = await teardownLab(topology);
    teardownMs = Date.now() - td;
    emit(
      'teardown',
      `Torn down (${teardownMs} ms): removed ${report.namespaces.length} namespaces, ${report.processes.length} processes, ${report.files.length} files`,
    );
    for (const why of report.leftAlone) emit('teardown', `Left alone: ${why}`);
  };

  if (lab.service) {
    try {
      options.onTopology?.(topology);
      const mode = options.kubeProxy ?? 'iptables';
      const phase = await runServicePhase(topology, {
        mode,
        outDir,
        signal,
        ...(options.requests !== undefined ? { requests: options.requests } : {}),
        ...(options.settleMs !== undefined ? { settleMs: options.settleMs } : {}),
        emit,
      });
      const { service } = phase;
      // Read before the teardown, like the other labs: the routes and neighbours the
      // Service's packets used, kept beside the captures.
      const nodeState = await readLabState(lab, topology, outDir, signal, emit);
      for (const f of service.findings) emit('analyze', f);
      emit('analyze', `Probe ${lossHeadline(phase.report)}`);
      if (options.keep) {
        kept = true;
        emit('teardown', `Kept ${lab.id} up; remove it with \`podpath lab clean\``);
      } else {
        await tearDown();
      }
      return {
        lab: lab.id,
        report: phase.report,
        outDir,
        files: phase.files,
        timings: {
          prerequisitesMs,
          buildMs,
          captureMs: service.timings.requestsMs + service.timings.captureMs,
          analyzeMs: service.timings.analyzeMs,
          teardownMs,
          totalMs: Date.now() - t0,
        },
        captureTimings: phase.captureTimings,
        probe: {
          kind: 'tcp',
          sent: 1,
          received: service.probe.endpoint ? 1 : 0,
          summary: `one connection to ${lab.service.target.ip}:${lab.service.target.port}, served by ${service.probe.endpoint ?? 'no endpoint'}`,
        },
        plan: phase.plan,
        nodeState,
        kept,
        service,
      };
    } catch (err) {
      if (options.keep && !signal?.aborted) {
        emit(
          'teardown',
          `Kept ${lab.id} up after the failure; remove it with \`podpath lab clean\``,
        );
      } else {
        await tearDown().catch((e: unknown) =>
          emit('teardown', `Teardown failed: ${errorText(e)}; run \`podpath lab clean\``),
        );
      }
      if (isAbort(err, signal)) throw signal?.reason ?? err;
      throw new LabRunError('capture', `Running ${lab.id} failed: ${errorText(err)}`, {
        cause: err,
      });
    }
  }

  try {
    options.onTopology?.(topology);
    const probe: Probe =
      probeKind === 'tcp' ? { protocol: 'tcp', port: 5201 } : { protocol: 'icmp' };
    const plan = buildDatapathPlan({ ...topology.planInput, probe });
    const hops: CaptureHop[] = plan.hops.map((h) => ({
      name: h.name,
      target: hopTarget(h),
      interface: h.interface,
      filter: h.filter,
    }));
    const source: ShellTarget = { node: plan.source.node, pod: plan.source.name };
    const destination: ShellTarget = { node: plan.destination.node, pod: plan.destination.name };
    let probeOutcome: ProbeOutcome | undefined;
    // Some faults only show with a particular probe (MTU: a full-size packet with DF).
    const faultProbe = options.fault ? findFault(options.fault)?.probe : undefined;

    emit(
      'capture',
      `Capturing at ${hops.length} hops while sending ${probeKind === 'tcp' ? 'a TCP (iperf3)' : 'an ICMP (ping)'} probe`,
    );
    t = Date.now();
    let capture;
    try {
      capture = await captureHops({
        shell: topology.shell,
        hops,
        outDir,
        signal,
        settleMs: options.settleMs,
        onProgress: (m) => emit('capture', m),
        traffic: async (trafficSignal) => {
          probeOutcome =
            probeKind === 'tcp'
              ? await runTcpProbe(topology.shell, {
                  from: source,
                  server: destination,
                  to: plan.destination.ip,
                  signal: trafficSignal,
                })
              : await runPingProbe(topology.shell, {
                  from: source,
                  to: plan.destination.ip,
                  signal: trafficSignal,
                  ...(faultProbe
                    ? { size: faultProbe.payloadBytes, dontFragment: faultProbe.dontFragment }
                    : {}),
                });
          emit('capture', `Probe: ${probeOutcome.summary}`);
        },
      });
    } catch (err) {
      if (isAbort(err, signal)) throw signal?.reason ?? err;
      throw new LabRunError('capture', `Capturing ${lab.id} failed: ${errorText(err)}`, {
        cause: err,
      });
    }
    const captureMs = Date.now() - t;
    emit('capture', `Captured ${hops.length} hops (${captureMs} ms)`);

    signal?.throwIfAborted();
    // What the nodes really look like, read after the capture (so
    // the neighbour tables hold what the probe resolved): the explanation of a
    // loss and the check of the plan's notes rest on it.
    const nodeState = await readLabState(lab, topology, outDir, signal, emit);
    const checkedPlan: DatapathPlan = {
      ...plan,
      notes: checkNotesAgainstState(plan.notes, nodeState),
    };
    emit('analyze', 'Correlating the probe across hops');
    t = Date.now();
    const { report, captures } = await analyzeCaptureFiles(
      capture.files.map((f) => f.pcap),
      { plan: checkedPlan, signal },
    );
    const smallProbe = faultProbe
      ? await smallProbeAfter(topology.shell, source, plan.destination.ip, probeOutcome, signal)
      : undefined;
    const explanation = explainLoss({
      report,
      plan: checkedPlan,
      state: nodeState,
      icmpErrors: captures.flatMap((c) => c.icmpErrors),
      ...(smallProbe ? { smallProbe } : {}),
    });
    // The why comes first: it is what a person running a faulted lab is looking for.
    report.findings.unshift(...explanation);
    const analyzeMs = Date.now() - t;
    emit('analyze', `Probe ${lossHeadline(report)} (${analyzeMs} ms)`);
    for (const sentence of explanation) emit('analyze', sentence);

    if (options.keep) {
      kept = true;
      emit('teardown', `Kept ${lab.id} up; remove it with \`podpath lab clean\``);
    } else {
      await tearDown();
    }
    return {
      lab: lab.id,
      ...(options.fault ? { fault: options.fault } : {}),
      report,
      outDir,
      files: capture.files,
      timings: {
        prerequisitesMs,
        buildMs,
        captureMs,
        analyzeMs,
        teardownMs,
        totalMs: Date.now() - t0,
      },
      captureTimings: capture.timings,
      probe: probeOutcome ?? { kind: probeKind, sent: 0, received: 0, summary: '' },
      plan: checkedPlan,
      nodeState,
      kept,
    };
  } catch (err) {
    // A failed step keeps the topology only when asked to (to look at it); a cancel never does.
    if (options.keep && !signal?.aborted) {
      emit('teardown', `Kept ${lab.id} up after the failure; remove it with \`podpath lab clean\``);
    } else {
      await tearDown().catch((e: unknown) =>
        emit('teardown', `Teardown failed: ${errorText(e)}; run \`podpath lab clean\``),
      );
    }
    throw err;
  }
}

/**
 * After a large probe went unanswered, a default-size ping along the same path: if it
 * passes, the size was the problem. Not captured; its outcome is evidence for the findings.
 */
async function smallProbeAfter(
  shell: LabTopology['shell'],
  from: ShellTarget,
  to: string,
  large: ProbeOutcome | undefined,
  signal: AbortSignal | undefined,
): Promise<SmallProbeOutcome | undefined> {
  if (!large || large.received === large.sent) return undefined;
  try {
    const small = await runPingProbe(shell, { from, to, count: 2, signal });
    // ping's default 56 bytes of payload + 8 ICMP + 20 IP.
    return { ipLength: 84, sent: small.sent, received: small.received };
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
