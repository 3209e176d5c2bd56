/**
 * Real recorded objects (test/fixtures/kube-objects, see SOURCES.md there) loaded into the API
 * stand-in as two clusters: the kind cluster "ks-cloud" running Calico IPIP (its two nodes,
 * ten pods, calico-node DaemonSet and calico-config ConfigMap), and a k3s node running Flannel
 * VXLAN (its NodeList and kube-system PodList) with the upstream Flannel manifest's
 * ConfigMap + DaemonSet and a kubeadm kube-proxy ConfigMap.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** test/fixtures/kube-objects; bundled suites (test/integration) set it from the workspace. */
export let KUBE_FIXTURES = join(__dirname, '..', 'fixtures', 'kube-objects');

export function setKubeFixturesDir(dir: string): void {
  KUBE_FIXTURES = dir;
}

type Json = Record<string, unknown>;

function readJson(name: string): Json {
  return JSON.parse(readFileSync(join(KUBE_FIXTURES, name), 'utf8')) as Json;
}

/** Items of a List or of KubeSphere's `{items, totalItems}` wrapper, each with its kind set. */
function items(name: string, kind: string, apiVersion = 'v1'): Json[] {
  return ((readJson(name)['items'] ?? []) as Json[]).map((o) => ({ kind, apiVersion, ...o }));
}

function yamlObjects(name: string, kinds: string[]): Json[] {
  return parseAllDocuments(readFileSync(join(KUBE_FIXTURES, name), 'utf8'))
    .map((d) => d.toJS() as Json | null)
    .filter((o): o is Json => !!o && kinds.includes(String(o['kind'])));
}

/** kind + Calico IPIP (recorded through the KubeSphere console of cluster ks-cloud). */
export function kindCalicoObjects(): Json[] {
  return [
    ...items('kind-calico-ipip_ks-cloud_nodes_kubesphere-list.json', 'Node'),
    ...items('kind-calico-ipip_ks-cloud_pods_kubesphere-list.json', 'Pod'),
    readJson('kind-calico-ipip_ks-cloud_calico-node-daemonset.json'),
    readJson('kind-calico-ipip_ks-cloud_calico-config-configmap.json'),
  ];
}

/** k3s + Flannel VXLAN (troubleshoot's support bundle), with upstream Flannel's manifest objects. */
export function k3sFlannelObjects(): Json[] {
  return [
    ...items('k3s-flannel-vxlan_troubleshoot-baseline_nodelist.json', 'Node'),
    ...items('k3s-flannel-vxlan_troubleshoot-baseline_podlist_kube-system.json', 'Pod'),
    ...yamlObjects('upstream_kube-flannel_v0.28.9.yml', ['ConfigMap', 'DaemonSet']),
    ...yamlObjects('kubeadm-v1.34_kodekloud-lab_kube-proxy-configmap_mode-empty.yaml', [
      'ConfigMap',
    ]),
  ];
}

/** The recorded dual-stack `kubernetes` ServiceCIDR (v1alpha1 then), served as the GA v1. */
export function serviceCidrObject(): Json {
  const [o] = yamlObjects('spiderpool-docs_servicecidr-kubernetes_dual-stack_v1alpha1.yaml', [
    'ServiceCIDR',
  ]);
  return { ...(o ?? {}), apiVersion: 'networking.k8s.io/v1' };
}

/** kube-system/kubeadm-config (constructed from the documented format, see SOURCES.md). */
export function kubeadmConfigMap(): Json {
  const [o] = yamlObjects('constructed_kubeadm-config-configmap_v1beta4.yaml', ['ConfigMap']);
  return o ?? {};
}

/** The projectcalico.org/v3 IPPools of one of calico's confd test inputs. */
export function calicoV3Pools(file: string): Json[] {
  return yamlObjects(file, ['IPPool']);
}
