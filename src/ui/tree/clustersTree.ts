/**
 * Clusters view: kubeconfig contexts → Nodes (→ each node's pods, loaded when expanded) and
 * Network (CNI, mode, kube-proxy mode, what said so). Each expanded context holds a live
 * ClusterSession (src/platform/kube/clusterSession.ts): lists then watches, so changes show
 * without a refresh, and the context row says connected / reconnecting since … / unreachable.
 * Several contexts can be expanded at once; collapsing one stops its watches. Contexts come
 * from the `podpath.kubeconfig` setting, `vs-kubernetes.kubeconfig`, KUBECONFIG, ~/.kube/config.
 */
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { clusterCniMode } from '../../core/cluster/clusterPlan';
import type { CniMode } from '../../core/datapath/types';
import type * as KubeExplorer from '../../platform/kube/kubeExplorer';
import type {
  ClusterSession,
  KubeConfigSet,
  KubeContextEntry,
  LivePlan,
  NetworkPicture,
  SessionChange,
} from '../../platform/kube/kubeExplorer';
import { clusterTreeItem, type ClusterElement } from './clusterItems';

export type { ClusterElement } from './clusterItems';

/** dist/kube.js is bundled on its own (esbuild.mjs) and loaded on first use. */
function loadKube(): typeof KubeExplorer {
  return createRequire(__filename)('./kube.js') as typeof KubeExplorer;
}

export interface KubeContextList {
  files: string[];
  contexts: KubeContextEntry[];
  current: string | null;
  problems: string[];
}

/** The kubeconfig files the settings and environment point at. */
function configuredFiles(kube: typeof KubeExplorer): string[] {
  const setting = vscode.workspace.getConfiguration('podpath').get<string>('kubeconfig', '');
  // vscode-kubernetes-tools declares one object setting whose keys contain dots.
  const vsk = vscode.workspace.getConfiguration().get<Record<string, unknown>>('vs-kubernetes');
  const vsKubeconfig =
    typeof vsk?.['vs-kubernetes.kubeconfig'] === 'string' ? vsk['vs-kubernetes.kubeconfig'] : '';
  return kube.kubeconfigFiles(setting, process.env, homedir(), vsKubeconfig);
}

export class ClustersTree implements vscode.TreeDataProvider<ClusterElement>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ClusterElement | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private cache: Promise<KubeConfigSet> | undefined;
  private current: string | null = null;
  private readonly sessions = new Map<string, ClusterSession>();
  private readonly sessionErrors = new Map<string, string>();
  private readonly elements = new Map<string, ClusterElement>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly networks = new Map<string, Promise<NetworkPicture>>();
  /** Network pictures that have arrived, for the Network row's description. */
  private readonly settledNetwork = new Map<string, NetworkPicture>();
  private view: vscode.TreeView<ClusterElement> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly log: (line: string) => void,
    private readonly options: { backoffMs?: number; watchdogMs?: number } = {},
  ) {}

  /** Called by activate() with the view, to stop watches on collapse and to reveal items. */
  attachView(view: vscode.TreeView<ClusterElement>): void {
    this.view = view;
    this.disposables.push(
      view.onDidCollapseElement(({ element }) => {
        if (element.kind === 'context') this.closeSession(element.context);
        if (element.kind === 'node') this.sessions.get(element.context)?.releasePods(element.name);
      }),
    );
  }

  /** Re-reads the kubeconfig files and reconnects every cluster on the next request. */
  refresh(): void {
    this.cache = undefined;
    for (const name of [...this.sessions.keys()]) this.closeSession(name);
    this.sessionErrors.clear();
    this.elements.clear();
    this.changed.fire(undefined);
  }

  private configSet(): Promise<KubeConfigSet> {
    if (!this.cache) {
      this.cache = Promise.resolve().then(() => {
        const kube = loadKube();
        const files = configuredFiles(kube);
        const set = kube.loadKubeConfigSet(files);
        this.log(
          `kubeconfig: ${set.contexts.length} contexts from ${files.join(', ')}${set.current ? `, current ${set.current}` : ''}`,
        );
        for (const p of set.problems) this.log(`kubeconfig: ${p}`);
        return set;
      });
    }
    return this.cache;
  }

  /** The contexts as last read (reads them if needed). */
  async contexts(): Promise<KubeContextList> {
    const set = await this.configSet();
    return {
      files: set.files,
      contexts: set.contexts,
      current: set.current,
      problems: set.problems,
    };
  }

  /** One element object per id, so that change events and reveal find the same item. */
  private el<T extends ClusterElement>(e: T): T {
    const known = this.elements.get(e.id);
    if (known && known.kind === e.kind) {
      Object.assign(known, e);
      return known as T;
    }
    this.elements.set(e.id, e);
    return e;
  }

  private element(id: string): ClusterElement | undefined {
    return this.elements.get(id);
  }

  /** The live session of a context, created (and started) on first use. */
  session(context: string, set: KubeConfigSet): ClusterSession | undefined {
    let s = this.sessions.get(context);
    if (s) return s;
    if (this.sessionErrors.has(context)) return undefined;
    try {
      s = new (loadKube().ClusterSession)(set, context, {
        log: this.log,
        backoffMs: this.options.backoffMs,
        watchdogMs: this.options.watchdogMs,
        onChange: (c) => this.sessionChanged(context, c),
      });
    } catch (e) {
      this.sessionErrors.set(context, e instanceof Error ? e.message : String(e));
      return undefined;
    }
    this.sessions.set(context, s);
    s.start();
    return s;
  }

  private closeSession(context: string): void {
    this.sessions.get(context)?.dispose();
    this.sessions.delete(context);
    this.networks.delete(context);
  }

  private sessionChanged(context: string, c: SessionChange): void {
    switch (c.kind) {
      case 'state':
        this.fireSoon(`context:${context}`);
        break;
      case 'nodes':
        this.fireSoon(`nodes:${context}`);
        this.fireSoon(`context:${context}`);
        break;
      case 'pods':
        this.fireSoon(`node:${context}:${c.node}`);
        break;
      case 'network':
        this.networks.delete(context);
        this.fireSoon(`network:${context}`);
        break;
    }
  }

  /** Coalesces bursts of watch events into one refresh per item (within 100 ms). */
  private fireSoon(id: string): void {
    if (this.pending.has(id)) return;
    this.pending.set(
      id,
      setTimeout(() => {
        this.pending.delete(id);
        const e = this.element(id);
        if (e) this.changed.fire(e);
      }, 100),
    );
  }

  async getChildren(element?: ClusterElement): Promise<ClusterElement[]> {
    if (!element) {
      const set = await this.configSet();
      this.current = set.current;
      return set.contexts.map((ctx) =>
        this.el({
          kind: 'context',
          id: `context:${ctx.name}`,
          context: ctx.name,
          name: ctx.name,
          ctx,
        }),
      );
    }
    switch (element.kind) {
      case 'context':
        return this.contextChildren(element.context);
      case 'nodes':
        return this.nodeElements(element.context);
      case 'node':
        return this.podElements(element.context, element.name);
      case 'network':
        return this.networkDetails(element.context);
      default:
        return [];
    }
  }

  private message(
    context: string,
    key: string,
    text: string,
    severity: 'error' | 'info',
  ): ClusterElement {
    return this.el({ kind: 'message', id: `message:${context}:${key}`, context, text, severity });
  }

  private async contextChildren(context: string): Promise<ClusterElement[]> {
    const set = await this.configSet();
    const s = this.session(context, set);
    if (!s)
      return [this.message(context, 'config', this.sessionErrors.get(context) ?? '', 'error')];
    // The first page of nodes is enough to paint; later pages arrive as changes.
    await this.withProgress(`Connecting to ${context}…`, s.nodes.firstRows);
    void this.withProgress(`Listing the nodes of ${context}…`, s.nodes.firstSync);
    const state = s.state;
    if (state.kind === 'failed' && s.nodes.items.size === 0) {
      return [this.message(context, 'state', state.why, 'error')];
    }
    if (state.kind === 'reconnecting' && s.nodes.items.size === 0) {
      return [this.message(context, 'state', state.why, 'error')];
    }
    return [
      this.el({ kind: 'nodes', id: `nodes:${context}`, context }),
      this.el({ kind: 'network', id: `network:${context}`, context }),
    ];
  }

  private nodeElements(context: string): ClusterElement[] {
    const s = this.sessions.get(context);
    if (!s) return [];
    return s.nodeSummaries().map((n) =>
      this.el({
        kind: 'node',
        id: `node:${context}:${n.name}`,
        context,
        name: n.name,
        summary: n,
      }),
    );
  }

  private async podElements(context: string, node: string): Promise<ClusterElement[]> {
    const s = this.sessions.get(context);
    if (!s) return [];
    const list = s.pods(node);
    await this.withProgress(`Listing the pods of ${node}…`, list.firstSync);
    if (list.state.kind === 'failed' && list.items.size === 0) {
      return [this.message(context, `pods:${node}`, list.state.why, 'error')];
    }
    const pods = s.podSummaries(node);
    if (pods.length === 0)
      return [this.message(context, `pods:${node}`, 'No pods on this node.', 'info')];
    return pods.map((p) =>
      this.el({
        kind: 'pod',
        id: `pod:${context}:${p.namespace}/${p.name}`,
        context,
        node,
        namespace: p.namespace,
        name: p.name,
        summary: p,
      }),
    );
  }

  /**
   * The datapath mode of a connected cluster whose network has been read (the current
   * context first), for planning a workload's datapath; undefined when none is known.
   */
  connectedMode(): { mode: CniMode; context: string } | undefined {
    const contexts = [...this.settledNetwork.keys()].sort(
      (a, b) => Number(b === this.current) - Number(a === this.current),
    );
    for (const context of contexts) {
      const mode = clusterCniMode(this.settledNetwork.get(context)?.network.mode ?? null);
      if (mode) return { mode, context };
    }
    return undefined;
  }

  /**
   * The connected contexts whose network has been read (the current context first), with
   * their kube-proxy mode: where "explain this Service" can read a node's rules.
   */
  connectedClusters(): { context: string; kubeProxyMode: string }[] {
    return [...this.settledNetwork.entries()]
      .filter(([context]) => this.sessions.has(context))
      .sort(([a], [b]) => Number(b === this.current) - Number(a === this.current))
      .map(([context, pic]) => ({ context, kubeProxyMode: pic.kubeProxy.mode }));
  }

  /** The network picture of a context (cached until the session reports a change). */
  network(context: string): Promise<NetworkPicture> | undefined {
    const s = this.sessions.get(context);
    if (!s) return undefined;
    let p = this.networks.get(context);
    if (!p) {
      p = s.network();
      this.networks.set(context, p);
      p.then(
        (pic) => {
          this.settledNetwork.set(context, pic);
          this.fireSoon(`network:${context}`);
        },
        (e: unknown) =>
          this.log(`${context}: network: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
    return p;
  }

  private async networkDetails(context: string): Promise<ClusterElement[]> {
    const p = this.network(context);
    if (!p) return [];
    let pic: NetworkPicture;
    try {
      pic = await this.withProgress(`Reading the network configuration of ${context}…`, p);
    } catch (e) {
      return [
        this.message(context, 'network', e instanceof Error ? e.message : String(e), 'error'),
      ];
    }
    const rows: [string, string, string?][] = [
      [
        'CNI',
        pic.network.cni === 'unknown' ? 'unknown (not modelled by Podpath yet)' : pic.network.cni,
      ],
      ['Mode', pic.network.mode ?? 'not modelled by Podpath yet'],
      ['kube-proxy', pic.kubeProxy.mode, pic.kubeProxy.evidence.join('\n')],
      serviceCidrRow(pic),
    ];
    for (const [k, v] of Object.entries(pic.network.details)) {
      if (v === null || v === undefined || k === 'serviceCIDR' || k === 'serviceCIDRs') continue;
      rows.push([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
    }
    const out: ClusterElement[] = rows.map(([label, description, tooltip], i) =>
      this.el({
        kind: 'detail',
        id: `detail:${context}:${i}:${label}`,
        context,
        label,
        description,
        tooltip,
      }),
    );
    pic.network.evidence.forEach((e, i) =>
      out.push(
        this.el({
          kind: 'detail',
          id: `evidence:${context}:${i}`,
          context,
          label: 'evidence',
          description: e,
          tooltip: e,
        }),
      ),
    );
    pic.problems.forEach((p, i) => out.push(this.message(context, `problem:${i}`, p, 'error')));
    return out;
  }

  getTreeItem(element: ClusterElement): vscode.TreeItem {
    const s = this.sessions.get(element.context);
    // The Network row says what runs as soon as it is known, without being expanded.
    if (element.kind === 'network') void this.network(element.context);
    return clusterTreeItem(element, {
      current: this.current,
      state: s?.state,
      nodeCount: s ? s.nodes.items.size : undefined,
      podCount: element.kind === 'node' ? s?.podSummaries(element.name).length : undefined,
      watched: element.kind === 'node' ? !!s?.watchedNodes().includes(element.name) : false,
      network: this.settledNetwork.get(element.context),
    });
  }

  getParent(element: ClusterElement): ClusterElement | undefined {
    switch (element.kind) {
      case 'context':
        return undefined;
      case 'pod':
        return this.element(`node:${element.context}:${element.node}`);
      case 'node':
        return this.element(`nodes:${element.context}`);
      case 'detail':
        return this.element(`network:${element.context}`);
      default:
        return this.element(`context:${element.context}`);
    }
  }

  /** Shows the node a pod runs on. */
  async revealNode(pod: ClusterElement): Promise<void> {
    if (pod.kind !== 'pod') return;
    const node = this.element(`node:${pod.context}:${pod.node}`);
    if (!node || !this.view) throw new Error(`Node ${pod.node} is not in the tree.`);
    await this.view.reveal(node, { select: true, focus: true, expand: false });
  }

  /** The datapath plan of a context's detected mode with its live node names and IPs. */
  async networkPlan(context: string): Promise<LivePlan> {
    const s = this.sessions.get(context);
    if (!s) throw new Error(`Expand the context ${context} first.`);
    const pic = await this.network(context);
    if (!pic) throw new Error(`Expand the context ${context} first.`);
    const nodes = s.nodeSummaries();
    const kube = loadKube();
    const picked = nodes.filter((n) => n.internalIP && n.ready !== false).slice(0, 8);
    // Pods of the candidate nodes, so the diagram can use real pod names and IPs.
    await Promise.all(picked.map((n) => s.pods(n.name).firstSync));
    return kube.livePlanInput(
      pic.network,
      nodes,
      (n) => s.podSummaries(n),
      (n) => {
        const ann = (
          s.nodes.items.get(n)?.['metadata'] as { annotations?: Record<string, string> } | undefined
        )?.annotations;
        const addr = ann?.['projectcalico.org/IPv4Address'];
        return addr ? cidrOf(addr) : undefined;
      },
    );
  }

  /**
   * The live session of a context for a command that needs its client (Trace to…),
   * opened if the context was not expanded; throws with the reason when it cannot be.
   */
  async openSession(context: string): Promise<ClusterSession> {
    const set = await this.configSet();
    if (!set.contexts.some((c) => c.name === context)) {
      throw new Error(
        `there is no context ${context} in the kubeconfig (${set.files.join(', ') || 'none found'})`,
      );
    }
    const s = this.session(context, set);
    if (!s) throw new Error(this.sessionErrors.get(context) ?? `No context ${context}.`);
    return s;
  }

  /** The cluster-access bundle (dist/kube.js), loaded on first use: tracePods lives there. */
  kube(): typeof KubeExplorer {
    return loadKube();
  }

  /** The object behind a node or pod item as YAML (managedFields stripped). */
  async objectYaml(
    context: string,
    kind: 'node' | 'pod',
    name: string,
    namespace?: string,
  ): Promise<string> {
    const set = await this.configSet();
    const s = this.session(context, set);
    if (!s) throw new Error(this.sessionErrors.get(context) ?? `No context ${context}.`);
    return s.objectYaml(kind, name, namespace);
  }

  private withProgress<T>(title: string, work: Promise<T>): Promise<T> {
    return Promise.resolve(
      vscode.window.withProgress({ location: { viewId: 'podpath.clusters' }, title }, () => work),
    );
  }

  dispose(): void {
    for (const name of [...this.sessions.keys()]) this.closeSession(name);
    for (const t of this.pending.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}

/** `172.18.0.3/16` → `172.18.0.0/16`. */
function cidrOf(addr: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(addr);
  if (!m) return undefined;
  const bits = Number(m[5]);
  const v = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const net = (v & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.')}/${bits}`;
}

/** `Service CIDR` row: the ranges, or "not readable", with the sentence that says why. */
function serviceCidrRow(pic: NetworkPicture): [string, string, string?] {
  const cidrs = pic.network.details['serviceCIDRs'];
  const said = pic.network.evidence.find((e) => e.startsWith('Service CIDR'));
  return [
    'Service CIDR',
    Array.isArray(cidrs) && cidrs.length > 0 ? cidrs.join(', ') : 'not readable',
    said,
  ];
}
