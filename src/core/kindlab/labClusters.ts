/**
 * The editor's side of lab clusters, as data: the quick-pick choices (CNI mode,
 * kube-proxy mode) and what they turn into, the lab clusters Podpath made among
 * `kind get clusters` (recognised by the node label the kind config sets), the probe
 * pods' IPs, and what the Trace offer can do for a mode.
 */
import type { CniMode } from '../datapath/types';
import type { KindClusterManifest } from '../manifests/types';
import {
  KIND_LAB_MODES,
  KUBE_PROXY_MODES,
  LAB_LABEL,
  LAB_MODE_LABEL,
  isKindClusterName,
  kindLabMode,
  type KindLabMode,
  type KindLabModeInfo,
  type KubeProxyMode,
} from './modes';
import { PROBE_NAMESPACE } from './probeManifests';

export interface LabChoice<T> {
  label: string;
  detail: string;
  value: T;
}

const CNI_DETAIL: Record<KindLabMode, string> = {
  'flannel-vxlan': 'Pod traffic between nodes wrapped in VXLAN (UDP 8472) on flannel.1',
  'flannel-host-gw': 'Plain routes to each node’s pod subnet; nodes must share an L2 segment',
  'calico-bgp': 'BIRD announces pod blocks over BGP; no encapsulation (IPIP and VXLAN Never)',
  'calico-ipip': 'Pod traffic between nodes wrapped in IP-in-IP on tunl0 (needs the ipip module)',
  'calico-vxlan': 'Pod traffic between nodes wrapped in VXLAN (UDP 4789) on vxlan.calico',
  'calico-vxlan-crosssubnet': 'VXLAN only across subnets; plain routes within one',
  kindnet: 'kind’s own CNI: routes to each node’s pod subnet, no Podpath CNI manifest',
};

const PROXY_DETAIL: Record<KubeProxyMode, string> = {
  iptables: 'Services as iptables NAT rules (KUBE-SERVICES chains); kind’s default',
  nftables: 'Services as nftables maps (table ip kube-proxy); needs Kubernetes 1.31+',
  ipvs: 'Services as IPVS virtual servers on kube-ipvs0 (loads the ip_vs modules)',
};

/** The CNI modes in the order the walkthroughs present them, for a quick pick. */
export function cniChoices(): LabChoice<KindLabModeInfo>[] {
  return KIND_LAB_MODES.map((m) => ({ label: m.title, detail: CNI_DETAIL[m.mode], value: m }));
}

/** The kube-proxy modes, iptables (kind's default) first. */
export function kubeProxyChoices(): LabChoice<KubeProxyMode>[] {
  return KUBE_PROXY_MODES.map((p) => ({ label: p, detail: PROXY_DETAIL[p], value: p }));
}

/** Folder inside the workspace where a lab's kind config and manifests are written. */
export const LAB_WORKSPACE_DIR = '.podpath/kind';

export interface KindLabCreateOptions {
  name: string;
  mode: KindLabModeInfo;
  kubeProxyMode: KubeProxyMode;
  /** Absolute folder for kind-config.yaml, cni.yaml, probe-pods.yaml. */
  outDir: string;
}

/** The lab name the CLI also defaults to. */
export function defaultLabName(mode: KindLabModeInfo): string {
  return `podpath-${mode.mode}`;
}

/**
 * The options a creation runs with for the picked modes. The name comes from a kind
 * `Cluster` config the person started from (the CodeLens) when it is a valid kind
 * name, else the CLI's default; the files go to `<workspace>/.podpath/kind/<name>`.
 * @throws Error when the config's name is not a kind cluster name (says which rule).
 */
export function kindLabCreateOptions(
  mode: KindLabModeInfo,
  kubeProxyMode: KubeProxyMode,
  workspaceDir: string,
  fromConfig?: Pick<KindClusterManifest, 'name'>,
): KindLabCreateOptions {
  const name = fromConfig?.name ?? defaultLabName(mode);
  if (!isKindClusterName(name)) {
    throw new Error(
      `the kind config names the cluster "${name}", which kind cannot use (lower-case letters, digits and -, at most 32, starting and ending with a letter or digit). Rename it in the config`,
    );
  }
  const base = workspaceDir.replace(/\/+$/, '');
  return { name, mode, kubeProxyMode, outDir: `${base}/${LAB_WORKSPACE_DIR}/${name}` };
}

/**
 * Cluster names from `kind get clusters`: one per line on stdout. With none, kind
 * prints "No kind clusters found." on stderr and nothing on stdout.
 */
export function parseKindClusters(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && isKindClusterName(l));
}

/** What `kubectl get nodes -l podpath.dev/lab -o json` says about one cluster. */
export type LabMarker =
  { podpath: true; mode: KindLabModeInfo | null; nodes: number } | { podpath: false };

/**
 * Reads the lab labels off the nodes (`kubectl get nodes -o json` of the cluster's
 * context). A cluster is Podpath's when its nodes carry `podpath.dev/lab=<name>`; the
 * mode comes from `podpath.dev/lab-mode` (null when it names no mode Podpath knows).
 * @throws Error when the text is not a kubectl List of nodes.
 */
export function labMarkerFromNodes(json: string, cluster: string): LabMarker {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error('kubectl did not print JSON for the nodes');
  }
  const items = (doc as { items?: unknown }).items;
  if (!Array.isArray(items)) throw new Error('kubectl printed no list of nodes');
  let nodes = 0;
  let mode: KindLabModeInfo | null = null;
  for (const item of items as unknown[]) {
    const labels = (item as { metadata?: { labels?: Record<string, unknown> } }).metadata?.labels;
    if (!labels || labels[LAB_LABEL] !== cluster) continue;
    nodes++;
    const m = labels[LAB_MODE_LABEL];
    if (typeof m === 'string' && !mode) mode = kindLabMode(m) ?? null;
  }
  return nodes > 0 ? { podpath: true, mode, nodes } : { podpath: false };
}

/** The argv that reads a cluster's lab labels. */
export function labNodesArgv(cluster: string): string[] {
  return ['kubectl', '--context', `kind-${cluster}`, 'get', 'nodes', '-l', LAB_LABEL, '-o', 'json'];
}

export interface LabClusterRow {
  name: string;
  /** The mode the nodes are labelled with, when known. */
  mode: KindLabMode | null;
  label: string;
  description: string;
  tooltip: string;
  /** `podpath.kindLab` (Delete, Recreate, Trace) or `podpath.kindLabUnchecked` (Delete only). */
  contextValue: 'podpath.kindLab' | 'podpath.kindLabUnchecked';
}

/**
 * The Labs view's rows for lab clusters: the kind clusters whose nodes carry Podpath's
 * lab label, plus those whose labels could not be read but whose files Podpath wrote
 * (`known`), marked as unchecked. Other kind clusters are not Podpath's and are left out.
 */
export function labClusterRows(
  clusters: readonly string[],
  markers: ReadonlyMap<string, LabMarker | Error>,
  known: ReadonlySet<string> = new Set(),
): LabClusterRow[] {
  const rows: LabClusterRow[] = [];
  for (const name of clusters) {
    const marker = markers.get(name);
    if (marker instanceof Error || marker === undefined) {
      if (!known.has(name)) continue;
      const why = marker instanceof Error ? marker.message : 'not checked';
      rows.push({
        name,
        mode: null,
        label: name,
        description: 'kind · labels not readable',
        tooltip: `Podpath wrote this lab's files (${LAB_WORKSPACE_DIR}/${name}), but its node labels could not be read: ${why}`,
        contextValue: 'podpath.kindLabUnchecked',
      });
      continue;
    }
    if (!marker.podpath) continue;
    rows.push({
      name,
      mode: marker.mode?.mode ?? null,
      label: name,
      description: `kind · ${marker.mode?.title ?? 'unknown mode'} · ${marker.nodes} nodes`,
      tooltip: `kind cluster ${name} (context kind-${name}), created by Podpath${marker.mode ? ` for ${marker.mode.title}` : ''}. Probe pods in namespace ${PROBE_NAMESPACE}.`,
      contextValue: 'podpath.kindLab',
    });
  }
  return rows;
}

/** The IP column of `kubectl get pods -o wide` for one pod, or null when it is not there yet. */
export function podIp(wideTable: string, pod: string): string | null {
  const [header, ...rows] = wideTable.split('\n');
  const column = (header ?? '').split(/\s{2,}/).indexOf('IP');
  const row = rows.map((r) => r.split(/\s{2,}/)).find((cells) => cells[0] === pod);
  const ip = column >= 0 ? row?.[column] : undefined;
  return ip && /^[0-9a-fA-F.:]+$/.test(ip) ? ip : null;
}

/**
 * The datapath diagram that matches a lab mode (the datapath plans call Calico's
 * CrossSubnet mode `calico-crosssubnet`); null for kindnet, which has no plan.
 */
export function datapathModeFor(mode: KindLabMode): CniMode | null {
  if (mode === 'kindnet') return null;
  if (mode === 'calico-vxlan-crosssubnet') return 'calico-crosssubnet';
  return mode;
}
