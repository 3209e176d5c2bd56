/**
 * The lab topology a kind cluster config describes, as a Mermaid flowchart: the
 * node containers kind will create (named as kind names them), their roles, the
 * pod and service subnets, and whether a CNI still has to be installed.
 */
import type { KindClusterManifest } from './types';

/** Mermaid label text with every character that could end or inject markup as an entity. */
function label(text: string): string {
  let out = '';
  for (const ch of text) {
    out += /[A-Za-z0-9 ./:_()-]/.test(ch) ? ch : `#${ch.codePointAt(0) ?? 63};`;
  }
  return out;
}

/**
 * Node container names as kind creates them: `<cluster>-control-plane`,
 * `<cluster>-control-plane2`, `<cluster>-worker`, `<cluster>-worker2`…
 *
 * @param cluster a recognised kind Cluster config.
 */
export function kindNodeNames(cluster: KindClusterManifest): string[] {
  const prefix = cluster.name ?? 'kind';
  const counts = new Map<string, number>();
  return cluster.nodes.map((n) => {
    const count = (counts.get(n.role) ?? 0) + 1;
    counts.set(n.role, count);
    return `${prefix}-${n.role}${count > 1 ? count : ''}`;
  });
}

/**
 * Mermaid flowchart source for a kind cluster config.
 *
 * @param cluster a recognised kind Cluster config.
 */
export function kindTopologyDiagram(cluster: KindClusterManifest): string {
  const names = kindNodeNames(cluster);
  const pods = cluster.podSubnet ?? '10.244.0.0/16';
  const services = cluster.serviceSubnet ?? '10.96.0.0/12';
  const lines = ['flowchart TB'];
  // Only the node containers sit on the Docker network; pod addresses live per node
  // (each node's podCIDR, a /24 of the pod subnet), and Service addresses are virtual:
  // kube-proxy rules on every node, on no interface and no network.
  lines.push(
    `  net["${label('docker network kind')}<br/>${label('node IPs 172.18.0.x (Docker assigns)')}"]`,
  );
  names.forEach((name, i) => {
    const role = cluster.nodes[i]?.role ?? '';
    lines.push(
      `  n${i}["${label(name)}<br/>${label(role)}<br/>${label(`node IP on kind network`)}<br/>${label(`pods: own podCIDR (a /24 of ${pods})`)}"]`,
    );
    lines.push(`  net --- n${i}`);
  });
  lines.push(
    `  svc{{"${label(`services ${services}`)}<br/>${label('virtual: kube-proxy rules on every node')}"}}`,
  );
  names.forEach((_, i) => lines.push(`  svc -.- n${i}`));
  const cni = cluster.disableDefaultCNI
    ? 'default CNI disabled: install Flannel or Calico'
    : 'kindnet (default CNI)';
  lines.push(`  cni(["${label(cni)}"])`);
  lines.push(`  cni -.- n0`);
  if (cluster.disableDefaultCNI) {
    lines.push('  classDef missing stroke:#d33,stroke-width:2px,stroke-dasharray:4 2');
    lines.push('  class cni missing');
  }
  return lines.join('\n');
}
