/**
 * What Podpath reads from a cluster, and how little of it it keeps: nodes and pods slimmed to
 * the fields the tree, the CLI and detection look at (no managedFields, no images, no
 * last-applied annotation), and the network objects detection needs. A 404 on an optional
 * object or CRD means "that CNI is absent", a 403 on one resource is noted and the rest is
 * still read; only the node list is required.
 */
import {
  detectKubeProxy,
  detectNetwork,
  summarizeNode,
  summarizePod,
  withServiceCidr,
} from '../../core/cluster/detect';
import type {
  ClusterObjects,
  KubeProxyDetection,
  NetworkDetection,
  NodeSummary,
  PodSummary,
} from '../../core/cluster/types';
import { KubeError, type ClusterClient, type RequestPurpose } from './kubeClient';

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

/** API paths of what the explorer reads. */
export const KUBE_PATHS = {
  nodes: '/api/v1/nodes',
  pods: '/api/v1/pods',
  daemonSets: '/apis/apps/v1/daemonsets',
  configMap: (ns: string, name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`,
  configMaps: (ns: string) => `/api/v1/namespaces/${ns}/configmaps`,
  podsIn: (ns: string) => `/api/v1/namespaces/${ns}/pods`,
  ipPoolsCrd: '/apis/crd.projectcalico.org/v1/ippools',
  ipPoolsV3: '/apis/projectcalico.org/v3/ippools',
  installations: '/apis/operator.tigera.io/v1/installations',
  serviceCidrs: '/apis/networking.k8s.io/v1/servicecidrs',
} as const;

/** The kubeadm static pod whose flags carry the Service CIDR (kube-system, this label). */
export const API_SERVER_POD_SELECTOR = 'component=kube-apiserver';

/** The ConfigMaps detection reads (namespace, name). */
export const NETWORK_CONFIGMAPS: readonly [string, string][] = [
  ['kube-flannel', 'kube-flannel-cfg'],
  ['kube-system', 'kube-flannel-cfg'],
  ['kube-system', 'kube-proxy'],
  ['kube-system', 'kube-proxy-config'],
  ['kube-system', 'cilium-config'],
  ['kube-system', 'calico-config'],
  ['kube-system', 'kubeadm-config'],
];

const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

function slimMetadata(m: Json, keepLabels: boolean): Json {
  const out: Json = {
    name: m['name'],
    uid: m['uid'],
    resourceVersion: m['resourceVersion'],
  };
  if (m['namespace'] !== undefined) out['namespace'] = m['namespace'];
  if (keepLabels) {
    if (m['labels'] !== undefined) out['labels'] = m['labels'];
    const ann = obj(m['annotations']);
    const kept: Json = {};
    for (const [k, v] of Object.entries(ann)) if (!DROPPED_ANNOTATIONS.includes(k)) kept[k] = v;
    out['annotations'] = kept;
  }
  return out;
}

/**
 * A Node with only what the tree and detection read: labels, annotations (CNI annotations
 * live there), podCIDR(s), providerID, addresses, the Ready condition and nodeInfo versions.
 */
export function slimNode(raw: unknown): Json {
  const n = obj(raw);
  const spec = obj(n['spec']);
  const status = obj(n['status']);
  const info = obj(status['nodeInfo']);
  const conditions = Array.isArray(status['conditions']) ? status['conditions'] : [];
  return {
    metadata: slimMetadata(obj(n['metadata']), true),
    spec: {
      podCIDR: spec['podCIDR'],
      podCIDRs: spec['podCIDRs'],
      providerID: spec['providerID'],
      unschedulable: spec['unschedulable'],
    },
    status: {
      addresses: status['addresses'],
      conditions: conditions
        .map(obj)
        .filter((c) => c['type'] === 'Ready')
        .map((c) => ({
          type: c['type'],
          status: c['status'],
          reason: c['reason'],
          lastTransitionTime: c['lastTransitionTime'],
        })),
      nodeInfo: {
        kubeletVersion: info['kubeletVersion'],
        kubeProxyVersion: info['kubeProxyVersion'],
        containerRuntimeVersion: info['containerRuntimeVersion'],
        osImage: info['osImage'],
        kernelVersion: info['kernelVersion'],
      },
    },
  };
}

/** A Pod with only what the tree shows. */
export function slimPod(raw: unknown): Json {
  const p = obj(raw);
  const spec = obj(p['spec']);
  const status = obj(p['status']);
  return {
    metadata: slimMetadata(obj(p['metadata']), false),
    spec: { nodeName: spec['nodeName'], hostNetwork: spec['hostNetwork'] },
    status: { podIP: status['podIP'], phase: status['phase'], hostIP: status['hostIP'] },
  };
}

/**
 * `withoutBookkeeping` that also stamps the list's type on the item: the apiserver leaves
 * `kind`/`apiVersion` off the items of a typed list (the list carries them), and detection
 * tells a Calico v3 pool from a v1 CRD pool by its apiVersion.
 */
export function typed(kind: string, apiVersion: string): (raw: unknown) => Json {
  return (raw) => ({ ...withoutBookkeeping(raw), kind, apiVersion });
}

/** A kube-apiserver Pod with only its containers' command and args (the Service CIDR flag). */
export function slimApiServerPod(raw: unknown): Json {
  const p = obj(raw);
  const containers = Array.isArray(obj(p['spec'])['containers'])
    ? (obj(p['spec'])['containers'] as unknown[])
    : [];
  return {
    kind: 'Pod',
    metadata: slimMetadata(obj(p['metadata']), false),
    spec: {
      containers: containers
        .map(obj)
        .map((c) => ({ name: c['name'], command: c['command'], args: c['args'] })),
    },
  };
}

/** Any object without its managedFields and last-applied annotation (for YAML and detection). */
export function withoutBookkeeping(raw: unknown): Json {
  const o = { ...obj(raw) };
  const m = { ...obj(o['metadata']) };
  delete m['managedFields'];
  const ann = { ...obj(m['annotations']) };
  for (const k of DROPPED_ANNOTATIONS) delete ann[k];
  if (m['annotations'] !== undefined) m['annotations'] = ann;
  o['metadata'] = m;
  return o;
}

export interface NetworkObjectsResult {
  objects: Omit<ClusterObjects, 'nodes'>;
  /** One sentence per object that could not be read (403, server errors). */
  problems: string[];
}

/**
 * The non-node objects detection needs, read once (`podpath cluster`; the live session
 * watches the same objects itself). Absent CRDs and ConfigMaps are simply absent; a
 * forbidden one is noted in `problems` and detection goes on with the rest.
 */
export async function readNetworkObjects(
  client: ClusterClient,
  signal?: AbortSignal,
): Promise<NetworkObjectsResult> {
  const problems: string[] = [];
  const optional = async <T>(what: () => Promise<T>, absent: T): Promise<T> => {
    try {
      return await what();
    } catch (e) {
      if (e instanceof KubeError && e.kind === 'not-found') return absent;
      if (e instanceof KubeError && (e.kind === 'forbidden' || e.kind === 'server')) {
        problems.push(e.message);
        return absent;
      }
      throw e;
    }
  };
  const list = (path: string, resource: string, keep: (raw: unknown) => Json) =>
    optional(
      async () => (await client.list(path, { verb: 'list', resource }, keep, { signal })).items,
      [] as unknown[],
    );
  // The Service CIDR's sources are often closed to ordinary users (kube-system pods, a
  // managed control plane): unreadable means "not readable", not a problem worth a warning.
  const quiet = async (what: () => Promise<unknown[]>): Promise<unknown[]> => {
    try {
      return await what();
    } catch (e) {
      if (e instanceof KubeError && ['not-found', 'forbidden', 'server'].includes(e.kind))
        return [];
      throw e;
    }
  };
  const serviceCidrsP = () =>
    quiet(
      async () =>
        (
          await client.list(
            KUBE_PATHS.serviceCidrs,
            { verb: 'list', resource: 'servicecidrs.networking.k8s.io' },
            typed('ServiceCIDR', 'networking.k8s.io/v1'),
            { signal },
          )
        ).items,
    );
  const apiServerPodsP = () =>
    quiet(
      async () =>
        (
          await client.list(
            KUBE_PATHS.podsIn('kube-system'),
            { verb: 'list', resource: 'pods', namespace: 'kube-system' },
            slimApiServerPod,
            { signal, labelSelector: API_SERVER_POD_SELECTOR },
          )
        ).items,
    );
  const configMap = (ns: string, name: string) => {
    const purpose: RequestPurpose = { verb: 'get', resource: 'configmaps', namespace: ns, name };
    return optional(() => client.get(KUBE_PATHS.configMap(ns, name), purpose, signal), null);
  };
  // One Promise.all: when a required read fails, the others' rejections are still handled.
  const [
    [serviceCidrs, apiServerPods],
    [daemonSets, crdPools, v3Pools, installations, ...configMaps],
  ] = await Promise.all([
    Promise.all([serviceCidrsP(), apiServerPodsP()]),
    Promise.all([
      list(KUBE_PATHS.daemonSets, 'daemonsets', typed('DaemonSet', 'apps/v1')),
      list(
        KUBE_PATHS.ipPoolsCrd,
        'ippools.crd.projectcalico.org',
        typed('IPPool', 'crd.projectcalico.org/v1'),
      ),
      list(
        KUBE_PATHS.ipPoolsV3,
        'ippools.projectcalico.org',
        typed('IPPool', 'projectcalico.org/v3'),
      ),
      list(
        KUBE_PATHS.installations,
        'installations.operator.tigera.io',
        typed('Installation', 'operator.tigera.io/v1'),
      ),
      ...NETWORK_CONFIGMAPS.map(([ns, name]) => configMap(ns, name)),
    ]),
  ]);
  return {
    objects: {
      daemonSets,
      ipPools: [...v3Pools, ...crdPools],
      installations,
      configMaps: configMaps.filter((c) => c !== null).map(withoutBookkeeping),
      serviceCidrs,
      apiServerPods,
    },
    problems,
  };
}

/** Everything `podpath cluster` prints. */
export interface ClusterPicture {
  context: string;
  server: string;
  nodes: NodeSummary[];
  pods: PodSummary[];
  network: NetworkDetection;
  kubeProxy: KubeProxyDetection;
  /** Objects that could not be read (403…); the rest of the picture stands. */
  problems: string[];
}

/** Reads nodes, all pods (paged) and the network objects; only the node list must succeed. */
export async function readClusterPicture(
  client: ClusterClient,
  signal?: AbortSignal,
): Promise<ClusterPicture> {
  const nodesP = client.list(KUBE_PATHS.nodes, { verb: 'list', resource: 'nodes' }, slimNode, {
    signal,
  });
  const podsP = client
    .list(KUBE_PATHS.pods, { verb: 'list', resource: 'pods' }, (p) => summarizePod(p), { signal })
    .then(
      (r) => ({ pods: r.items, problem: null as string | null }),
      (e: unknown) => {
        if (e instanceof KubeError && e.kind === 'forbidden')
          return { pods: [], problem: e.message };
        throw e;
      },
    );
  const networkP = readNetworkObjects(client, signal);
  const [nodes, pods, network] = await Promise.all([nodesP, podsP, networkP]);
  const objects: ClusterObjects = { nodes: nodes.items, ...network.objects };
  return {
    context: client.context,
    server: client.server,
    nodes: nodes.items.map(summarizeNode),
    pods: pods.pods,
    network: withServiceCidr(detectNetwork(objects), objects),
    kubeProxy: detectKubeProxy(objects),
    problems: [...(pods.problem ? [pods.problem] : []), ...network.problems],
  };
}
