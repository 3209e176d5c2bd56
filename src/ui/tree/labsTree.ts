/**
 * Labs view: the offline labs of src/core/labs/catalog.ts, each marked available or not on
 * this machine (labAvailability: root, tools, kernel devices; the reason shows as the
 * description and tooltip). Availability is asked again after a short while, so
 * installing a tool or `modprobe ipip` shows without a window reload. While a lab runs, and after a kept run, the lab expands to
 * its nodes and pods and their interfaces with IPs and MACs, from the runner's onTopology.
 */
import * as vscode from 'vscode';
import type { LabDefinition } from '../../core/labs/catalog';
import { LABS } from '../../core/labs/catalog';
import type { LabInterface } from '../../core/labs/labInventory';
import type { LabTopology } from '../../platform/netns/labBuild';
import type { Availability } from '../../platform/netns/kernelProbes';
import { LinkKindProbe, labAvailability } from '../../platform/netns/kernelProbes';
import { labsUnsupportedReason } from '../../platform/labs/hostSupport';

/** How long an availability answer is shown before the machine is asked again. */
const AVAILABILITY_MAX_AGE_MS = 30_000;
import { LAB_WORKSPACE_DIR, type LabClusterRow } from '../../core/kindlab/labClusters';
import { listLabClusters } from '../../platform/kindlab/labClusters';

export type LabStatus = 'idle' | 'running' | 'up' | 'torn down' | 'failed';

export interface LabState {
  status: LabStatus;
  /** The built topology while it exists (running or kept). */
  topology?: LabTopology;
  inventory?: LabTopology['inventory'];
  detail?: string;
}

export type LabNode =
  | { kind: 'lab'; lab: LabDefinition }
  | {
      kind: 'member';
      labId: string;
      role: 'node' | 'pod';
      name: string;
      where: string;
      interfaces: LabInterface[];
    }
  | { kind: 'interface'; labId: string; owner: string; iface: LabInterface }
  // Lab clusters on kind that Podpath created (kindLabCommands.ts).
  | { kind: 'kindClusters' }
  | { kind: 'kindCluster'; row: LabClusterRow }
  | { kind: 'kindClustersNote'; text: string; tooltip: string };

/** `needs root · 2 nodes, 2 pods, flannel.1 VXLAN`: what running the lab builds. */
export function labBuilds(lab: LabDefinition): string {
  const nodes =
    new Set(lab.network.pods.map((p) => p.node)).size === 1 && lab.sameNode
      ? 1
      : lab.network.nodes.length;
  const tunnel = lab.network.nodes[0]?.tunnel;
  const parts = [`${nodes} node${nodes === 1 ? '' : 's'}`, `${lab.network.pods.length} pods`];
  if (tunnel) parts.push(`${tunnel.device} ${tunnel.kind === 'vxlan' ? 'VXLAN' : 'IPIP'}`);
  if (lab.network.routing === 'calico-bgp') parts.push('BIRD over iBGP');
  if (lab.service) {
    if ((lab.network.clients ?? []).length > 0) parts.push('a client outside the cluster');
    parts.push(`kube-proxy rules for ${lab.service.spec.type} ${lab.service.spec.name}`);
  }
  return `needs root · ${parts.join(', ')}`;
}

export class LabsTree implements vscode.TreeDataProvider<LabNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<LabNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly availability = new Map<string, { at: number; result: Promise<Availability> }>();
  private readonly linkKinds = new LinkKindProbe();
  private readonly states = new Map<string, LabState>();
  private kindRows: LabClusterRow[] | Error | undefined;
  private kindLoading: Promise<void> | undefined;
  private readonly kindBusy = new Map<string, string>();

  /** The lab clusters last listed (none before the first listing or after it failed). */
  kindClusterRows(): LabClusterRow[] {
    return Array.isArray(this.kindRows) ? this.kindRows : [];
  }

  /** Marks a lab cluster as being created or deleted (undefined clears it). */
  setKindClusterBusy(name: string, what: string | undefined): void {
    if (what) this.kindBusy.set(name, what);
    else this.kindBusy.delete(name);
    this.changed.fire(undefined);
  }

  /** Lists the kind clusters again (kind get clusters + the lab labels). */
  refreshKindClusters(): Promise<void> {
    this.kindLoading ??= this.loadKindClusters().finally(() => {
      this.kindLoading = undefined;
    });
    return this.kindLoading;
  }

  private async loadKindClusters(): Promise<void> {
    // Labs whose files Podpath wrote into a workspace folder count even when kubectl
    // cannot read their labels.
    const known = new Set<string>();
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      try {
        const dir = vscode.Uri.joinPath(folder.uri, ...LAB_WORKSPACE_DIR.split('/'));
        for (const [name, type] of await vscode.workspace.fs.readDirectory(dir)) {
          if (type === vscode.FileType.Directory) known.add(name);
        }
      } catch {
        // No .podpath/kind in this folder.
      }
    }
    try {
      this.kindRows = await listLabClusters({ known });
    } catch (err) {
      this.kindRows = err instanceof Error ? err : new Error(String(err));
    }
    this.changed.fire(undefined);
  }

  state(labId: string): LabState {
    return this.states.get(labId) ?? { status: 'idle' };
  }

  setState(labId: string, state: LabState): void {
    this.states.set(labId, state);
    this.changed.fire(undefined);
  }

  /** Availability of a lab on this machine (asked again once the answer is 30 s old). */
  available(lab: LabDefinition): Promise<Availability> {
    const cached = this.availability.get(lab.id);
    if (cached && Date.now() - cached.at < AVAILABILITY_MAX_AGE_MS) return cached.result;
    const unsupported = labsUnsupportedReason();
    const result: Promise<Availability> = unsupported
      ? Promise.resolve({ available: false, reason: unsupported })
      : labAvailability(lab, this.linkKinds).catch((err: unknown): Availability => ({
          available: false,
          reason: `Could not check: ${err instanceof Error ? err.message : String(err)}`,
        }));
    this.availability.set(lab.id, { at: Date.now(), result });
    return result;
  }

  getChildren(element?: LabNode): LabNode[] {
    if (!element)
      return [...LABS.map((lab): LabNode => ({ kind: 'lab', lab })), { kind: 'kindClusters' }];
    if (element.kind === 'kindClusters') {
      // The first listing runs in the background; its change event fills the group.
      if (this.kindRows === undefined) void this.refreshKindClusters();
      const rows = this.kindRows;
      if (rows instanceof Error) {
        return [
          {
            kind: 'kindClustersNote',
            text: 'kind clusters could not be listed',
            tooltip: `kind get clusters failed: ${rows.message}. Lab clusters need Docker and kind (kind.sigs.k8s.io).`,
          },
        ];
      }
      const listed = (rows ?? []).map((row): LabNode => ({ kind: 'kindCluster', row }));
      // A cluster being created is not listed by kind yet: show it while it is.
      const pending = [...this.kindBusy]
        .filter(([name]) => !(rows ?? []).some((r) => r.name === name))
        .map(([name, what]): LabNode => ({
          kind: 'kindClustersNote',
          text: name,
          tooltip: `Podpath is ${what} kind cluster ${name}; the progress notification shows each step.`,
        }));
      return [...listed, ...pending];
    }
    if (element.kind === 'lab') {
      const st = this.state(element.lab.id);
      // Only a lab that exists has nodes and pods: a torn-down one lists none.
      const inv = st.status === 'running' || st.status === 'up' ? st.inventory : undefined;
      if (!inv) return [];
      return [
        ...inv.nodes.map((n): LabNode => ({
          kind: 'member',
          labId: element.lab.id,
          role: 'node',
          name: n.name,
          where: n.namespace,
          interfaces: n.interfaces,
        })),
        ...inv.pods.map((p): LabNode => ({
          kind: 'member',
          labId: element.lab.id,
          role: 'pod',
          name: p.name,
          where: `on ${p.node} · ${p.namespace}`,
          interfaces: p.interfaces,
        })),
      ];
    }
    if (element.kind === 'member') {
      return element.interfaces.map((iface) => ({
        kind: 'interface',
        labId: element.labId,
        owner: element.name,
        iface,
      }));
    }
    return [];
  }

  async getTreeItem(node: LabNode): Promise<vscode.TreeItem> {
    if (node.kind === 'kindClusters') {
      const item = new vscode.TreeItem(
        'Lab clusters on kind',
        vscode.TreeItemCollapsibleState.Expanded,
      );
      item.id = 'kindLabs';
      const rows = this.kindRows;
      item.description = Array.isArray(rows)
        ? rows.length === 0
          ? 'none yet'
          : `${rows.length}`
        : '';
      item.tooltip =
        'kind clusters Podpath created (their nodes carry the podpath.dev/lab label). Create one with Podpath: Create lab cluster….';
      item.iconPath = new vscode.ThemeIcon('server-environment');
      item.contextValue = 'podpath.kindLabs';
      return item;
    }
    if (node.kind === 'kindCluster') {
      const item = new vscode.TreeItem(node.row.label, vscode.TreeItemCollapsibleState.None);
      item.id = `kindLab:${node.row.name}`;
      const busy = this.kindBusy.get(node.row.name);
      item.description = busy ? `${busy}…` : node.row.description;
      item.tooltip = node.row.tooltip;
      item.iconPath = new vscode.ThemeIcon(busy ? 'loading~spin' : 'vm-running');
      item.contextValue = node.row.contextValue;
      return item;
    }
    if (node.kind === 'kindClustersNote') {
      const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
      item.id = `kindLabs:note:${node.text}`;
      const busy = this.kindBusy.get(node.text);
      if (busy) item.description = `${busy}…`;
      item.tooltip = node.tooltip;
      item.iconPath = new vscode.ThemeIcon(busy ? 'loading~spin' : 'info');
      return item;
    }
    if (node.kind === 'lab') {
      const st = this.state(node.lab.id);
      const availability = await this.available(node.lab);
      const built = (st.status === 'running' || st.status === 'up') && st.inventory;
      const item = new vscode.TreeItem(
        node.lab.title,
        built ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
      );
      // A new id once the topology exists, so the workbench applies Expanded instead of keeping
      // the earlier leaf state.
      item.id = `lab:${node.lab.id}${built ? ':built' : ''}`;
      const status = st.status === 'idle' ? '' : st.status;
      item.description = availability.available
        ? [status, labBuilds(node.lab)].filter(Boolean).join(' · ')
        : `unavailable: ${availability.reason ?? ''}`;
      const tip = new vscode.MarkdownString();
      tip.appendText(`${node.lab.description}\n\n`);
      tip.appendText(
        availability.available
          ? `Needs root: it builds ${labBuilds(node.lab)} as network namespaces (pp-${node.lab.network.short}-…) on this machine and removes them after the run. Click to see its datapath.`
          : `Unavailable: ${availability.reason ?? ''}`,
      );
      item.command = {
        command: 'podpath.lab.describe',
        title: 'Show lab',
        arguments: [node.lab.id],
      };
      if (st.detail) tip.appendText(`\n\n${st.detail}`);
      item.tooltip = tip;
      item.iconPath = new vscode.ThemeIcon(
        !availability.available
          ? 'circle-slash'
          : st.status === 'running'
            ? 'loading~spin'
            : st.status === 'up'
              ? 'vm-running'
              : st.status === 'failed'
                ? 'error'
                : 'beaker',
      );
      item.contextValue = !availability.available
        ? 'podpath.labUnavailable'
        : st.status === 'up'
          ? 'podpath.labUp'
          : 'podpath.lab';
      return item;
    }
    if (node.kind === 'member') {
      const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `lab:${node.labId}:${node.role}:${node.name}`;
      item.description = node.where;
      item.iconPath = new vscode.ThemeIcon(node.role === 'node' ? 'server' : 'package');
      item.contextValue = `podpath.lab${node.role === 'node' ? 'Node' : 'Pod'}`;
      return item;
    }
    const i = node.iface;
    const item = new vscode.TreeItem(i.name, vscode.TreeItemCollapsibleState.None);
    item.id = `lab:${node.labId}:${node.owner}:${i.name}`;
    item.description = [i.ipv4, i.mac, `mtu ${i.mtu}`, i.kind].filter(Boolean).join(' · ');
    item.iconPath = new vscode.ThemeIcon('plug');
    item.contextValue = 'podpath.labInterface';
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
