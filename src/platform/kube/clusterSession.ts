/**
 * One live cluster for the Clusters view: the node list (watched), the pods of the nodes the
 * person expanded (watched, each with `fieldSelector=spec.nodeName=<node>`, never every pod
 * of the cluster), and the network picture (DaemonSets watched; ConfigMaps, IP pools and the
 * operator's Installation re-read when a DaemonSet changes or on refresh). Objects are slimmed
 * as they arrive (clusterReader.ts), so a 5,000-node cluster stays small.
 */
import { stringify } from 'yaml';
import {
  detectKubeProxy,
  detectNetwork,
  summarizeNode,
  summarizePod,
} from '../../core/cluster/detect';
import type {
  KubeProxyDetection,
  NetworkDetection,
  NodeSummary,
  PodSummary,
} from '../../core/cluster/types';
import {
  KUBE_PATHS,
  readNetworkObjects,
  slimNode,
  slimPod,
  withoutBookkeeping,
  type NetworkObjectsResult,
} from './clusterReader';
import { ClusterClient, KubeError, type KubeConfigSet } from './kubeClient';
import { LiveList, type ConnectionState } from './liveList';

export type SessionChange =
  { kind: 'state' } | { kind: 'nodes' } | { kind: 'pods'; node: string } | { kind: 'network' };

export interface NetworkPicture {
  network: NetworkDetection;
  kubeProxy: KubeProxyDetection;
  problems: string[];
}

export interface SessionOptions {
  onChange: (change: SessionChange) => void;
  log?: (line: string) => void;
  backoffMs?: number;
  watchdogMs?: number;
}

type Slim = Record<string, unknown>;

export class ClusterSession {
  readonly client: ClusterClient;
  readonly nodes: LiveList<Slim>;
  private readonly daemonSets: LiveList<Slim>;
  private readonly podLists = new Map<string, LiveList<Slim>>();
  private networkObjects: Promise<NetworkObjectsResult> | undefined;
  private networkTimer: NodeJS.Timeout | undefined;
  private started = false;

  /** @throws KubeError `config` when the context cannot be used (missing cluster entry…). */
  constructor(
    set: KubeConfigSet,
    context: string,
    private readonly o: SessionOptions,
  ) {
    this.client = new ClusterClient(set, context);
    const common = { client: this.client, backoffMs: o.backoffMs, watchdogMs: o.watchdogMs };
    const log = (line: string) => o.log?.(`${context}: ${line}`);
    this.nodes = new LiveList({
      ...common,
      path: KUBE_PATHS.nodes,
      purpose: { verb: 'list', resource: 'nodes' },
      keep: slimNode,
      log,
      onChange: () => o.onChange({ kind: 'nodes' }),
      onState: () => o.onChange({ kind: 'state' }),
    });
    this.daemonSets = new LiveList({
      ...common,
      path: KUBE_PATHS.daemonSets,
      purpose: { verb: 'list', resource: 'daemonsets' },
      keep: withoutBookkeeping,
      log,
      onChange: () => this.networkChanged(),
    });
  }

  get context(): string {
    return this.client.context;
  }

  /** The state of the node watch, which stands for the cluster's connection. */
  get state(): ConnectionState {
    return this.nodes.state;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.nodes.start();
    this.daemonSets.start();
  }

  /** Node rows, sorted by name. */
  nodeSummaries(): NodeSummary[] {
    return [...this.nodes.items.values()]
      .map(summarizeNode)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  nodeSummary(name: string): NodeSummary | undefined {
    const raw = this.nodes.items.get(name);
    return raw ? summarizeNode(raw) : undefined;
  }

  /** The pods of `node`, watched from the first call until `releasePods(node)`. */
  pods(node: string): LiveList<Slim> {
    let list = this.podLists.get(node);
    if (!list) {
      list = new LiveList({
        client: this.client,
        backoffMs: this.o.backoffMs,
        watchdogMs: this.o.watchdogMs,
        path: KUBE_PATHS.pods,
        purpose: { verb: 'list', resource: 'pods' },
        fieldSelector: `spec.nodeName=${node}`,
        keep: slimPod,
        onChange: () => this.o.onChange({ kind: 'pods', node }),
      });
      this.podLists.set(node, list);
      list.start();
    }
    return list;
  }

  podSummaries(node: string): PodSummary[] {
    const list = this.podLists.get(node);
    if (!list) return [];
    return [...list.items.values()]
      .map(summarizePod)
      .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  }

  /** Stops watching the pods of a collapsed node. */
  releasePods(node: string): void {
    this.podLists.get(node)?.stop();
    this.podLists.delete(node);
  }

  /** Watched pod lists, for the benchmark's memory figure and tests. */
  watchedNodes(): string[] {
    return [...this.podLists.keys()];
  }

  /** CNI, mode and kube-proxy mode from the current nodes, DaemonSets and network objects. */
  async network(): Promise<NetworkPicture> {
    this.networkObjects ??= readNetworkObjects(this.client, undefined, { daemonSets: false });
    const read = await this.networkObjects;
    await this.daemonSets.firstSync;
    const objects = {
      ...read.objects,
      nodes: [...this.nodes.items.values()],
      daemonSets: [...this.daemonSets.items.values()],
    };
    const problems = [...read.problems];
    const ds = this.daemonSets.state;
    if (ds.kind === 'failed') problems.push(ds.why);
    return { network: detectNetwork(objects), kubeProxy: detectKubeProxy(objects), problems };
  }

  /** Re-reads the network objects (refresh). */
  refreshNetwork(): void {
    this.networkObjects = undefined;
    this.o.onChange({ kind: 'network' });
  }

  private networkChanged(): void {
    // A DaemonSet rollout sends a burst of MODIFIED events; re-read once it settles.
    clearTimeout(this.networkTimer);
    this.networkTimer = setTimeout(() => this.refreshNetwork(), 500);
    this.networkTimer.unref?.();
  }

  /** One object as YAML, without managedFields (for the read-only editor). */
  async objectYaml(kind: 'node' | 'pod', name: string, namespace?: string): Promise<string> {
    const path =
      kind === 'node'
        ? `${KUBE_PATHS.nodes}/${encodeURIComponent(name)}`
        : `/api/v1/namespaces/${encodeURIComponent(namespace ?? 'default')}/pods/${encodeURIComponent(name)}`;
    const raw = await this.client.get(path, {
      verb: 'get',
      resource: `${kind}s`,
      name,
      namespace,
    });
    if (raw === null) throw new KubeError('not-found', `The ${kind} '${name}' no longer exists.`);
    return stringify(withoutBookkeeping(raw));
  }

  dispose(): void {
    clearTimeout(this.networkTimer);
    this.nodes.stop();
    this.daemonSets.stop();
    for (const l of this.podLists.values()) l.stop();
    this.podLists.clear();
  }
}
