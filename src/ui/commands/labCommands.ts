/**
 * Offline lab commands (Labs view): run a lab, run it with one fault injected, tear down a
 * kept lab, clean up leftovers. A run shows its nodes, pods and interfaces in the tree as
 * soon as the topology is built, then opens the panel with the analysis of the pcaps.
 * Arguments: a Labs tree item, a lab id, or `{ labId, fault?, keep?, kubeProxy? }` (tests).
 * A Service lab asks for the kube-proxy mode when the argument does not say it.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { FaultKind, LabDefinition, LabKubeProxyMode } from '../../core/labs/catalog';
import {
  FAULTS,
  LAB_KUBE_PROXY_MODES,
  LABS,
  faultDescription,
  findLab,
} from '../../core/labs/catalog';
import { analyzeCaptureFiles } from '../../platform/capture/analyzeFiles';
import { runLab } from '../../platform/labs/labRunner';
import type { ServiceLabResult } from '../../platform/labs/serviceLabRun';
import { teardownLab } from '../../platform/netns/labBuild';
import { cleanLeftovers } from '../../platform/netns/labRuns';
import { buildDatapathPlan } from '../../core/datapath/plans';
import { analysisView, attachCaptureFiles, datapathView } from '../panel/panelViews';
import { toolOnPath } from '../../platform/exec/toolOnPath';
import { labBuilds } from '../tree/labsTree';
import type { CleanupReport } from '../../core/labs/runRecord';
import { describeCleanup } from '../../core/labs/runRecord';
import type { CommandTable, Services } from '../services';
import { CommandCancelled, withCancellableProgress } from './commandErrors';

interface LabArgs {
  labId: string;
  fault?: FaultKind;
  keep?: boolean;
  kubeProxy?: LabKubeProxyMode;
}

function labArgs(arg: unknown): LabArgs | undefined {
  if (typeof arg === 'string') return { labId: arg };
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as {
    kind?: unknown;
    lab?: { id?: unknown };
    labId?: unknown;
    fault?: unknown;
    keep?: unknown;
    kubeProxy?: unknown;
  };
  if (o.kind === 'lab' && typeof o.lab?.id === 'string') return { labId: o.lab.id };
  if (typeof o.labId === 'string') {
    return {
      labId: o.labId,
      ...(typeof o.fault === 'string' ? { fault: o.fault as FaultKind } : {}),
      ...(typeof o.keep === 'boolean' ? { keep: o.keep } : {}),
      ...(LAB_KUBE_PROXY_MODES.some((m) => m === o.kubeProxy)
        ? { kubeProxy: o.kubeProxy as LabKubeProxyMode }
        : {}),
    };
  }
  return undefined;
}

async function chooseLab(
  s: Services,
  arg: unknown,
): Promise<{ lab: LabDefinition; args: LabArgs }> {
  let args = labArgs(arg);
  if (!args) {
    const pick = await vscode.window.showQuickPick(
      LABS.map((l) => ({ label: l.title, detail: l.description, id: l.id })),
      { title: 'Podpath: which lab?', ignoreFocusOut: true },
    );
    if (!pick) throw new CommandCancelled();
    args = { labId: pick.id };
  }
  const lab = findLab(args.labId);
  if (!lab) throw new Error(`there is no lab called ${args.labId}. Pick one from the Labs view`);
  const availability = await s.labs.available(lab);
  if (!availability.available)
    throw new Error(availability.reason ?? `${lab.title} cannot run here`);
  return { lab, args };
}

/** What a clean-up removed and left alone: every line in the log, the gist in a message. */
function showCleanup(s: Services, report: CleanupReport): void {
  const lines = describeCleanup(report);
  for (const line of lines) s.log.line(`lab clean-up: ${line}`);
  const alone = report.leftAlone.length;
  const text = `Podpath: ${lines[0] ?? ''}${alone > 0 ? ` Left ${alone} thing${alone === 1 ? '' : 's'} alone that no dead Podpath run made (see the log).` : ''}`;
  void vscode.window.showInformationMessage(text);
}

/** A Service lab's results as panel notes: the mode, each endpoint's count and check, the NAT. */
export function serviceNotes(r: ServiceLabResult): string[] {
  return [
    `kube-proxy ${r.kubeProxy}: ${r.requests} requests — ${r.path.endpoints
      .map((e) => `${e.pod} ${r.counts[e.pod] ?? 0} (share ${(e.share * 100).toFixed(1)} %)`)
      .join(', ')}. ${r.ok ? 'Every check held.' : 'A check FAILED.'}`,
    ...r.findings,
    `Rules, requests, conntrack, capture, analysis: ${r.timings.rulesMs}, ${r.timings.requestsMs}, ${r.timings.conntrackMs}, ${r.timings.captureMs}, ${r.timings.analyzeMs} ms.`,
  ];
}

export function labCommands(s: Services): CommandTable {
  const run = async (lab: LabDefinition, args: LabArgs): Promise<unknown> => {
    const keep =
      args.keep ??
      vscode.workspace.getConfiguration('podpath').get<boolean>('labs.keepAfterRun', false);
    const fault = args.fault;
    let kubeProxy = args.kubeProxy;
    if (lab.service && !kubeProxy) {
      const pick = await vscode.window.showQuickPick(
        LAB_KUBE_PROXY_MODES.map((m) => ({
          label: m,
          detail:
            m === 'iptables'
              ? 'KUBE-SERVICES → KUBE-SVC-… → KUBE-SEP-… loaded with iptables-restore'
              : 'table ip kube-proxy (service-ips map, numgen vmap, endpoint chains) loaded with nft -f',
          mode: m,
        })),
        { title: `Podpath: ${lab.title} with which kube-proxy mode?`, ignoreFocusOut: true },
      );
      if (!pick) throw new CommandCancelled();
      kubeProxy = pick.mode;
    }
    const faultTitle = fault
      ? ` with ${FAULTS.find((f) => f.kind === fault)?.title ?? fault}`
      : kubeProxy
        ? ` (kube-proxy ${kubeProxy})`
        : '';
    s.labs.setState(lab.id, { status: 'running' });
    try {
      const content = await withCancellableProgress(
        `Podpath: running ${lab.title}${faultTitle}`,
        async (signal, report) => {
          // Not the runner's default (the current directory, which is anywhere in a host).
          const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
          const outDir = join(s.context.globalStorageUri.fsPath, 'labs', `${lab.id}-${stamp}`);
          const result = await runLab(lab.id, {
            outDir,
            keep,
            ...(fault ? { fault } : {}),
            ...(kubeProxy ? { kubeProxy } : {}),
            signal,
            onProgress: (p) => {
              report(p.message);
              s.log.line(`lab ${lab.id} [${p.phase}] ${p.message}`);
            },
            onTopology: (topology) =>
              s.labs.setState(lab.id, {
                status: 'running',
                topology,
                inventory: topology.inventory,
              }),
          });
          report('Reading the captures');
          // A Service lab's probe route is its own (an outside client, node A's eth0 twice):
          // its files are not the plan's hops, so they are analysed without it.
          const analysis = await analyzeCaptureFiles(
            result.files.map((f) => f.pcap),
            lab.service ? { signal } : { plan: result.plan, signal },
          );
          // The runner's findings also say why, from the node state it read after the build.
          analysis.report.findings = result.report.findings;
          const t = result.timings;
          s.log.line(
            `lab ${lab.id}: build ${t.buildMs} ms, capture ${t.captureMs} ms, teardown ${t.teardownMs} ms, total ${t.totalMs} ms; pcaps in ${result.outDir}`,
          );
          const view = await analysisView(analysis, {
            title: `Lab: ${lab.title}${faultTitle}`,
            ...(lab.service ? {} : { plan: result.plan }),
          });
          if (result.service) view.view.notes.push(...serviceNotes(result.service));
          // The pcaps stay: Reveal / Open in Wireshark on every hop, as for a trace.
          attachCaptureFiles(
            view,
            analysis.captures.map((c) => c.path),
            (await toolOnPath('wireshark')) !== undefined,
          );
          view.view.notes.push(
            `Captures kept in ${result.outDir}. Timings: build ${t.buildMs} ms, capture ${t.captureMs} ms, total ${t.totalMs} ms.`,
          );
          const prev = s.labs.state(lab.id);
          s.labs.setState(
            lab.id,
            result.kept
              ? { ...prev, status: 'up', detail: `Kept up; pcaps in ${result.outDir}` }
              : {
                  status: 'torn down',
                  detail: `Torn down after the run; pcaps in ${result.outDir}`,
                },
          );
          return view;
        },
      );
      s.panel.show(content);
      return content.view;
    } catch (err) {
      const prev = s.labs.state(lab.id);
      s.labs.setState(lab.id, {
        status: 'failed',
        ...(prev.inventory ? { inventory: prev.inventory } : {}),
        detail: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
  };

  return {
    'podpath.lab.run': {
      what: 'Running the lab',
      run: async (arg?: unknown) => {
        const { lab, args } = await chooseLab(s, arg);
        return run(lab, args);
      },
    },
    'podpath.lab.runFault': {
      what: 'Running the lab with a fault',
      run: async (arg?: unknown) => {
        const { lab, args } = await chooseLab(s, arg);
        let fault = args.fault;
        if (!fault) {
          if (lab.faults.length === 0)
            throw new Error(`${lab.title} has no faults to inject. Run a cross-node lab`);
          const pick = await vscode.window.showQuickPick(
            FAULTS.filter((f) => lab.faults.includes(f.kind)).map((f) => ({
              label: f.title,
              detail: faultDescription(lab, f.kind),
              fault: f.kind,
            })),
            { title: `Podpath: break ${lab.title} how?`, ignoreFocusOut: true },
          );
          if (!pick) throw new CommandCancelled();
          fault = pick.fault;
        }
        return run(lab, { ...args, fault });
      },
    },
    'podpath.lab.describe': {
      what: 'Showing the lab',
      run: (arg?: unknown) => {
        const args = labArgs(arg);
        const lab = args ? findLab(args.labId) : undefined;
        if (!lab) throw new Error('choose a lab in the Labs view');
        const content = datapathView(buildDatapathPlan(lab.planInput));
        content.view.title = `Lab: ${lab.title}`;
        const builds = labBuilds(lab).replace(/^needs root · /, '');
        content.view.notes.unshift(
          lab.description,
          lab.service
            ? `Running it needs root: it builds ${builds} as network namespaces on this machine, writes kube-proxy's rules (iptables or nftables mode) into both nodes, sends 200 requests from ${lab.service.client.name} to ${lab.service.target.ip}:${lab.service.target.port}, checks how they spread over the endpoints, reads conntrack's NAT, captures one connection at every hop, and tears it all down.`
            : `Running it needs root: it builds ${builds} as network namespaces on this machine, pings pod B from pod A while capturing at every hop, and tears it all down. Faults it can inject: ${lab.faults.map((f) => FAULTS.find((d) => d.kind === f)?.title ?? f).join(', ') || 'none'}.`,
        );
        s.panel.show(content);
        return Promise.resolve(content.view);
      },
    },
    'podpath.lab.teardown': {
      what: 'Tearing down the lab',
      run: async (arg?: unknown) => {
        const args = labArgs(arg);
        const topology = args ? s.labs.state(args.labId).topology : undefined;
        const title = args ? (findLab(args.labId)?.title ?? args.labId) : 'labs';
        let said: string;
        if (args && topology) {
          const { durationMs, report } = await teardownLab(topology);
          for (const line of describeCleanup(report)) s.log.line(`  ${line}`);
          said = `Podpath: tore down ${title}: removed ${topology.namespaces.length} network namespaces (${topology.namespaces.join(', ')})${topology.daemons.length > 0 ? ` and stopped ${topology.daemons.length} BIRD daemons` : ''} in ${durationMs} ms.`;
          void vscode.window.showInformationMessage(said);
        } else {
          // A lab kept by an earlier session (or the CLI): its run record says what it made.
          const report = await cleanLeftovers();
          said = `Podpath: ${title}: ${describeCleanup(report)[0] ?? 'nothing to remove.'}`;
          showCleanup(s, report);
        }
        if (args) s.labs.setState(args.labId, { status: 'torn down', detail: said });
        s.log.line(said);
        return said;
      },
    },
    'podpath.lab.clean': {
      what: 'Cleaning up lab leftovers',
      run: async () => {
        const report = await withCancellableProgress(
          'Podpath: cleaning up lab leftovers',
          (signal) => cleanLeftovers({ signal }),
        );
        showCleanup(s, report);
        return report;
      },
    },
  };
}
