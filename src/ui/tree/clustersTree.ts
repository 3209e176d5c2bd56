/**
 * Clusters view: one item per kubeconfig context, the current one marked. Contexts come from
 * src/platform/kube/kubeconfig.ts (setting, then KUBECONFIG, then ~/.kube/config). Nodes, pods
 * and CNI settings under a context come with a later issue, so items do not expand yet; with
 * no context the view stays empty and package.json's welcome content shows instead.
 */
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import type * as Kubeconfig from '../../platform/kube/kubeconfig';
import type { KubeContextInfo, KubeContextList } from '../../platform/kube/kubeconfig';

/**
 * dist/kubeconfig.js is bundled on its own (esbuild.mjs) and loaded here on first use:
 * client-node is most of the code and most of the start-up cost, and only this view needs it.
 */
function loadKubeconfig(): typeof Kubeconfig {
  return createRequire(__filename)('./kubeconfig.js') as typeof Kubeconfig;
}

export class ClustersTree implements vscode.TreeDataProvider<KubeContextInfo>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<KubeContextInfo | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private cache: Promise<KubeContextList> | undefined;
  private current: string | null = null;

  constructor(private readonly log: (line: string) => void) {}

  /** Re-reads the kubeconfig files on the next request. */
  refresh(): void {
    this.cache = undefined;
    this.changed.fire(undefined);
  }

  /** The contexts as last read (reads them if needed). */
  contexts(): Promise<KubeContextList> {
    if (!this.cache) {
      this.cache = Promise.resolve().then(() => {
        const { kubeconfigFiles, readKubeContexts } = loadKubeconfig();
        const setting = vscode.workspace.getConfiguration('podpath').get<string>('kubeconfig', '');
        const files = kubeconfigFiles(setting, process.env, homedir());
        const list = readKubeContexts(files);
        this.log(
          `kubeconfig: ${list.contexts.length} contexts from ${files.join(', ')}${list.current ? `, current ${list.current}` : ''}`,
        );
        for (const p of list.problems) this.log(`kubeconfig: ${p}`);
        return list;
      });
    }
    return this.cache;
  }

  async getChildren(element?: KubeContextInfo): Promise<KubeContextInfo[]> {
    if (element) return [];
    const list = await this.contexts();
    this.current = list.current;
    return list.contexts;
  }

  getTreeItem(ctx: KubeContextInfo): vscode.TreeItem {
    const isCurrent = ctx.name === this.current;
    const item = new vscode.TreeItem(ctx.name, vscode.TreeItemCollapsibleState.None);
    item.id = `context:${ctx.name}`;
    item.description = [isCurrent ? 'current' : '', ctx.namespace ? `ns ${ctx.namespace}` : '']
      .filter(Boolean)
      .join(' · ');
    item.iconPath = new vscode.ThemeIcon(isCurrent ? 'pass-filled' : 'circle-large-outline');
    item.contextValue = isCurrent ? 'podpath.currentContext' : 'podpath.context';
    const tip = new vscode.MarkdownString();
    tip.appendText(`Context ${ctx.name}${isCurrent ? ' (current)' : ''}\n`);
    tip.appendText(`Cluster ${ctx.cluster}${ctx.server ? ` at ${ctx.server}` : ''}\n`);
    tip.appendText(`User ${ctx.user}\nFrom ${ctx.file}`);
    item.tooltip = tip;
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
