/**
 * Trace to…: from a pod of the Clusters view (context menu, inline, or the palette, which
 * asks for the context and pod A), pick pod B and the probe, and run tracePods with the
 * cluster session's client under a cancellable progress that names each step. The pcaps
 * and their text stay in the extension's workspace storage, one folder per trace; the
 * result opens in the panel beside the active editor, drawn like a lab run, with Reveal and
 * Open in Wireshark on every hop. Plan problems (the nodes' state contradicts the mode)
 * come back as an error listing them, with "Capture anyway".
 * Arguments: a Clusters tree pod item, or `{ context, podA, podB?, probe? }` (tests, the
 * Labs view's Trace on a kind lab cluster).
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { summarizePod } from '../../core/cluster/summaries';
import type { PodSummary } from '../../core/cluster/types';
import { analyzeCaptureFiles } from '../../platform/capture/analyzeFiles';
import { toolOnPath } from '../../platform/exec/toolOnPath';
import type { TraceProbe, TraceResult } from '../../platform/trace/podTrace';
import type { PanelView } from '../../protocol';
import { traceView } from '../panel/panelViews';
import { confirmNodeShellPods, nodeShellSettings } from '../nodeShellConsent';
import type { CommandTable, Services } from '../services';
import { CommandCancelled, withCancellableProgress } from './commandErrors';

/** The button the plan-problems error offers. */
export const CAPTURE_ANYWAY = 'Capture anyway';

export interface TraceRequest {
  context: string;
  podA: string;
  podB?: string;
  probe?: TraceProbe;
  captureDespiteProblems?: boolean;
}

/** What the command returns (for the tests and the Labs view's Trace). */
export interface TraceOutcome {
  view: PanelView;
  result: Pick<TraceResult, 'outDir' | 'timings' | 'mode' | 'context' | 'files' | 'limits'> & {
    seen: number;
    hops: number;
  };
}

function podRef(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

/** A tree pod item or a test's request; undefined when the palette must ask. */
function requestFrom(arg: unknown): Partial<TraceRequest> | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as Record<string, unknown>;
  if (
    o['kind'] === 'pod' &&
    typeof o['context'] === 'string' &&
    typeof o['namespace'] === 'string' &&
    typeof o['name'] === 'string'
  ) {
    return { context: o['context'], podA: `${o['namespace']}/${o['name']}` };
  }
  if (typeof o['context'] === 'string') {
    const probe = o['probe'] as TraceProbe | undefined;
    return {
      context: o['context'],
      ...(typeof o['podA'] === 'string' ? { podA: o['podA'] } : {}),
      ...(typeof o['podB'] === 'string' ? { podB: o['podB'] } : {}),
      ...(probe && typeof probe === 'object' && typeof probe.protocol === 'string'
        ? { probe }
        : {}),
      ...(o['captureDespiteProblems'] === true ? { captureDespiteProblems: true } : {}),
    };
  }
  return undefined;
}

/** Pods a probe can reach: an IP of their own (not the node's) and Running. */
function traceable(p: PodSummary): boolean {
  return p.podIP !== null && !p.hostNetwork && p.phase === 'Running';
}

async function pickPod(title: string, pods: PodSummary[], placeholder: string): Promise<string> {
  if (pods.length === 0) {
    throw new Error(
      'there is no other Running pod with its own IP (not host network) in this cluster to trace to',
    );
  }
  const chosen = await vscode.window.showQuickPick(
    pods.map((p) => ({
      label: podRef(p),
      description: `${p.podIP ?? ''} · on ${p.node ?? '?'}`,
      ref: podRef(p),
    })),
    { title, placeHolder: placeholder, matchOnDescription: true, ignoreFocusOut: true },
  );
  if (!chosen) throw new CommandCancelled();
  return chosen.ref;
}

async function pickProbe(): Promise<TraceProbe> {
  const chosen = await vscode.window.showQuickPick(
    [
      { label: 'ICMP echo (ping)', detail: 'The default: ping from pod A.', protocol: 'icmp' },
      { label: 'TCP to a port…', detail: 'curl from pod A to a TCP port.', protocol: 'tcp' },
      { label: 'UDP to a port…', detail: 'A UDP datagram from pod A to a port.', protocol: 'udp' },
    ] as const,
    { title: 'Podpath: which probe?', ignoreFocusOut: true },
  );
  if (!chosen) throw new CommandCancelled();
  if (chosen.protocol === 'icmp') return { protocol: 'icmp' };
  const text = await vscode.window.showInputBox({
    title: `Podpath: ${chosen.protocol.toUpperCase()} port on pod B`,
    value: chosen.protocol === 'tcp' ? '80' : '53',
    ignoreFocusOut: true,
    validateInput: (v) =>
      /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? null : 'A port, 1–65535',
  });
  if (text === undefined) throw new CommandCancelled();
  return { protocol: chosen.protocol, port: Number(text) };
}

/** `20261201T111233-default-podA-to-default-podB`: one folder per trace. */
export function traceFolderName(podA: string, podB: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const safe = (ref: string): string => ref.replace(/[^A-Za-z0-9.-]+/g, '-');
  return `${stamp}-${safe(podA)}-to-${safe(podB)}`;
}

/**
 * Runs one trace with the context's session client and shows it in the panel; when the
 * plan has problems, lists them and, on "Capture anyway", traces again capturing anyway.
 */
export async function runTrace(
  s: Services,
  request: TraceRequest & { podB: string },
): Promise<TraceOutcome> {
  const log = (line: string): void => s.log.line(`trace ${line}`);
  const { context, podA, podB } = request;
  const session = await s.clusters.openSession(context);
  const kube = s.clusters.kube();
  const outDir = join(
    (s.context.storageUri ?? s.context.globalStorageUri).fsPath,
    'traces',
    traceFolderName(podA, podB, new Date()),
  );
  const wireshark = toolOnPath('wireshark');
  const startedAt = Date.now();
  let result: TraceResult;
  try {
    result = await withCancellableProgress(`Podpath: tracing ${podA} → ${podB}`, (signal, report) =>
      kube.tracePods({
        client: session.client,
        podA,
        podB,
        ...(request.probe ? { probe: request.probe } : {}),
        outDir,
        signal,
        ...(request.captureDespiteProblems ? { captureDespiteProblems: true } : {}),
        // Nodes that are not kind containers: a test's shell, else node-shell pods created
        // only after the modal's yes (PodNodeShell), deleted when the trace ends.
        ...(s.nodeShellFor
          ? { nodeShellFor: s.nodeShellFor }
          : { nodeShellPods: { confirm: confirmNodeShellPods, ...nodeShellSettings() } }),
        onProgress: (step, message) => {
          report(`${step}: ${message}`);
          log(`${context} ${podA} → ${podB} [${step}] +${Date.now() - startedAt} ms ${message}`);
        },
      }),
    );
  } catch (err) {
    const problems = (err as { problems?: unknown }).problems;
    if (
      err instanceof Error &&
      err.name === 'TraceError' &&
      Array.isArray(problems) &&
      problems.length > 0 &&
      !request.captureDespiteProblems
    ) {
      log(`${podA} → ${podB}: plan problems: ${problems.join(' | ')}`);
      const answer = await vscode.window.showErrorMessage(
        `Podpath: the nodes' state contradicts the cluster's datapath, so nothing was captured (${problems.length} problem${problems.length === 1 ? '' : 's'}).`,
        { modal: true, detail: problems.map((p) => `• ${String(p)}`).join('\n') },
        CAPTURE_ANYWAY,
      );
      if (answer !== CAPTURE_ANYWAY) throw new CommandCancelled();
      return runTrace(s, { ...request, captureDespiteProblems: true });
    }
    throw err;
  }
  const t = result.timings;
  log(
    `${podA} → ${podB}: plan ${t.planMs} ms, capture start ${t.captureStartMs} ms, probe ${t.probeMs} ms, stop ${t.stopMs} ms, analysis ${t.analysisMs} ms, total ${t.totalMs} ms; files in ${result.outDir}`,
  );
  if (result.probe) log(`${podA} → ${podB}: ${result.probe.summary} — ${result.probe.where}`);
  // The packet tables read the files again (paged on demand); the report is the trace's.
  const analysis = await analyzeCaptureFiles(
    result.files.map((f) => f.pcap),
    { plan: result.datapath },
  );
  analysis.report = result.report;
  const content = await traceView(result, analysis, {
    podA,
    podB,
    wireshark: (await wireshark) !== undefined,
  });
  s.panel.show(content);
  const seen = result.report.hops.filter((h) => h.seen).length;
  return {
    view: content.view,
    result: {
      outDir: result.outDir,
      timings: result.timings,
      mode: result.mode,
      context: result.context,
      files: result.files,
      limits: result.limits,
      seen,
      hops: result.report.hops.length,
    },
  };
}

export function traceCommands(s: Services): CommandTable {
  return {
    'podpath.cluster.traceTo': {
      what: 'Tracing pod A → pod B',
      run: async (arg?: unknown) => {
        const given = requestFrom(arg) ?? {};
        let context = given.context;
        if (!context) {
          const list = await s.clusters.contexts();
          const names = list.contexts.map((c) => c.name);
          if (names.length === 0) throw new Error('there is no kubeconfig context to trace in');
          const chosen =
            names.length === 1
              ? names[0]
              : await vscode.window.showQuickPick(names, {
                  title: 'Podpath: trace in which cluster?',
                  placeHolder: list.current ?? undefined,
                  ignoreFocusOut: true,
                });
          if (!chosen) throw new CommandCancelled();
          context = chosen;
        }
        const needPods = !given.podA || !given.podB;
        let pods: PodSummary[] = [];
        if (needPods) {
          const session = await s.clusters.openSession(context);
          const list = await session.client.list(
            '/api/v1/pods',
            { verb: 'list', resource: 'pods' },
            (p) => summarizePod(p),
          );
          pods = list.items.filter(traceable);
        }
        const podA =
          given.podA ??
          (await pickPod(`Podpath: trace from which pod? (${context})`, pods, 'Pod A'));
        const podB =
          given.podB ??
          (await pickPod(
            `Podpath: trace ${podA} to…`,
            pods.filter((p) => podRef(p) !== podA),
            'Pod B: name, IP or node',
          ));
        // Asked only when a person picked pod B here; a request that names it says its probe.
        const probe = given.probe ?? (given.podB ? undefined : await pickProbe());
        return runTrace(s, {
          context,
          podA,
          podB,
          ...(probe ? { probe } : {}),
          ...(given.captureDespiteProblems ? { captureDespiteProblems: true } : {}),
        });
      },
    },
  };
}
