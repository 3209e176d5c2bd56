/**
 * Lab clusters on kind from the editor: Create lab cluster… (palette, Labs view, and the
 * CodeLens on a kind `Cluster` config), Delete, Recreate, Refresh, and the Trace offer.
 * The choices and the rows are core (labClusters.ts); the creation is the platform's
 * kindLab, the same steps as `podpath lab create --kind`. This file asks, shows and logs.
 * Arguments: a document Uri (+ line) from the CodeLens, a Labs tree item, or
 * `{ mode, kubeProxyMode, name? }` (tests, Recreate).
 */
import * as vscode from 'vscode';
import {
  cniChoices,
  kindLabCreateOptions,
  kubeProxyChoices,
  podIp,
  type LabChoice,
} from '../../core/kindlab/labClusters';
import {
  isKindClusterName,
  isKubeProxyMode,
  kindLabMode,
  type KindLabModeInfo,
  type KubeProxyMode,
} from '../../core/kindlab/modes';
import { PROBE_NAMESPACE } from '../../core/kindlab/probeManifests';
import { recognizeManifests } from '../../core/manifests/recognizeManifests';
import type { KindClusterManifest } from '../../core/manifests/types';
import { deleteKindLab, prepareKindLab, runKindLab } from '../../platform/kindlab/kindLab';
import type { CommandTable, Services } from '../services';
import { CommandCancelled, withCancellableProgress } from './commandErrors';
import { runTrace } from './traceCommands';

/** The button the finished creation offers. */
export const TRACE_OFFER = 'Trace pod A → pod B';

interface CreateArgs {
  mode?: KindLabModeInfo;
  kubeProxyMode?: KubeProxyMode;
  name?: string;
  config?: KindClusterManifest;
  /** Folder the config came from, when there is no workspace folder. */
  near?: vscode.Uri;
}

interface TraceArgs {
  name: string;
  mode: string | null;
  podBIp?: string;
}

export interface KindLabCreated {
  name: string;
  context: string;
  outDir: string;
  files: string[];
  probePods: string;
  warnings: string[];
  /** The notification's text and its button. */
  offer: { message: string; button: string };
}

async function pick<T>(title: string, choices: LabChoice<T>[]): Promise<T> {
  const chosen = await vscode.window.showQuickPick(
    choices.map((c) => ({ label: c.label, detail: c.detail, value: c.value })),
    { title, matchOnDetail: true, ignoreFocusOut: true },
  );
  if (!chosen) throw new CommandCancelled();
  return chosen.value;
}

/** The tree item's cluster name (Labs view) or a plain name. */
function clusterName(arg: unknown): { name: string; mode: string | null } | undefined {
  if (typeof arg === 'string') return { name: arg, mode: null };
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { kind?: unknown; row?: { name?: unknown; mode?: unknown }; name?: unknown };
  if (o.kind === 'kindCluster' && typeof o.row?.name === 'string') {
    return { name: o.row.name, mode: typeof o.row.mode === 'string' ? o.row.mode : null };
  }
  if (typeof o.name === 'string') {
    const mode = (o as { mode?: unknown }).mode;
    return { name: o.name, mode: typeof mode === 'string' ? mode : null };
  }
  return undefined;
}

async function createArgs(args: unknown[]): Promise<CreateArgs> {
  const [first, line] = args;
  if (first instanceof vscode.Uri) {
    // From the CodeLens: the kind Cluster config at that line supplies the name.
    const doc = await vscode.workspace.openTextDocument(first);
    const configs = recognizeManifests(doc.getText()).filter(
      (m): m is KindClusterManifest => m.kind === 'kindCluster',
    );
    const config =
      configs.find((c) => typeof line === 'number' && c.range.startLine === line) ?? configs[0];
    return { ...(config ? { config } : {}), near: vscode.Uri.joinPath(first, '..') };
  }
  if (typeof first === 'object' && first !== null && !('kind' in first)) {
    const o = first as { mode?: unknown; kubeProxyMode?: unknown; name?: unknown };
    const mode = typeof o.mode === 'string' ? kindLabMode(o.mode) : undefined;
    if (typeof o.mode === 'string' && !mode) throw new Error(`there is no lab mode ${o.mode}`);
    return {
      ...(mode ? { mode } : {}),
      ...(typeof o.kubeProxyMode === 'string' && isKubeProxyMode(o.kubeProxyMode)
        ? { kubeProxyMode: o.kubeProxyMode }
        : {}),
      ...(typeof o.name === 'string' ? { name: o.name } : {}),
    };
  }
  return {};
}

function workspaceDir(near?: vscode.Uri): string {
  const folder =
    (near ? vscode.workspace.getWorkspaceFolder(near) : undefined) ??
    vscode.workspace.workspaceFolders?.[0];
  if (folder) return folder.uri.fsPath;
  if (near?.scheme === 'file') return near.fsPath;
  throw new Error(
    'there is no folder open. Open a folder first: Podpath writes the lab’s kind config and manifests into <folder>/.podpath/kind/<name>',
  );
}

export function kindLabCommands(s: Services): CommandTable {
  const log = (text: string): void => s.log.line(`kind lab ${text}`);

  const create = async (args: CreateArgs): Promise<KindLabCreated> => {
    const mode =
      args.mode ??
      (await pick(
        args.config?.name
          ? `Podpath: create ${args.config.name} with which CNI?`
          : 'Podpath: lab cluster with which CNI?',
        cniChoices(),
      ));
    const kubeProxyMode =
      args.kubeProxyMode ?? (await pick('Podpath: kube-proxy in which mode?', kubeProxyChoices()));
    const from = args.name ? { name: args.name } : args.config?.name ? args.config : undefined;
    const options = kindLabCreateOptions(mode, kubeProxyMode, workspaceDir(args.near), from);
    const settings = vscode.workspace.getConfiguration('podpath');
    const probeImage = settings.get<string>('kindLab.probeImage', '') || undefined;
    const cniBinDir = settings.get<string>('kindLab.cniBinDir', '') || undefined;
    const prepared = await prepareKindLab({
      ...options,
      ...(probeImage ? { probeImage } : {}),
      ...(cniBinDir ? { cniBinDir } : {}),
    });
    const { plan } = prepared;
    log(
      `${plan.name}: ${mode.title}, kube-proxy ${kubeProxyMode}; wrote ${prepared.written.join(', ')}`,
    );
    const config = prepared.written.find((p) => p.endsWith('kind-config.yaml'));
    if (config) {
      await vscode.window.showTextDocument(vscode.Uri.file(config), {
        preview: false,
        preserveFocus: true,
      });
    }
    // Creating a cluster that a later step is sure to fail on (and then delete) helps nobody.
    if (prepared.warnings.length > 0) {
      throw new Error(
        `${prepared.warnings.join(' ')} (or set podpath.kindLab.cniBinDir). Nothing was created; the files are in ${prepared.outDir}`,
      );
    }
    s.labs.setKindClusterBusy(plan.name, 'creating');
    try {
      const total = plan.steps.length;
      const result = await withCancellableProgress(
        `Podpath: creating lab cluster ${plan.name} (${mode.title}, kube-proxy ${kubeProxyMode})`,
        (signal, report) =>
          runKindLab(plan, {
            signal,
            onProgress: (p) => {
              const n = plan.steps.indexOf(p.step) + 1;
              const where = n > 0 ? `${n}/${total}` : 'clean-up';
              if (p.status === 'start') report(`${where} ${p.step.title}`);
              if (p.status === 'output') report(`${where} ${p.message ?? ''}`);
              log(
                `${plan.name} [${where}] ${p.status}: ${p.status === 'start' ? p.step.title : (p.message ?? p.step.title)}${p.durationMs !== undefined ? ` (${p.durationMs} ms)` : ''}`,
              );
            },
          }),
      );
      for (const w of result.warnings) log(`${plan.name} warning: ${w}`);
      const ipB = podIp(result.probePods, 'pod-b');
      const message =
        `Podpath: lab cluster ${plan.name} is ready (context ${plan.context}); pod-a on ${plan.workers[0]}, pod-b on ${plan.workers[1]}${ipB ? ` (${ipB})` : ''}.` +
        (result.warnings.length > 0
          ? ` ${result.warnings.length} optional steps failed (see the log).`
          : '') +
        ` ${TRACE_OFFER} captures at every hop of the ${mode.title} datapath while pod-a pings pod-b.`;
      const traceArgs: TraceArgs = {
        name: plan.name,
        mode: mode.mode,
        ...(ipB ? { podBIp: ipB } : {}),
      };
      void vscode.window.showInformationMessage(message, TRACE_OFFER).then((button) => {
        if (button === TRACE_OFFER)
          void vscode.commands.executeCommand('podpath.kindLab.trace', traceArgs);
      });
      log(`${plan.name}: ready; offered "${TRACE_OFFER}"`);
      return {
        name: plan.name,
        context: plan.context,
        outDir: prepared.outDir,
        files: prepared.written,
        probePods: result.probePods,
        warnings: result.warnings,
        offer: { message, button: TRACE_OFFER },
      };
    } finally {
      s.labs.setKindClusterBusy(plan.name, undefined);
      await s.labs.refreshKindClusters();
    }
  };

  return {
    'podpath.kindLab.create': {
      what: 'Creating the lab cluster',
      run: async (...args: unknown[]) => create(await createArgs(args)),
    },
    'podpath.kindLab.recreate': {
      what: 'Recreating the lab cluster',
      run: async (arg?: unknown) => {
        const target = clusterName(arg);
        if (!target)
          throw new Error('no lab cluster given. Use Recreate on a cluster in the Labs view');
        const mode = target.mode ? kindLabMode(target.mode) : undefined;
        const answer = await vscode.window.showWarningMessage(
          `Delete kind cluster ${target.name} and create it again${mode ? ` with ${mode.title}` : ''}?`,
          { modal: true, detail: 'Everything running in it is lost.' },
          'Recreate',
        );
        if (answer !== 'Recreate') throw new CommandCancelled();
        await withCancellableProgress(`Podpath: deleting kind cluster ${target.name}`, (signal) =>
          deleteKindLab(target.name, { signal }),
        );
        log(`${target.name}: deleted for recreation`);
        return create({ name: target.name, ...(mode ? { mode } : {}) });
      },
    },
    'podpath.kindLab.delete': {
      what: 'Deleting the lab cluster',
      run: async (arg?: unknown) => {
        let target = clusterName(arg);
        if (!target) {
          const rows = s.labs.kindClusterRows();
          const chosen = await vscode.window.showQuickPick(
            rows.map((r) => ({ label: r.name, description: r.description, name: r.name })),
            { title: 'Podpath: delete which lab cluster?', ignoreFocusOut: true },
          );
          if (!chosen) throw new CommandCancelled();
          target = { name: chosen.name, mode: null };
        }
        const { name } = target;
        if (!isKindClusterName(name)) throw new Error(`${name} is not a kind cluster name`);
        const answer = await vscode.window.showWarningMessage(
          `Delete kind cluster ${name}?`,
          {
            modal: true,
            detail: `Runs kind delete cluster --name ${name}; its nodes and pods are gone.`,
          },
          'Delete',
        );
        if (answer !== 'Delete') throw new CommandCancelled();
        s.labs.setKindClusterBusy(name, 'deleting');
        try {
          await withCancellableProgress(`Podpath: deleting kind cluster ${name}`, (signal) =>
            deleteKindLab(name, { signal }),
          );
        } finally {
          s.labs.setKindClusterBusy(name, undefined);
          await s.labs.refreshKindClusters();
        }
        log(`${name}: deleted`);
        void vscode.window.showInformationMessage(`Podpath: deleted kind cluster ${name}.`);
        return true;
      },
    },
    'podpath.kindLab.refresh': {
      what: 'Listing the lab clusters',
      run: async () => {
        await s.labs.refreshKindClusters();
        return s.labs.kindClusterRows();
      },
    },
    'podpath.kindLab.trace': {
      what: 'Tracing pod A → pod B',
      run: async (arg?: unknown) => {
        const target = clusterName(arg);
        if (!target)
          throw new Error('no lab cluster given. Use Trace on a cluster in the Labs view');
        // The probe pods the lab deployed, pinned to the two workers (probeManifests.ts).
        const outcome = await runTrace(s, {
          context: `kind-${target.name}`,
          podA: `${PROBE_NAMESPACE}/pod-a`,
          podB: `${PROBE_NAMESPACE}/pod-b`,
        });
        const { seen, hops } = outcome.result;
        const text = `Podpath: ${target.name}: the probe from pod-a was seen at ${seen} of ${hops} hops to pod-b.`;
        log(`${target.name}: ${text}`);
        if (seen < hops) void vscode.window.showWarningMessage(text);
        else void vscode.window.showInformationMessage(text);
        return outcome;
      },
    },
  };
}
