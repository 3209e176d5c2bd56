/**
 * The kind `Cluster` config of a lab: one control plane and two workers (pods A and
 * B go to different workers), the default CNI off unless the mode is kindnet, the
 * pod subnet the CNI expects and the kube-proxy mode. Written with the yaml library
 * so that the file a person opens is plain, commented YAML.
 */
import { Document } from 'yaml';
import { LAB_LABEL, LAB_MODE_LABEL, type KindLabModeInfo, type KubeProxyMode } from './modes';

export interface KindConfigOptions {
  name: string;
  mode: KindLabModeInfo;
  kubeProxyMode: KubeProxyMode;
}

/** The kind config's YAML text for `options`. */
export function kindClusterConfig(options: KindConfigOptions): string {
  const { name, mode, kubeProxyMode } = options;
  const labels = { [LAB_LABEL]: name, [LAB_MODE_LABEL]: mode.mode };
  const networking: Record<string, unknown> = {};
  if (mode.cni !== 'kindnet') networking['disableDefaultCNI'] = true;
  networking['podSubnet'] = mode.podSubnet;
  networking['kubeProxyMode'] = kubeProxyMode;
  const doc = new Document({
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name,
    networking,
    nodes: [
      { role: 'control-plane', labels },
      { role: 'worker', labels },
      { role: 'worker', labels },
    ],
  });
  doc.commentBefore =
    ` Podpath lab "${name}": ${mode.title}, kube-proxy ${kubeProxyMode}.\n` +
    ` Written by \`podpath lab create --kind ${mode.mode}\`; edit it and create the cluster with\n` +
    ` kind create cluster --config kind-config.yaml --name ${name}`;
  return doc.toString();
}
