/**
 * Offline lab commands (Labs view): run a lab, run it with one fault injected, tear down a
 * kept lab, clean up leftovers. A run shows its nodes, pods and interfaces in the tree as
 * soon as the topology is built, then opens the panel with the analysis of the pcaps.
 * Arguments: a Labs tree item, a lab id, or `{ labId, fault?, keep? }` (tests).
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { FaultKind, LabDefinition } from '../../core/labs/catalog';
import { FAULTS, LABS, findLab } from '../../core/labs/catalog';
import { analyzeCaptureFiles } from '../../platform/capture/analyzeFiles';
import { runLab } from '../../platform/labs/labRunner';
import { cleanLeftovers, teardownLab } from '../../platform/netns/labTopology';
import { analysisView } from '../panel/panelViews';
import type { CommandTable, Services } from '../services';
import { CommandCancelled, withCancellableProgress } from './commandErrors';

interface LabArgs {
  labId: string;
  fault?: FaultKind;
  keep?: boolean;
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
  };
  if (o.kind === 'lab' && typeof o.lab?.id === 'string') return { labId: o.lab.id };
  if (typeof o.labId === 'string') {
    return {
      labId: o.labId,
      ...(typeof o.fault === 'string' ? { fault: o.fault as FaultKind } : {}),
      ...(typeof o.keep === 'boolean' ? { keep: o.keep } : {}),
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

export function labCommands(s: Services): CommandTable {
  const run = async (lab: LabDefinition, args: LabArgs): Promise<unknown> => {
    const keep =
      args.keep ??
      vscode.workspace.getConfiguration('podpath').get<boolean>('labs.keepAfterRun', false);
    const fault = args.fault;
    const faultTitle = fault ? ` with ${FAULTS.find((f) => f.kind === fault)?.title ?? fault}` : '';
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
          const analysis = await analyzeCaptureFiles(
            result.files.map((f) => f.pcap),
            { plan: result.plan, signal },
          );
          const t = result.timings;
          s.log.line(
            `lab ${lab.id}: build ${t.buildMs} ms, capture ${t.captureMs} ms, teardown ${t.teardownMs} ms, total ${t.totalMs} ms; pcaps in ${result.outDir}`,
          );
          const view = await analysisView(analysis, {
            title: `Lab: ${lab.title}${faultTitle}`,
            plan: result.plan,
          });
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
                  ...(prev.inventory ? { inventory: prev.inventory } : {}),
                  detail: `pcaps in ${result.outDir}`,
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
              detail: f.description,
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
    'podpath.lab.teardown': {
      what: 'Tearing down the lab',
      run: async (arg?: unknown) => {
        const args = labArgs(arg);
        const topology = args ? s.labs.state(args.labId).topology : undefined;
        if (args && topology) {
          const { durationMs } = await teardownLab(topology);
          s.log.line(`lab ${args.labId} torn down in ${durationMs} ms`);
          s.labs.setState(args.labId, { status: 'torn down' });
          return true;
        }
        // A lab kept by an earlier session (or the CLI): remove it by its pp- prefix.
        const removed = await cleanLeftovers();
        if (args) s.labs.setState(args.labId, { status: 'torn down' });
        s.log.line(
          `teardown: removed ${removed.namespaces.length} namespaces, ${removed.links.length} links`,
        );
        return true;
      },
    },
    'podpath.lab.clean': {
      what: 'Cleaning up lab leftovers',
      run: async () => {
        const removed = await withCancellableProgress(
          'Podpath: cleaning up lab leftovers',
          (signal) => cleanLeftovers({ signal }),
        );
        const text =
          removed.namespaces.length + removed.links.length + removed.processes.length === 0
            ? 'Podpath: no lab leftovers found.'
            : `Podpath: removed ${removed.namespaces.length} namespaces, ${removed.links.length} links and ${removed.processes.length} processes.`;
        s.log.line(text);
        void vscode.window.showInformationMessage(text);
        return removed;
      },
    },
  };
}
