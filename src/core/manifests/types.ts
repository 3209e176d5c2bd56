/**
 * Manifests Podpath recognises in YAML text, each with the lines it spans so the
 * editor can put a CodeLens on it. Line numbers are 0-based, like VS Code's.
 */
import type { CniMode } from '../datapath/types';

export interface LineRange {
  /** 0-based line of the document's first key. */
  startLine: number;
  /** 0-based last line of the document's content. */
  endLine: number;
}

export interface KindClusterNode {
  role: string;
}

export interface KindClusterManifest {
  kind: 'kindCluster';
  range: LineRange;
  name: string | null;
  nodes: KindClusterNode[];
  disableDefaultCNI: boolean;
  podSubnet: string | null;
  serviceSubnet: string | null;
}

export interface FlannelConfigManifest {
  kind: 'flannelConfig';
  range: LineRange;
  /** `Backend.Type` from net-conf.json, lower case (`vxlan`, `host-gw`…); null when absent. */
  backend: string | null;
  network: string | null;
  vni: number | null;
  port: number | null;
  /** The datapath this backend maps to, or null for a backend Podpath does not model. */
  cniMode: CniMode | null;
}

export interface CalicoPoolManifest {
  kind: 'calicoPool';
  range: LineRange;
  /** Where the settings came from: an IPPool resource or the calico-node DaemonSet env. */
  source: 'IPPool' | 'calico-node';
  name: string | null;
  cidr: string | null;
  blockSize: number | null;
  ipipMode: string | null;
  vxlanMode: string | null;
  cniMode: CniMode;
}

export interface ContainerPort {
  name: string | null;
  containerPort: number;
  /** `TCP` when the manifest does not say. */
  protocol: string;
}

export interface WorkloadManifest {
  kind: 'workload';
  range: LineRange;
  workloadKind: 'Pod' | 'Deployment' | 'DaemonSet';
  name: string | null;
  namespace: string | null;
  /** The pods' labels: a Pod's own, a Deployment's or DaemonSet's pod template's. */
  labels: Record<string, string>;
  /** `spec.selector.matchLabels` of a Deployment or DaemonSet; null for a Pod. */
  selector: Record<string, string> | null;
  /** `spec.replicas` of a Deployment (null when unset, which means 1). */
  replicas: number | null;
  /** `hostNetwork: true`: the pods share their node's network namespace. */
  hostNetwork: boolean;
  /** `spec.nodeName`, or the `kubernetes.io/hostname` nodeSelector: the node the pods run on. */
  nodeName: string | null;
  /** Every container's declared ports, in order. */
  ports: ContainerPort[];
}

export interface ServicePort {
  name: string | null;
  port: number | null;
  targetPort: string | null;
  nodePort: number | null;
  protocol: string;
}

export interface ServiceManifest {
  kind: 'service';
  range: LineRange;
  name: string | null;
  namespace: string | null;
  /** `ClusterIP` when the manifest does not say. */
  type: string;
  ports: ServicePort[];
  /** `spec.selector`: the labels of the pods it sends to (empty: no selector). */
  selector: Record<string, string>;
}

export type RecognizedManifest =
  | KindClusterManifest
  | FlannelConfigManifest
  | CalicoPoolManifest
  | WorkloadManifest
  | ServiceManifest;
