/**
 * One live cluster for the Clusters view: the node list (watched), the pods of the nodes the
 * person expanded (watched, each with `fieldSelector=spec.nodeName=<node>`, never every pod
 * of the cluster), and the network picture, re-detected whenever one of its objects changes:
 * DaemonSets, each network ConfigMap (one watch per name, `fieldSelector=metadata.name=`),
 * Calico IP pools in both API groups, the operator's Installation and the ServiceCIDRs are
 * all watched; a CRD the cluster does not serve is absent, not an error. The kube-apiserver
 * pod (the last source of the Service CIDR) is read once and on refresh. Objects are slimmed
 * as they arrive (clusterReader.ts), so a 5,000-node cluster stays small.
 */
import { stringify } from 'yaml';
import {
  detectKubeProxy,
  detectNetwork,
  summarizeNode,
  summarizePod,
  withServiceCidr,
} from '../../core/cluster/detect';
import type {
  KubeProxyDetection,
  NetworkDetection,
  NodeSummary,
  PodSummary,
} from '../../core/cluster/types';
import {
  API_SERVER_POD_SELECTOR,
  KUBE_PATHS,
  NETWORK_CONFIGMAPS,
  slimApiServerPod,
  slimNode,
  slimPod,
  typed,
  withoutBookkeeping,
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
  /** How long network events are gathered before re-detecting (default 300 ms). */
  networkSettleMs?: number;
}

type Slim = Record<string, unknown>;

export class ClusterSession {
  readonly client: ClusterClient;
  readonly nodes: LiveList<Slim>;
  /** Every watched object detection reads, by role. */
  private readonly net: {
    daemonSets: LiveList<Slim>;
    configMaps: LiveList<Slim>[];
    ipPoolsV3: LiveList<Slim>;
    ipPoolsCrd: LiveList<Slim>;
    installations: LiveList<Slim>;
    serviceCidrs: LiveList<Slim>;
  };
  private readonly podLists = new Map<string, LiveList<Slim>>();
  private apiServerPods: Promise<unknown[]> | undefined;
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
    const watched = (
      path: string,
      resource: string,
      type: [kind: string, apiVersion: string],
      more: { fieldSelector?: string; optional?: boolean; namespace?: string } = {},
    ) =>
      new LiveList<Slim>({
        ...common,
        path,
        purpose: { verb: 'list', resource, namespace: more.namespace },
        fieldSelector: more.fieldSelector,
        optional: more.optional,
        keep: typed(...type),
        log,
        onChange: () => this.networkChanged(),
      });
    this.net = {
      daemonSets: watched(KUBE_PATHS.daemonSets, 'daemonsets', ['DaemonSet', 'apps/v1']),
      // One watch per ConfigMap name: a namespace's other ConfigMaps are none of our business.
      configMaps: NETWORK_CONFIGMAPS.map(([ns, name]) =>
        watched(KUBE_PATHS.configMaps(ns), 'configmaps', ['ConfigMap', 'v1'], {
          namespace: ns,
          fieldSelector: `metadata.name=${name}`,
        }),
      ),
      ipPoolsV3: watched(
        KUBE_PATHS.ipPoolsV3,
        'ippools.projectcalico.org',
        ['IPPool', 'projectcalico.org/v3'],
        { optional: true },
      ),
      ipPoolsCrd: watched(
        KUBE_PATHS.ipPoolsCrd,
        'ippools.crd.projectcalico.org',
        ['IPPool', 'crd.projectcalico.org/v1'],
        { optional: true },
      ),
      installations: watched(
        KUBE_PATHS.installations,
        'installations.operator.tigera.io',
        ['Installation', 'operator.tigera.io/v1'],
        { optional: true },
      ),
      serviceCidrs: watched(
        KUBE_PATHS.serviceCidrs,
        'servicecidrs.networking.k8s.io',
        ['ServiceCIDR', 'networking.k8s.io/v1'],
        { optional: true },
      ),
    };
  }

  private networkLists(): LiveList<Slim>[] {
    const n = this.net;
    return [
      n.daemonSets,
      ...n.configMaps,
      n.ipPoolsV3,
      n.ipPoolsCrd,
      n.installations,
      n.serviceCidrs,
    ];
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
    for (const l of this.networkLists()) l.start();
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

  /** CNI, mode, Service CIDR and kube-proxy mode from the watched nodes and network objects. */
  async network(): Promise<NetworkPicture> {
    const lists = this.networkLists();
    await Promise.all(lists.map((l) => l.firstSync));
    const items = (l: LiveList<Slim>) => [...l.items.values()];
    const n = this.net;
    const objects = {
      nodes: [...this.nodes.items.values()],
      daemonSets: items(n.daemonSets),
      configMaps: n.configMaps.flatMap(items),
      ipPools: [...items(n.ipPoolsV3), ...items(n.ipPoolsCrd)],
      installations: items(n.installations),
      serviceCidrs: items(n.serviceCidrs),
      apiServerPods: await this.readApiServerPods(),
    };
    const problems: string[] = [];
    for (const l of lists) {
      const st = l.state;
      // A ServiceCIDR list closed to this user only makes the Service CIDR "not readable".
      if (st.kind === 'failed' && l !== n.serviceCidrs && !problems.includes(st.why)) {
        problems.push(st.why);
      }
    }
    return {
      network: withServiceCidr(detectNetwork(objects), objects),
      kubeProxy: detectKubeProxy(objects),
      problems,
    };
  }

  /** The kube-apiserver static pods (their flags), read once: they change with an upgrade. */
  private readApiServerPods(): Promise<unknown[]> {
    this.apiServerPods ??= this.client
      .list(
        KUBE_PATHS.podsIn('kube-system'),
        { verb: 'list', resource: 'pods', namespace: 'kube-system' },
        slimApiServerPod,
        { labelSelector: API_SERVER_POD_SELECTOR },
      )
      .then(
        (r) => r.items,
        // Often forbidden (kube-system) or absent (managed control planes): not readable.
        () => [],
      );
    return this.apiServerPods;
  }

  /** Re-detects the network (refresh; the kube-apiserver pod is read again). */
  refreshNetwork(): void {
    this.apiServerPods = undefined;
    this.o.onChange({ kind: 'network' });
  }

  private networkChanged(): void {
    // A rollout or an edit sends a burst of events; re-detect once they settle.
    clearTimeout(this.networkTimer);
    this.networkTimer = setTimeout(
      () => this.o.onChange({ kind: 'network' }),
      this.o.networkSettleMs ?? 300,
    );
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
    for (const l of this.networkLists()) l.stop();
    for (const l of this.podLists.values()) l.stop();
    this.podLists.clear();
  }
}
