/**
 * How each element of the Clusters view looks: labels, descriptions, icons, tooltips and the
 * contextValues the menus in package.json match (`podpath.kubeNode`, `podpath.kubePod`…).
 */
import * as vscode from 'vscode';
import type { NodeSummary, PodSummary } from '../../core/cluster/types';
import type {
  ConnectionState,
  KubeContextEntry,
  NetworkPicture,
} from '../../platform/kube/kubeExplorer';

export type ClusterElement =
  | { kind: 'context'; id: string; context: string; name: string; ctx: KubeContextEntry }
  | { kind: 'nodes'; id: string; context: string }
  | { kind: 'node'; id: string; context: string; name: string; summary: NodeSummary }
  | {
      kind: 'pod';
      id: string;
      context: string;
      node: string;
      namespace: string;
      name: string;
      summary: PodSummary;
    }
  | { kind: 'network'; id: string; context: string }
  | {
      kind: 'detail';
      id: string;
      context: string;
      label: string;
      description: string;
      tooltip?: string;
    }
  | { kind: 'message'; id: string; context: string; text: string; severity: 'error' | 'info' };

export interface ItemState {
  current: string | null;
  state: ConnectionState | undefined;
  nodeCount: number | undefined;
  podCount: number | undefined;
  watched: boolean;
  network: NetworkPicture | undefined;
}

const Collapsed = vscode.TreeItemCollapsibleState.Collapsed;
const None = vscode.TreeItemCollapsibleState.None;

/** `connected`, `reconnecting since 10:42:07`, `unreachable: …`. */
export function describeState(state: ConnectionState | undefined): string {
  if (!state) return '';
  switch (state.kind) {
    case 'connecting':
      return 'connecting…';
    case 'connected':
      return 'connected';
    case 'reconnecting':
      return `reconnecting since ${new Date(state.since).toLocaleTimeString()}`;
    case 'failed':
      return `unreachable: ${state.why}`;
    case 'absent':
      return 'not served by this cluster';
  }
}

function tooltip(lines: string[]): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendText(lines.filter(Boolean).join('\n'));
  return md;
}

export function clusterTreeItem(e: ClusterElement, s: ItemState): vscode.TreeItem {
  switch (e.kind) {
    case 'context': {
      const isCurrent = e.name === s.current;
      const item = new vscode.TreeItem(e.name, Collapsed);
      const state = describeState(s.state);
      item.description = [
        isCurrent ? 'current' : '',
        e.ctx.namespace ? `ns ${e.ctx.namespace}` : '',
        state,
      ]
        .filter(Boolean)
        .join(' · ');
      const bad = s.state?.kind === 'failed' || s.state?.kind === 'reconnecting';
      item.iconPath = new vscode.ThemeIcon(
        bad ? 'warning' : isCurrent ? 'pass-filled' : 'circle-large-outline',
      );
      item.contextValue = isCurrent ? 'podpath.currentContext' : 'podpath.context';
      item.tooltip = tooltip([
        `Context ${e.name}${isCurrent ? ' (current)' : ''}`,
        `Cluster ${e.ctx.cluster}${e.ctx.server ? ` at ${e.ctx.server}` : ''}`,
        `User ${e.ctx.user}`,
        `From ${e.ctx.file}`,
        state ? `State: ${state}` : '',
      ]);
      return item;
    }
    case 'nodes': {
      const item = new vscode.TreeItem('Nodes', Collapsed);
      item.description = s.nodeCount === undefined ? '' : String(s.nodeCount);
      item.iconPath = new vscode.ThemeIcon('server');
      item.contextValue = 'podpath.kubeNodes';
      return item;
    }
    case 'node': {
      const n = e.summary;
      const item = new vscode.TreeItem(n.name, Collapsed);
      const ready = n.ready === null ? 'Ready?' : n.ready ? 'Ready' : 'NotReady';
      item.description = [
        n.roles.join(',') || '',
        ready,
        n.internalIP ?? '',
        n.podCIDRs.join(','),
        n.provider ?? '',
        n.kubeletVersion ?? '',
        s.watched && s.podCount !== undefined ? `${s.podCount} pods` : '',
      ]
        .filter(Boolean)
        .join(' · ');
      item.iconPath = new vscode.ThemeIcon(
        n.ready === false ? 'error' : 'vm',
        n.ready === false ? new vscode.ThemeColor('errorForeground') : undefined,
      );
      item.contextValue = 'podpath.kubeNode';
      item.tooltip = tooltip([
        `Node ${n.name}`,
        `Roles: ${n.roles.join(', ') || 'none'}`,
        `Ready: ${ready}`,
        `InternalIP: ${n.internalIP ?? '-'}`,
        `podCIDRs: ${n.podCIDRs.join(', ') || '-'}`,
        `Provider: ${n.provider ?? '-'}`,
        `Kubelet: ${n.kubeletVersion ?? '-'}`,
      ]);
      return item;
    }
    case 'pod': {
      const p = e.summary;
      const item = new vscode.TreeItem(`${p.namespace}/${p.name}`, None);
      item.description = [p.podIP ?? 'no IP', p.phase ?? '', p.hostNetwork ? 'host network' : '']
        .filter(Boolean)
        .join(' · ');
      item.iconPath = new vscode.ThemeIcon(p.hostNetwork ? 'globe' : 'package');
      item.contextValue = 'podpath.kubePod';
      item.tooltip = tooltip([
        `Pod ${p.namespace}/${p.name}`,
        `Node: ${p.node ?? '-'}`,
        `Pod IP: ${p.podIP ?? '-'}${p.hostNetwork ? ' (host network: the node IP)' : ''}`,
        `Phase: ${p.phase ?? '-'}`,
      ]);
      return item;
    }
    case 'network': {
      const item = new vscode.TreeItem('Network', Collapsed);
      const pic = s.network;
      item.description = pic
        ? [
            pic.network.cni,
            pic.network.mode ?? (pic.network.cni === 'unknown' ? '' : 'mode not modelled yet'),
            `kube-proxy ${pic.kubeProxy.mode}`,
          ]
            .filter(Boolean)
            .join(' · ')
        : 'reading…';
      item.iconPath = new vscode.ThemeIcon('type-hierarchy');
      item.contextValue = 'podpath.kubeNetwork';
      item.command = {
        command: 'podpath.cluster.showNetwork',
        title: 'Show the cluster datapath',
        arguments: [e],
      };
      const svc = pic?.network.details['serviceCIDRs'];
      item.tooltip = tooltip([
        'Select to open the datapath of the detected mode with this cluster’s nodes.',
        pic
          ? `Service CIDR: ${Array.isArray(svc) && svc.length > 0 ? svc.join(', ') : 'not readable'}`
          : '',
        ...(pic?.network.evidence ?? []),
      ]);
      return item;
    }
    case 'detail': {
      const item = new vscode.TreeItem(e.label, None);
      item.description = e.description;
      if (e.tooltip) item.tooltip = tooltip([e.tooltip]);
      item.contextValue = 'podpath.kubeDetail';
      return item;
    }
    case 'message': {
      const item = new vscode.TreeItem(e.text, None);
      item.iconPath = new vscode.ThemeIcon(e.severity === 'error' ? 'error' : 'info');
      item.tooltip = tooltip([e.text]);
      item.contextValue = 'podpath.kubeMessage';
      return item;
    }
  }
}
