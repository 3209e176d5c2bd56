/**
 * Capture commands: analyze capture files (a folder or chosen files, one file per hop in
 * name order, adjustable), reveal a set or hop in the Explorer, remove a set from the view.
 * `podpath.capture.analyze` also takes `{ paths, plan?, sameNode? }` so tests and scripts
 * can run it without dialogs; `paths` may be one folder.
 */
import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import {
  CNI_MODES,
  buildDatapathPlan,
  defaultPlanInput,
  isCniMode,
} from '../../core/datapath/plans';
import type { DatapathPlan } from '../../core/datapath/types';
import { lossHeadline } from '../../core/hops/findings';
import { analyzeCaptureFiles, hopNameFromPath } from '../../platform/capture/analyzeFiles';
import { analysisView } from '../panel/panelViews';
import type { CommandTable, Services } from '../services';
import type { CaptureHop, CaptureSet } from '../tree/capturesTree';
import { captureSetFiles, captureSetSkipped } from '../tree/capturesTree';
import { CommandCancelled, withCancellableProgress } from './commandErrors';

export interface AnalyzeArgs {
  paths: string[];
  /** A CNI mode (`flannel-vxlan`…) to compare the captures with; none: correlate only. */
  plan?: string;
  sameNode?: boolean;
}

function isAnalyzeArgs(x: unknown): x is AnalyzeArgs {
  return (
    typeof x === 'object' &&
    x !== null &&
    Array.isArray((x as AnalyzeArgs).paths) &&
    (x as AnalyzeArgs).paths.every((p) => typeof p === 'string')
  );
}

function isNode(x: unknown, kind: 'set' | 'hop'): boolean {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === kind;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A folder → its hop files; files stay as given. */
function setFromPaths(paths: string[]): CaptureSet {
  const [first] = paths;
  if (paths.length === 1 && first !== undefined && isDirectory(first)) {
    return { kind: 'set', folder: first, files: null };
  }
  const sorted = [...paths].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return { kind: 'set', folder: dirname(sorted[0] ?? '.'), files: sorted };
}

async function reorder(files: string[]): Promise<string[]> {
  const left = [...files];
  const ordered: string[] = [];
  while (left.length > 1) {
    const pick = await vscode.window.showQuickPick(
      left.map((path) => ({ label: hopNameFromPath(path), path })),
      { title: `Podpath: hop ${ordered.length + 1} of ${files.length}`, ignoreFocusOut: true },
    );
    if (!pick) throw new CommandCancelled();
    ordered.push(pick.path);
    left.splice(left.indexOf(pick.path), 1);
  }
  return [...ordered, ...left];
}

interface PlanChoice extends vscode.QuickPickItem {
  action: 'analyze' | 'reorder';
  plan?: DatapathPlan;
}

/** Plans whose hop names are exactly the files' hop names: the captures were made for them. */
function matchingPlans(files: readonly string[]): DatapathPlan[] {
  const names = files.map(hopNameFromPath).join('\n');
  return CNI_MODES.flatMap((m) =>
    [false, true].map((sameNode) => buildDatapathPlan(defaultPlanInput(m.mode, { sameNode }))),
  ).filter((plan) => plan.hops.map((h) => h.name).join('\n') === names);
}

/**
 * One pick confirms the hop order and chooses the plan to compare with (the first item,
 * a plan whose hop names match the files, or no plan, is the default), or reorders.
 */
async function confirmAnalysis(files: string[]): Promise<{ files: string[]; plan?: DatapathPlan }> {
  for (;;) {
    const order = files.map(hopNameFromPath).join(' → ');
    const matching = matchingPlans(files);
    const items: PlanChoice[] = [
      ...matching.map((plan) => ({
        label: `Analyze against ${plan.title}`,
        description: 'hop names match this plan',
        detail: order,
        action: 'analyze' as const,
        plan,
      })),
      { label: 'Analyze without a datapath plan', detail: order, action: 'analyze' },
      ...(files.length > 1
        ? [
            {
              label: 'Reorder the hops…',
              detail: 'Pick the hops one by one, first hop first',
              action: 'reorder' as const,
            },
          ]
        : []),
      { label: 'Compare with a plan', kind: vscode.QuickPickItemKind.Separator, action: 'analyze' },
      ...CNI_MODES.flatMap((m) =>
        [false, true].map((sameNode): PlanChoice => {
          const plan = buildDatapathPlan(defaultPlanInput(m.mode, { sameNode }));
          return {
            label: `Analyze against ${plan.title}`,
            detail: m.description,
            action: 'analyze',
            plan,
          };
        }),
      ),
    ];
    const pick = await vscode.window.showQuickPick(items, {
      title: `Podpath: ${files.length} hops, in this order`,
      ignoreFocusOut: true,
    });
    if (!pick) throw new CommandCancelled();
    if (pick.action === 'reorder') {
      files = await reorder(files);
      continue;
    }
    return pick.plan ? { files, plan: pick.plan } : { files };
  }
}

function planFromArg(
  plan: string | undefined,
  sameNode: boolean | undefined,
): DatapathPlan | undefined {
  if (plan === undefined || plan === '') return undefined;
  if (!isCniMode(plan)) {
    throw new Error(
      `${plan} is not a CNI mode; use one of ${CNI_MODES.map((m) => m.mode).join(', ')}`,
    );
  }
  return buildDatapathPlan(defaultPlanInput(plan, { sameNode: sameNode ?? false }));
}

export function captureCommands(s: Services): CommandTable {
  const analyze = async (arg?: unknown): Promise<unknown> => {
    let set: CaptureSet;
    let plan: DatapathPlan | undefined;
    let interactive = false;
    if (isAnalyzeArgs(arg)) {
      set = setFromPaths(arg.paths);
      plan = planFromArg(arg.plan, arg.sameNode);
    } else if (arg instanceof vscode.Uri) {
      set = setFromPaths([arg.fsPath]);
      interactive = true;
    } else if (isNode(arg, 'set')) {
      set = arg as CaptureSet;
      interactive = true;
    } else {
      const picked = await vscode.window.showOpenDialog({
        canSelectFiles: true,
        canSelectFolders: true,
        canSelectMany: true,
        openLabel: 'Analyze',
        title: 'Podpath: choose a folder of hop captures, or the capture files (one per hop)',
        filters: { Captures: ['pcap', 'pcapng', 'cap', 'txt'], 'All files': ['*'] },
      });
      if (!picked || picked.length === 0) throw new CommandCancelled();
      set = setFromPaths(picked.map((u) => u.fsPath));
      interactive = true;
    }
    let files = captureSetFiles(set);
    if (files.length === 0) {
      throw new Error(
        `there are no capture files in ${set.folder}. Choose a folder holding one pcap or tcpdump text file per hop`,
      );
    }
    if (interactive) {
      const confirmed = await confirmAnalysis(files);
      if (confirmed.files.join('\n') !== files.join('\n')) set = { ...set, files: confirmed.files };
      files = confirmed.files;
      plan = confirmed.plan;
    }
    await s.captures.add(set.folder, set.files);
    const title = basename(set.folder);
    const { content, headline } = await withCancellableProgress(
      `Podpath: analyzing ${title}`,
      async (signal, report) => {
        const analysis = await analyzeCaptureFiles(files, { plan, signal, onProgress: report });
        return {
          content: await analysisView(analysis, { title: `Captures: ${title}`, plan }),
          headline: lossHeadline(analysis.report),
        };
      },
    );
    s.log.line(`analyzed ${files.length} hops in ${set.folder}: ${headline}`);
    // Files of the folder that were not read, said rather than silently left out; a
    // pcap's own text rendering is expected and not worth a line.
    const skipped = captureSetSkipped(set).filter((f) => !f.why.startsWith('the text rendering'));
    if (skipped.length > 0) {
      const said = `Skipped ${skipped.map((f) => `${f.name} (${f.why})`).join(', ')}.`;
      s.log.line(said);
      content.view.findings.unshift(said);
    }
    s.panel.show(content);
    return content.view;
  };

  return {
    'podpath.capture.analyze': { what: 'Analyzing the capture files', run: analyze },
    'podpath.capture.reveal': {
      what: 'Revealing the capture',
      run: async (arg?: unknown) => {
        const path = isNode(arg, 'hop')
          ? (arg as CaptureHop).path
          : isNode(arg, 'set')
            ? (arg as CaptureSet).folder
            : undefined;
        if (!path) throw new Error('no capture set or hop was given. Use the Captures view menu');
        const uri = vscode.Uri.file(path);
        // The Explorer only shows workspace files; anything else opens in the OS file manager.
        const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
        await vscode.commands.executeCommand(
          inWorkspace ? 'revealInExplorer' : 'revealFileInOS',
          uri,
        );
        return path;
      },
    },
    'podpath.capture.remove': {
      what: 'Removing the capture set',
      run: async (arg?: unknown) => {
        if (!isNode(arg, 'set'))
          throw new Error('no capture set was given. Use the Captures view menu');
        await s.captures.remove(arg as CaptureSet);
        return true;
      },
    },
  };
}
