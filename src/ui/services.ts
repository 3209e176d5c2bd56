/**
 * What the commands, trees and lenses share, constructed once in activate(). Passed
 * explicitly instead of living in module globals.
 */
import type * as vscode from 'vscode';
import type { TraceNode, TraceNodeShell } from '../platform/trace/podTrace';
import type { OutputLog } from './outputLog';
import type { PanelHost } from './panel/panelHost';
import type { CapturesTree } from './tree/capturesTree';
import type { ClustersTree } from './tree/clustersTree';
import type { DatapathsTree } from './tree/datapathsTree';
import type { LabsTree } from './tree/labsTree';

export interface Services {
  context: vscode.ExtensionContext;
  log: OutputLog;
  panel: PanelHost;
  clusters: ClustersTree;
  captures: CapturesTree;
  datapaths: DatapathsTree;
  labs: LabsTree;
  /**
   * How Trace to… reaches nodes that are not kind containers (a node-shell pod per node,
   * created after the person agreed). Unset: such clusters get a clear "not built yet".
   */
  nodeShellFor?: NodeShellProvider;
}

/** Makes one shell for the nodes a trace needs; its `dispose` removes what it created. */
export type NodeShellProvider = (
  nodes: readonly TraceNode[],
  signal?: AbortSignal,
) => Promise<TraceNodeShell>;

/** A command family: ids and handlers, registered (and guarded) by registerCommands. */
export type CommandTable = Record<string, { what: string; run: (...args: unknown[]) => unknown }>;
