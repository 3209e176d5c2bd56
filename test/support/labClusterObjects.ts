/**
 * API objects for an offline lab dressed as a kind cluster, to feed the API stand-in
 * (KubeApiStandIn.upsert) next to the docker stand-in: kind-style Nodes
 * (`podpath-lab-worker`, `podpath-lab-worker2`, providerID `kind://docker/podpath-lab/<node>`,
 * InternalIP = the lab node's IP, podCIDR = its pod subnet), the lab's Pods (Running, their
 * IPs, nodeName), and the CNI objects of the lab's mode: Flannel's `kube-flannel-cfg`
 * ConfigMap (net-conf.json with the backend, VNI and port) and `kube-flannel-ds` DaemonSet, or
 * Calico's `calico-node` DaemonSet env, `calico-config` ConfigMap and IPPool.
 *
 * Every object starts from a real recorded or upstream one in test/fixtures/kube-objects (the
 * kind node and pod of cluster ks-cloud, flannel v0.28.9's manifest, calico v3.32.1's
 * calico-vxlan manifest, a recorded crd.projectcalico.org IPPool) and only the fields that
 * describe the lab are changed, so the shapes stay those a real cluster serves.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { LabDefinition, LabNodeSpec, LabPodSpec } from '../../src/core/labs/catalog';
import { KUBE_FIXTURES } from './kubeFixtures';

type Json = Record<string, unknown>;

export const LAB_CLUSTER = 'podpath-lab';

/** The kind node name of a lab node: nodeA → `podpath-lab-worker`, nodeB → `…-worker2`. */
export function kindNodeName(labNode: string, cluster = LAB_CLUSTER): string {
  return labNode === 'nodeA' ? `${cluster}-worker` : `${cluster}-worker2`;
}

function readJson(name: string): Json {
  return JSON.parse(readFileSync(join(KUBE_FIXTURES, name), 'utf8')) as Json;
}

function yamlObjects(name: string): Json[] {
  return parseAllDocuments(readFileSync(join(KUBE_FIXTURES, name), 'utf8'))
    .map((d) => d.toJS() as Json | null)
    .filter((o): o is Json => !!o);
}

function withoutServerFields(o: Json): Json {
  const copy = structuredClone(o);
  const meta = copy['metadata'] as Json;
  for (const k of ['managedFields', 'uid', 'resourceVersion', 'creationTimestamp', 'selfLink'])
    delete meta[k];
  const ann = meta['annotations'] as Json | undefined;
  if (ann) delete ann['kubectl.kubernetes.io/last-applied-configuration'];
  return copy;
}

function node(lab: LabDefinition, n: LabNodeSpec, template: Json, cluster: string): Json {
  const o = withoutServerFields(template);
  const name = kindNodeName(n.name, cluster);
  o['kind'] = 'Node';
  o['apiVersion'] = 'v1';
  const meta = o['metadata'] as Json;
  meta['name'] = name;
  const labels = { ...(meta['labels'] as Json) };
  labels['kubernetes.io/hostname'] = name;
  meta['labels'] = labels;
  const ann: Json = {
    'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
    'node.alpha.kubernetes.io/ttl': '0',
    'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
  };
  if (lab.network.routing.startsWith('flannel')) {
    // What flanneld writes on every node (flannel pkg/subnet/kube).
    const vxlan = n.tunnel?.kind === 'vxlan';
    ann['flannel.alpha.coreos.com/backend-type'] = vxlan ? 'vxlan' : 'host-gw';
    ann['flannel.alpha.coreos.com/backend-data'] = vxlan
      ? JSON.stringify({ VNI: n.tunnel?.vni ?? 1, VtepMAC: n.tunnel?.mac ?? '' })
      : 'null';
    ann['flannel.alpha.coreos.com/kube-subnet-manager'] = 'true';
    ann['flannel.alpha.coreos.com/public-ip'] = n.ip;
  } else {
    // What calico-node writes (projectcalico.org/* node annotations).
    ann['projectcalico.org/IPv4Address'] = `${n.ip}/24`;
    if (n.tunnel?.device === 'vxlan.calico') {
      ann['projectcalico.org/IPv4VXLANTunnelAddr'] = n.tunnel.address.split('/')[0];
    }
    if (n.tunnel?.device === 'tunl0') {
      ann['projectcalico.org/IPv4IPIPTunnelAddr'] = n.tunnel.address.split('/')[0];
    }
  }
  meta['annotations'] = ann;
  o['spec'] = {
    podCIDR: n.podCidr,
    podCIDRs: [n.podCidr],
    providerID: `kind://docker/${cluster}/${name}`,
  };
  const status = structuredClone(o['status'] as Json);
  status['addresses'] = [
    { type: 'InternalIP', address: n.ip },
    { type: 'Hostname', address: name },
  ];
  o['status'] = status;
  return o;
}

function pod(p: LabPodSpec, index: number, template: Json, cluster: string): Json {
  const o = withoutServerFields(template);
  o['kind'] = 'Pod';
  o['apiVersion'] = 'v1';
  const meta = o['metadata'] as Json;
  meta['name'] = p.name;
  meta['namespace'] = 'default';
  meta['uid'] = `0000000${index}-0000-4000-8000-000000000000`;
  meta['labels'] = { app: 'podpath-probe' };
  meta['annotations'] = {};
  delete meta['ownerReferences'];
  delete meta['generateName'];
  const spec = structuredClone(o['spec'] as Json);
  spec['nodeName'] = kindNodeName(p.node, cluster);
  delete spec['hostNetwork'];
  o['spec'] = spec;
  const status = structuredClone(o['status'] as Json);
  status['phase'] = 'Running';
  status['podIP'] = p.ip;
  status['podIPs'] = [{ ip: p.ip }];
  o['status'] = status;
  return o;
}

function flannelObjects(lab: LabDefinition): Json[] {
  const manifest = yamlObjects('upstream_kube-flannel_v0.28.9.yml');
  const cm = structuredClone(manifest.find((o) => o['kind'] === 'ConfigMap') as Json);
  const ds = structuredClone(manifest.find((o) => o['kind'] === 'DaemonSet') as Json);
  const tunnel = lab.network.nodes[0]?.tunnel;
  const backend: Json =
    lab.network.routing === 'flannel-vxlan'
      ? { Type: 'vxlan', VNI: tunnel?.vni ?? 1, Port: tunnel?.port ?? 8472 }
      : { Type: 'host-gw' };
  const data = { ...(cm['data'] as Json) };
  data['net-conf.json'] = `${JSON.stringify(
    { Network: lab.network.clusterCidr, EnableNFTables: false, Backend: backend },
    null,
    2,
  )}\n`;
  cm['data'] = data;
  return [cm, ds];
}

function calicoObjects(lab: LabDefinition): Json[] {
  const manifest = yamlObjects('upstream_calico-vxlan-v3.32.1_calico-config+calico-node.yaml');
  const cm = structuredClone(manifest.find((o) => o['kind'] === 'ConfigMap') as Json);
  const ds = structuredClone(manifest.find((o) => o['kind'] === 'DaemonSet') as Json);
  const vxlan = lab.network.routing === 'calico-vxlan';
  const ipip = lab.network.routing === 'calico-ipip';
  const tunnel = lab.network.nodes[0]?.tunnel;
  const backend = vxlan ? 'vxlan' : 'bird';
  const data = { ...(cm['data'] as Json) };
  data['calico_backend'] = backend;
  data['veth_mtu'] = String(lab.network.pods[0]?.mtu ?? 1500);
  cm['data'] = data;
  // calico-node's env as the manifest for the lab's mode would set it.
  const set: Record<string, string> = {
    CALICO_NETWORKING_BACKEND: backend,
    CALICO_IPV4POOL_CIDR: lab.network.clusterCidr,
    CALICO_IPV4POOL_IPIP: ipip ? 'Always' : 'Never',
    CALICO_IPV4POOL_VXLAN: vxlan ? 'Always' : 'Never',
  };
  if (vxlan) {
    set['FELIX_VXLANVNI'] = String(tunnel?.vni ?? 4096);
    set['FELIX_VXLANPORT'] = String(tunnel?.port ?? 4789);
  }
  const spec = ((ds['spec'] as Json)['template'] as Json)['spec'] as Json;
  const container = (spec['containers'] as Json[]).find((c) => c['name'] === 'calico-node');
  if (!container) throw new Error('the calico manifest has no calico-node container');
  const env = ((container['env'] as Json[]) ?? []).filter((e) => !(String(e['name']) in set));
  for (const [name, value] of Object.entries(set)) env.push({ name, value });
  container['env'] = env;

  const pools = yamlObjects('calico-v1-crd_ippoollist_vxlan-Always_jqknono-blog_CRLF.yaml');
  const pool = withoutServerFields(
    ((pools[0]?.['items'] as Json[] | undefined)?.[0] ?? {}) as Json,
  );
  const meta = pool['metadata'] as Json;
  delete meta['generation'];
  delete meta['annotations'];
  pool['spec'] = {
    ...(pool['spec'] as Json),
    cidr: lab.network.clusterCidr,
    ipipMode: ipip ? 'Always' : 'Never',
    vxlanMode: vxlan ? 'Always' : 'Never',
  };
  return [cm, ds, pool];
}

/** Everything the API stand-in serves for `lab` dressed as kind cluster `cluster`. */
export function labClusterObjects(lab: LabDefinition, cluster = LAB_CLUSTER): Json[] {
  const nodes = readJson('kind-calico-ipip_ks-cloud_nodes_kubesphere-list.json')['items'] as Json[];
  const nodeTemplate = nodes.find(
    (n) => (n['metadata'] as Json)['name'] === 'ks-cloud-worker',
  ) as Json;
  const pods = readJson('kind-calico-ipip_ks-cloud_pods_kubesphere-list.json')['items'] as Json[];
  // A plain workload pod (not host network) of the recorded kind cluster.
  const podTemplate = pods.find((p) =>
    String((p['metadata'] as Json)['name']).startsWith('coredns-'),
  ) as Json;
  const family = lab.network.routing.startsWith('flannel')
    ? flannelObjects(lab)
    : calicoObjects(lab);
  return [
    ...lab.network.nodes.map((n) => node(lab, n, nodeTemplate, cluster)),
    ...lab.network.pods.map((p, i) => pod(p, i, podTemplate, cluster)),
    ...family,
  ];
}

/** The docker stand-in's mapping (PODPATH_KIND_STANDIN) for a built lab. */
export function kindStandInMapping(lab: LabDefinition, cluster = LAB_CLUSTER): Json {
  return {
    cluster,
    nodes: lab.network.nodes.map((n) => ({
      name: kindNodeName(n.name, cluster),
      role: 'worker',
      namespace: `pp-${lab.network.short}-${n.name}`,
      ip: n.ip,
    })),
    pods: lab.network.pods.map((p, i) => ({
      name: p.name,
      namespace: 'default',
      uid: `0000000${i}-0000-4000-8000-000000000000`,
      id: `${String(i + 1).repeat(8)}${'ab'.repeat(28)}`,
      node: kindNodeName(p.node, cluster),
      netns: `pp-${lab.network.short}-${p.name}`,
      ip: p.ip,
    })),
  };
}
