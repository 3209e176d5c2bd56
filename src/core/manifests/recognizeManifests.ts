/**
 * Finds the manifests Podpath has something to show for in a YAML file: a kind
 * cluster config, Flannel's `kube-flannel-cfg` ConfigMap, Calico's IPPool or the
 * calico-node DaemonSet env, workloads (Pod / Deployment / DaemonSet) and Services.
 * Every document of a multi-document file is looked at on its own; a document that
 * does not parse is skipped, and nothing here throws on any input.
 */
import { parseAllDocuments } from 'yaml';
import type { CniMode } from '../datapath/types';
import type {
  CalicoPoolManifest,
  FlannelConfigManifest,
  KindClusterManifest,
  LineRange,
  RecognizedManifest,
  ServiceManifest,
  ServicePort,
  WorkloadManifest,
} from './types';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v);
  return null;
}

function obj(v: unknown): Json {
  return isObject(v) ? v : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Offsets of the first character of every line, for offset → line lookups. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function lineOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function rangeOf(
  starts: readonly number[],
  text: string,
  range: readonly [number, number, number],
): LineRange {
  // The value end can sit just past a trailing newline; step back onto the content.
  let end = Math.max(range[0], range[1] - 1);
  while (end > range[0] && /\s/.test(text[end] ?? '')) end--;
  return { startLine: lineOf(starts, range[0]), endLine: lineOf(starts, end) };
}

/**
 * Calico's encapsulation settings → the datapath mode. `CrossSubnet` in either field
 * wins (it encapsulates only across subnets), then `Always`, else plain BGP routing.
 */
export function calicoModeFrom(ipipMode: string | null, vxlanMode: string | null): CniMode {
  const ipip = (ipipMode ?? 'Never').toLowerCase();
  const vxlan = (vxlanMode ?? 'Never').toLowerCase();
  if (ipip === 'crosssubnet' || vxlan === 'crosssubnet') return 'calico-crosssubnet';
  if (vxlan === 'always') return 'calico-vxlan';
  if (ipip === 'always') return 'calico-ipip';
  return 'calico-bgp';
}

function flannelModeFrom(backend: string | null): CniMode | null {
  if (backend === 'vxlan') return 'flannel-vxlan';
  if (backend === 'host-gw') return 'flannel-host-gw';
  return null;
}

function recognizeKindCluster(doc: Json, range: LineRange): KindClusterManifest {
  const networking = obj(doc.networking);
  const nodes = arr(doc.nodes).map((n) => ({ role: str(obj(n).role) ?? 'control-plane' }));
  return {
    kind: 'kindCluster',
    range,
    name: str(doc.name),
    // kind's default is a single control-plane node.
    nodes: nodes.length > 0 ? nodes : [{ role: 'control-plane' }],
    disableDefaultCNI: networking.disableDefaultCNI === true,
    podSubnet: str(networking.podSubnet),
    serviceSubnet: str(networking.serviceSubnet),
  };
}

function recognizeFlannel(doc: Json, range: LineRange): FlannelConfigManifest {
  let netConf: Json = {};
  const raw = obj(doc.data)['net-conf.json'];
  if (typeof raw === 'string') {
    try {
      netConf = obj(JSON.parse(raw));
    } catch {
      netConf = {};
    }
  }
  const backendConf = obj(netConf.Backend);
  const backend = str(backendConf.Type)?.toLowerCase() ?? null;
  return {
    kind: 'flannelConfig',
    range,
    backend,
    network: str(netConf.Network),
    vni: num(backendConf.VNI),
    port: num(backendConf.Port),
    cniMode: flannelModeFrom(backend),
  };
}

function recognizeIpPool(doc: Json, range: LineRange): CalicoPoolManifest {
  const spec = obj(doc.spec);
  const ipipMode = str(spec.ipipMode);
  const vxlanMode = str(spec.vxlanMode);
  return {
    kind: 'calicoPool',
    range,
    source: 'IPPool',
    name: str(obj(doc.metadata).name),
    cidr: str(spec.cidr),
    blockSize: num(spec.blockSize),
    ipipMode,
    vxlanMode,
    cniMode: calicoModeFrom(ipipMode, vxlanMode),
  };
}

/** The calico-node container's env, when this DaemonSet is calico-node; else null. */
function recognizeCalicoNode(doc: Json, range: LineRange): CalicoPoolManifest | null {
  const containers = arr(obj(obj(obj(doc.spec).template).spec).containers).map(obj);
  const node = containers.find((c) => c.name === 'calico-node');
  if (!node) return null;
  const env = new Map<string, string | null>();
  for (const e of arr(node.env).map(obj)) {
    const name = str(e.name);
    if (name) env.set(name, str(e.value));
  }
  if (!env.has('CALICO_IPV4POOL_IPIP') && !env.has('CALICO_IPV4POOL_VXLAN')) return null;
  const ipipMode = env.get('CALICO_IPV4POOL_IPIP') ?? null;
  const vxlanMode = env.get('CALICO_IPV4POOL_VXLAN') ?? null;
  return {
    kind: 'calicoPool',
    range,
    source: 'calico-node',
    name: str(obj(doc.metadata).name),
    cidr: env.get('CALICO_IPV4POOL_CIDR') ?? null,
    blockSize: num(env.get('CALICO_IPV4POOL_BLOCK_SIZE')),
    ipipMode,
    vxlanMode,
    cniMode: calicoModeFrom(ipipMode, vxlanMode),
  };
}

function recognizeService(doc: Json, range: LineRange): ServiceManifest {
  const spec = obj(doc.spec);
  const metadata = obj(doc.metadata);
  const ports: ServicePort[] = arr(spec.ports)
    .map(obj)
    .map((p) => ({
      name: str(p.name),
      port: num(p.port),
      targetPort: str(p.targetPort),
      nodePort: num(p.nodePort),
      protocol: str(p.protocol) ?? 'TCP',
    }));
  return {
    kind: 'service',
    range,
    name: str(metadata.name),
    namespace: str(metadata.namespace),
    type: str(spec.type) ?? 'ClusterIP',
    ports,
    selector: labelMap(spec.selector),
  };
}

/** Label maps keep only string-valued entries (YAML may give numbers or booleans). */
function labelMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(obj(v))) {
    const text = str(value);
    if (text !== null) out[k] = text;
  }
  return out;
}

function recognizeWorkload(
  doc: Json,
  kind: WorkloadManifest['workloadKind'],
  range: LineRange,
): WorkloadManifest {
  const metadata = obj(doc.metadata);
  const spec = obj(doc.spec);
  // A Pod's own spec; a Deployment's or DaemonSet's pod template.
  const template = kind === 'Pod' ? doc : obj(spec.template);
  const podSpec = obj(template.spec);
  const ports = arr(podSpec.containers)
    .map(obj)
    .flatMap((c) => arr(c.ports).map(obj))
    .flatMap((p) => {
      const containerPort = num(p.containerPort);
      if (containerPort === null) return [];
      return [{ name: str(p.name), containerPort, protocol: str(p.protocol) ?? 'TCP' }];
    });
  const nodeSelector = obj(podSpec.nodeSelector);
  return {
    kind: 'workload',
    range,
    workloadKind: kind,
    name: str(metadata.name),
    namespace: str(metadata.namespace),
    labels: labelMap(obj(template.metadata).labels),
    selector: kind === 'Pod' ? null : labelMap(obj(spec.selector).matchLabels),
    replicas: kind === 'Deployment' ? num(spec.replicas) : null,
    hostNetwork: podSpec.hostNetwork === true,
    nodeName: str(podSpec.nodeName) ?? str(nodeSelector['kubernetes.io/hostname']),
    ports,
  };
}

function recognizeDocument(doc: Json, range: LineRange): RecognizedManifest | null {
  const kind = str(doc.kind);
  const apiVersion = str(doc.apiVersion) ?? '';
  const metadata = obj(doc.metadata);
  if (kind === 'Cluster' && apiVersion.startsWith('kind.x-k8s.io/')) {
    return recognizeKindCluster(doc, range);
  }
  if (kind === 'ConfigMap' && metadata.name === 'kube-flannel-cfg') {
    return recognizeFlannel(doc, range);
  }
  if (kind === 'IPPool' && apiVersion.includes('projectcalico.org')) {
    return recognizeIpPool(doc, range);
  }
  if (kind === 'DaemonSet') {
    const calico = recognizeCalicoNode(doc, range);
    if (calico) return calico;
  }
  if (kind === 'Pod' || kind === 'Deployment' || kind === 'DaemonSet') {
    return recognizeWorkload(doc, kind, range);
  }
  if (kind === 'Service' && (apiVersion === 'v1' || apiVersion === '')) {
    return recognizeService(doc, range);
  }
  return null;
}

/**
 * Recognises the manifests in a YAML text, in document order.
 *
 * @param text the whole file; any number of `---`-separated documents.
 * @returns one entry per recognised document, with 0-based line ranges; documents
 *   that do not parse or are not recognised are left out. Never throws.
 */
export function recognizeManifests(text: string): RecognizedManifest[] {
  const found: RecognizedManifest[] = [];
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text);
  } catch {
    return found;
  }
  if (!Array.isArray(docs)) return found;
  const starts = lineStarts(text);
  for (const doc of docs) {
    if (doc.errors.length > 0) continue;
    const contents = doc.contents;
    if (!contents?.range) continue;
    try {
      const value: unknown = doc.toJS();
      if (!isObject(value)) continue;
      const manifest = recognizeDocument(value, rangeOf(starts, text, contents.range));
      if (manifest) found.push(manifest);
    } catch {
      // A document the yaml package cannot turn into values (e.g. alias loops) is skipped.
      continue;
    }
  }
  return found;
}
