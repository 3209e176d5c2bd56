/**
 * Datapaths view: every CNI mode the core can plan, each with its node placements
 * (cross-node, same-node; CrossSubnet also across subnets). Selecting a placement runs
 * `podpath.datapath.show` with it, which draws the plan's diagram in the panel.
 */
import * as vscode from 'vscode';
import { CNI_MODES } from '../../core/datapath/plans';
import type { CniMode } from '../../core/datapath/types';

export interface DatapathChoice {
  mode: CniMode;
  sameNode: boolean;
  crossSubnet?: boolean;
}

export type DatapathNode =
  | { kind: 'mode'; mode: CniMode; title: string; description: string }
  | { kind: 'placement'; choice: DatapathChoice; label: string };

/** Placements offered for a mode. */
export function placementsFor(mode: CniMode): { choice: DatapathChoice; label: string }[] {
  const list: { choice: DatapathChoice; label: string }[] = [
    { choice: { mode, sameNode: false }, label: 'cross-node' },
    { choice: { mode, sameNode: true }, label: 'same-node' },
  ];
  if (mode === 'calico-crosssubnet') {
    list.splice(1, 0, {
      choice: { mode, sameNode: false, crossSubnet: true },
      label: 'cross-subnet',
    });
  }
  return list;
}

export class DatapathsTree implements vscode.TreeDataProvider<DatapathNode> {
  getChildren(element?: DatapathNode): DatapathNode[] {
    if (!element) return CNI_MODES.map((m) => ({ kind: 'mode', ...m }));
    if (element.kind === 'placement') return [];
    return placementsFor(element.mode).map((p) => ({ kind: 'placement', ...p }));
  }

  getTreeItem(node: DatapathNode): vscode.TreeItem {
    if (node.kind === 'mode') {
      const item = new vscode.TreeItem(node.title, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `mode:${node.mode}`;
      item.tooltip = node.description;
      item.description = node.mode;
      item.iconPath = new vscode.ThemeIcon('type-hierarchy-sub');
      item.contextValue = 'podpath.datapathMode';
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.id = `placement:${node.choice.mode}:${node.label}`;
    item.iconPath = new vscode.ThemeIcon('arrow-swap');
    item.contextValue = 'podpath.datapath';
    item.command = {
      command: 'podpath.datapath.show',
      title: 'Show datapath',
      arguments: [node.choice],
    };
    return item;
  }
}
