/**
 * Detection against every recorded object in test/fixtures/kube-objects (copied from
 * ../shared/fixtures/kube-objects; SOURCES.md says where each came from). Each
 * expectation is what the object itself says, quoted in the comment next to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import {
  detectKubeProxy,
  detectNetwork,
  providerFromId,
  summarizeNode,
  summarizePod,
} from '../../src/core/cluster/detect';
import type { ClusterObjects } from '../../src/core/cluster/types';
import { clusterObjects, readKubeObjects } from '../support/kubeObjectFixtures';

const FLANNEL_028 = 'upstream_kube-flannel_v0.28.9.yml';
const KS_NODES = 'kind-calico-ipip_ks-cloud_nodes_kubesphere-list.json';
const KS_DS = 'kind-calico-ipip_ks-cloud_calico-node-daemonset.json';
const KS_CM = 'kind-calico-ipip_ks-cloud_calico-config-configmap.json';
const KUBE_PROXY = 'kubeadm-v1.34_kodekloud-lab_kube-proxy-configmap_mode-empty.yaml';

function hasEvidence(evidence: string[], fragment: string): void {
  assert.ok(
    evidence.some((e) => e.includes(fragment)),
    `no evidence contains ${JSON.stringify(fragment)}:\n  ${evidence.join('\n  ')}`,
  );
}

/** A minimal kube-system DaemonSet (test-input, shaped like the ones kind and kubeadm install). */
function daemonSet(name: string, container: { name: string; image: string; command?: string[] }) {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'kube-system' },
    spec: { template: { spec: { containers: [container] } } },
  };
}

function pools(details: Record<string, unknown>): Record<string, unknown>[] {
  return details['pools'] as Record<string, unknown>[];
}

// ---------------------------------------------------------------- Flannel

test('Flannel v0.28.9 manifest: VXLAN from kube-flannel/kube-flannel-cfg, defaults VNI 1 and port 8472', () => {
  const d = detectNetwork(clusterObjects(FLANNEL_028));
  assert.equal(d.cni, 'flannel');
  assert.equal(d.mode, 'flannel-vxlan');
  // net-conf.json: {"Network":"10.244.0.0/16","EnableNFTables":false,"Backend":{"Type":"vxlan"}}
  assert.equal(d.details['network'], '10.244.0.0/16');
  assert.equal(d.details['enableNFTables'], false);
  assert.equal(d.details['vni'], 1);
  assert.equal(d.details['port'], 8472);
  assert.equal(d.details['device'], 'flannel.1');
  assert.deepEqual(d.details['defaulted'], ['vni', 'port']);
  assert.equal(d.details['configMap'], 'kube-flannel/kube-flannel-cfg');
  assert.equal(d.details['daemonSet'], 'kube-flannel/kube-flannel-ds');
  hasEvidence(
    d.evidence,
    'ConfigMap kube-flannel/kube-flannel-cfg net-conf.json Backend.Type=vxlan',
  );
  hasEvidence(
    d.evidence,
    'DaemonSet kube-flannel/kube-flannel-ds runs flanneld (image ghcr.io/flannel-io/flannel:v0.28.9)',
  );
});

test('older Flannel manifests keep kube-flannel-cfg in kube-system', () => {
  for (const file of ['upstream_kube-flannel_v0.17.0.yml', 'upstream_kube-flannel_v0.10.0.yml']) {
    const d = detectNetwork(clusterObjects(file));
    assert.equal(d.mode, 'flannel-vxlan', file);
    assert.equal(d.details['configMap'], 'kube-system/kube-flannel-cfg', file);
    assert.equal(d.details['daemonSet'], 'kube-system/kube-flannel-ds', file);
    assert.equal(d.details['network'], '10.244.0.0/16', file);
  }
});

test('Flannel ali-vpc backend is named and not modelled, never guessed as VXLAN', () => {
  const d = detectNetwork(clusterObjects('upstream_kube-flannel-aliyun_v0.10.0.yml'));
  assert.equal(d.cni, 'flannel');
  assert.equal(d.mode, null);
  assert.equal(d.details['backend'], 'ali-vpc');
  assert.equal(d.details['network'], '10.24.0.0/16');
  assert.match(String(d.details['notModelled']), /ali-vpc backend is not modelled by Podpath yet/);
  assert.equal(d.details['vni'], undefined);
});

test('Flannel host-gw from the minikube manifest (ConfigMap without a namespace)', () => {
  const d = detectNetwork(clusterObjects('upstream_minikube_host-gw.yml'));
  assert.equal(d.mode, 'flannel-host-gw');
  assert.equal(d.details['network'], '10.33.0.0/16');
  assert.equal(d.details['device'], undefined);
  hasEvidence(
    d.evidence,
    'ConfigMap kube-flannel-cfg net-conf.json Backend.Type=host-gw, Network=10.33.0.0/16',
  );
});

test('Flannel node annotations alone (upstream fake node): VXLAN, VtepMAC and public-ip read', () => {
  const d = detectNetwork(clusterObjects('flannel-upstream-test_fake-node.yaml'));
  assert.equal(d.cni, 'flannel');
  assert.equal(d.mode, 'flannel-vxlan');
  assert.deepEqual(d.details['nodes'], [
    {
      name: 'test',
      backendType: 'vxlan',
      vtepMAC: '96:59:b2:3f:04:ee',
      vni: null,
      publicIP: '192.168.77.17',
    },
  ]);
  // backend-data carries no VNI here, so Flannel's default applies.
  assert.equal(d.details['vni'], 1);
  hasEvidence(
    d.evidence,
    'Node test annotations flannel.alpha.coreos.com/backend-type=vxlan, VtepMAC=96:59:b2:3f:04:ee, public-ip=192.168.77.17',
  );
});

test('k3s and k3d embed Flannel: detected from node annotations, VNI from backend-data', () => {
  const cases = [
    [
      'k3s-flannel-vxlan_troubleshoot-baseline_nodelist.json',
      'primary-node',
      '3a:5a:3d:4f:cc:94',
      '172.17.0.2',
    ],
    [
      'k3d-flannel-vxlan_troubleshoot-testdata_nodelist.json',
      'k3d-mycluster-server-0',
      '72:0b:f5:d9:11:46',
      '172.19.0.2',
    ],
  ] as const;
  for (const [file, name, mac, ip] of cases) {
    const d = detectNetwork(clusterObjects(file));
    assert.equal(d.mode, 'flannel-vxlan', file);
    assert.equal(d.details['vni'], 1, file);
    // The VNI came from backend-data {"VNI":1,…}, so only the port is a default.
    assert.deepEqual(d.details['defaulted'], ['port'], file);
    assert.deepEqual(d.details['nodes'], [
      { name, backendType: 'vxlan', vtepMAC: mac, vni: 1, publicIP: ip },
    ]);
  }
});

test('manifest and node annotations together count as three kinds of Flannel signal', () => {
  const d = detectNetwork(clusterObjects(FLANNEL_028, 'flannel-upstream-test_fake-node.yaml'));
  assert.equal(d.mode, 'flannel-vxlan');
  assert.equal(d.evidence.length, 3);
  assert.equal(d.details['alsoSeen'], undefined);
});

// ---------------------------------------------------------------- Calico

test('kind cluster with Calico IPIP: DaemonSet env, calico-config and node annotations agree', () => {
  const d = detectNetwork(clusterObjects(KS_NODES, KS_DS, KS_CM));
  assert.equal(d.cni, 'calico');
  assert.equal(d.mode, 'calico-ipip');
  // CALICO_NETWORKING_BACKEND comes from calico-config's calico_backend: bird.
  assert.equal(d.details['backend'], 'bird');
  hasEvidence(
    d.evidence,
    'DaemonSet kube-system/calico-node env CALICO_NETWORKING_BACKEND=bird (from ConfigMap kube-system/calico-config calico_backend)',
  );
  hasEvidence(d.evidence, 'DaemonSet kube-system/calico-node env CALICO_IPV4POOL_IPIP=Always');
  const [pool] = pools(d.details);
  assert.equal(pool?.['ipipMode'], 'Always');
  assert.equal(pool?.['vxlanMode'], 'Never');
  assert.equal(pool?.['mode'], 'calico-ipip');
  assert.deepEqual(d.details['nodes'], [
    {
      name: 'ks-cloud-control-plane',
      ipv4Address: '172.18.0.3/16',
      ipipTunnelAddr: '10.244.72.192',
      vxlanTunnelAddr: null,
    },
    {
      name: 'ks-cloud-worker',
      ipv4Address: '172.18.0.2/16',
      ipipTunnelAddr: '10.244.92.64',
      vxlanTunnelAddr: null,
    },
  ]);
  // veth_mtu "0" is auto-detection, not an MTU.
  assert.equal(d.details['mtu'], undefined);
});

test('Calico node annotations alone name Calico but not a mode', () => {
  const d = detectNetwork(clusterObjects('kind-calico-ipip_ks-cloud-control-plane_node.json'));
  assert.equal(d.cni, 'calico');
  assert.equal(d.mode, null);
  assert.equal(d.details['tunnelHint'], 'ipip');
  assert.match(String(d.details['notModelled']), /No Calico IP pool could be read/);
});

test('upstream calico.yaml v3.32.1 (IPIP) and calico-vxlan.yaml (VXLAN CrossSubnet)', () => {
  const ipip = detectNetwork(
    clusterObjects('upstream_calico-v3.32.1_ipip_calico-config+calico-node.yaml'),
  );
  assert.equal(ipip.mode, 'calico-ipip');
  assert.equal(ipip.details['backend'], 'bird');
  // CALICO_IPV4POOL_CIDR is commented out in the upstream manifest.
  assert.equal(pools(ipip.details)[0]?.['cidr'], null);

  const vxlan = detectNetwork(
    clusterObjects('upstream_calico-vxlan-v3.32.1_calico-config+calico-node.yaml'),
  );
  assert.equal(vxlan.mode, 'calico-vxlan-crosssubnet');
  assert.equal(vxlan.details['backend'], 'vxlan');
  hasEvidence(vxlan.evidence, 'ConfigMap kube-system/calico-config calico_backend=vxlan');
  hasEvidence(vxlan.evidence, 'CALICO_IPV4POOL_VXLAN=CrossSubnet');
});

test('kops-rendered Calico: IPIP CrossSubnet with the pool CIDR from env', () => {
  const d = detectNetwork(
    clusterObjects('kops-testdata_privatecalico_ipip-CrossSubnet_calico-config+calico-node.yaml'),
  );
  assert.equal(d.mode, 'calico-ipip-crosssubnet');
  assert.equal(pools(d.details)[0]?.['cidr'], '100.96.0.0/11');
  hasEvidence(d.evidence, 'CLUSTER_TYPE=kops,bgp');
});

test("the operator's Installation: VXLANCrossSubnet pool", () => {
  const d = detectNetwork(
    clusterObjects('upstream_tigera-operator_custom-resources_v3.32.1_Installation.yaml'),
  );
  assert.equal(d.cni, 'calico');
  assert.equal(d.mode, 'calico-vxlan-crosssubnet');
  const [pool] = pools(d.details);
  assert.equal(pool?.['cidr'], '192.168.0.0/16');
  assert.equal(pool?.['blockSize'], 26);
  assert.equal(pool?.['natOutgoing'], true);
  hasEvidence(
    d.evidence,
    'Installation default spec.calicoNetwork.ipPools[default-ipv4-ippool] encapsulation=VXLANCrossSubnet',
  );
});

test('v3 IP pools: mode per pool, the first IPv4 pool decides, the difference is said', () => {
  const d = detectNetwork(
    clusterObjects('calico-confd-testdata_v3-ippools_ipip-Always-CrossSubnet-Never.yaml'),
  );
  assert.deepEqual(
    pools(d.details).map((p) => [p['name'], p['mode']]),
    [
      ['ippoolv4-1', 'calico-ipip'],
      ['ippoolv4-2', 'calico-ipip-crosssubnet'],
      ['ippoolv4-3', 'calico-bgp'],
      ['ippoolv6-1', 'calico-bgp'],
      ['ippoolv6-2', 'calico-bgp'],
    ],
  );
  assert.equal(d.mode, 'calico-ipip');
  assert.equal(d.details['modesDiffer'], true);
  // calico's own v3 Node objects in the same file are not Kubernetes nodes.
  assert.equal(d.details['nodes'], undefined);

  const vx = detectNetwork(clusterObjects('calico-confd-testdata_v3-ippools_vxlan-Always.yaml'));
  assert.equal(vx.mode, 'calico-vxlan');
  assert.equal(vx.details['modesDiffer'], undefined);
});

test('crd.projectcalico.org/v1 IPPool list (CRLF) as kubectl returns it', () => {
  const d = detectNetwork(
    clusterObjects('calico-v1-crd_ippoollist_vxlan-Always_jqknono-blog_CRLF.yaml'),
  );
  assert.equal(d.mode, 'calico-vxlan');
  const [pool] = pools(d.details);
  assert.deepEqual(
    [pool?.['name'], pool?.['cidr'], pool?.['blockSize'], pool?.['natOutgoing']],
    ['default-ipv4-ippool', '192.168.0.0/16', 26, true],
  );
  hasEvidence(
    d.evidence,
    'IPPool default-ipv4-ippool (crd.projectcalico.org/v1) cidr=192.168.0.0/16, ipipMode=Never, vxlanMode=Always',
  );
});

test('IP pools read from the API win over the calico-node env', () => {
  const d = detectNetwork(
    clusterObjects(KS_DS, KS_CM, 'calico-v1-crd_ippoollist_vxlan-Always_jqknono-blog_CRLF.yaml'),
  );
  assert.equal(d.mode, 'calico-vxlan');
  assert.equal(pools(d.details).length, 1);
});

test('Calico pools without encapsulation on the vxlan backend are not BGP', () => {
  const objects = clusterObjects('upstream_calico-vxlan-v3.32.1_calico-config+calico-node.yaml');
  const pool = readKubeObjects(
    'calico-v1-crd_ippoollist_vxlan-Always_jqknono-blog_CRLF.yaml',
  )[0] as {
    spec: Record<string, unknown>;
  };
  pool.spec['vxlanMode'] = 'Never';
  const d = detectNetwork({ ...objects, ipPools: [pool] });
  assert.equal(d.mode, null);
  assert.match(String(d.details['notModelled']), /without BGP or encapsulation \(backend vxlan\)/);
});

// ---------------------------------------------------------------- Cilium, others

test('Cilium from kops renders: routing mode, tunnel protocol, kube-proxy replacement', () => {
  const cases = [
    [
      'kops-testdata_privatecilium_routing-mode-tunnel-vxlan_kpr-false.yaml',
      'tunnel',
      'vxlan',
      'false',
      'unknown',
    ],
    [
      'kops-testdata_privatecilium_cilium-v1.13_tunnel-vxlan_kpr-partial_a0d67fc.yaml',
      'tunnel',
      'vxlan',
      'partial',
      'unknown',
    ],
    [
      'kops-testdata_minimal-scaleway_routing-mode-tunnel_kpr-true.yaml',
      'tunnel',
      'vxlan',
      'true',
      'none',
    ],
    [
      'kops-testdata_privateciliumadvanced_routing-mode-native_ipam-eni_kpr-true.yaml',
      'native',
      null,
      'true',
      'none',
    ],
  ] as const;
  for (const [file, routing, tunnel, kpr, proxy] of cases) {
    const objects = clusterObjects(file);
    const d = detectNetwork(objects);
    assert.equal(d.cni, 'cilium', file);
    assert.equal(d.mode, null, file);
    assert.equal(d.details['routingMode'], routing, file);
    assert.equal(d.details['tunnelProtocol'], tunnel, file);
    assert.equal(d.details['kubeProxyReplacement'], kpr, file);
    assert.equal(d.details['notModelled'], 'Cilium is not modelled by Podpath yet.');
    assert.equal(detectKubeProxy(objects).mode, proxy, file);
  }
  const eni = detectNetwork(clusterObjects(cases[3][0]));
  assert.equal(eni.details['ipam'], 'eni');
});

test('kindnet (test-input: the DaemonSet shape kind installs) is named, not modelled', () => {
  const ds = daemonSet('kindnet', {
    name: 'kindnet-cni',
    image: 'docker.io/kindest/kindnetd:v20250512-df8de77b',
  });

  const nodes = clusterObjects('kind-calico-ipip_ks-cloud-control-plane_node.json').nodes.map(
    (n) => {
      const copy = structuredClone(n) as { metadata: { annotations: Record<string, string> } };
      copy.metadata.annotations = {};
      return copy;
    },
  );
  const d = detectNetwork({
    nodes,
    daemonSets: [ds],
    configMaps: [],
    ipPools: [],
    installations: [],
  });
  assert.equal(d.cni, 'kindnet');
  assert.equal(d.mode, null);
  assert.equal(d.details['notModelled'], 'kindnet is not modelled by Podpath yet.');
  hasEvidence(d.evidence, 'providerID kind://');
  // A DaemonSet called kindnet that does not run kindnetd is not kindnet.
  const impostor = structuredClone(ds);
  impostor.spec.template.spec.containers[0]!.image = 'busybox';
  assert.equal(
    detectNetwork({
      nodes: [],
      daemonSets: [impostor],
      configMaps: [],
      ipPools: [],
      installations: [],
    }).cni,
    'unknown',
  );
});

test('a DaemonSet named like a CNI but running another image is not that CNI', () => {
  const objects = clusterObjects(FLANNEL_028);
  const ds = objects.daemonSets[0] as {
    spec: {
      template: { spec: { containers: { image: string }[]; initContainers: { image: string }[] } };
    };
  };
  for (const c of [...ds.spec.template.spec.containers, ...ds.spec.template.spec.initContainers])
    c.image = 'example/other:1';
  const d = detectNetwork({ ...objects, configMaps: [] });
  assert.equal(d.cni, 'unknown');
});

test('Flannel and Calico manifests both applied weigh the same: unknown, both named', () => {
  const d = detectNetwork(
    clusterObjects(FLANNEL_028, 'upstream_calico-v3.32.1_ipip_calico-config+calico-node.yaml'),
  );
  assert.equal(d.cni, 'unknown');
  assert.deepEqual(d.details['candidates'], ['Calico', 'Flannel']);
  // Calico's node annotations tip the balance.
  const more = detectNetwork(
    clusterObjects(
      FLANNEL_028,
      'upstream_calico-v3.32.1_ipip_calico-config+calico-node.yaml',
      KS_NODES,
    ),
  );
  assert.equal(more.cni, 'calico');
  assert.deepEqual(more.details['alsoSeen'], ['Flannel']);
  hasEvidence(more.evidence, '(Flannel) ConfigMap kube-flannel/kube-flannel-cfg');
});

test('no CNI objects at all: unknown with a sentence', () => {
  const d = detectNetwork({
    nodes: [],
    daemonSets: [],
    configMaps: [],
    ipPools: [],
    installations: [],
  });
  assert.deepEqual([d.cni, d.mode], ['unknown', null]);
  assert.equal(d.evidence.length, 1);
});

// ---------------------------------------------------------------- kube-proxy

test('kubeadm kube-proxy ConfigMap with mode "" is iptables', () => {
  const p = detectKubeProxy(clusterObjects(KUBE_PROXY));
  assert.equal(p.mode, 'iptables');
  assert.deepEqual(p.evidence, [
    'ConfigMap kube-system/kube-proxy config.conf mode: "" (empty = iptables)',
  ]);
  // config.conf: clusterCIDR: 172.17.0.0/16
  assert.equal(p.clusterCIDR, '172.17.0.0/16');
});

function withMode(mode: string, name = 'kube-proxy', key = 'config.conf'): ClusterObjects {
  const cm = structuredClone(clusterObjects(KUBE_PROXY).configMaps[0]) as {
    metadata: { name: string };
    data: Record<string, string>;
  };
  const conf = parse(cm.data['config.conf'] ?? '') as Record<string, unknown>;
  conf['mode'] = mode;
  cm.metadata.name = name;
  cm.data = { [key]: stringify(conf) };
  return { nodes: [], daemonSets: [], configMaps: [cm], ipPools: [], installations: [] };
}

test('kube-proxy ipvs and nftables, and the EKS kube-proxy-config name with its `config` key', () => {
  assert.equal(detectKubeProxy(withMode('ipvs')).mode, 'ipvs');
  assert.equal(detectKubeProxy(withMode('nftables')).mode, 'nftables');
  const eks = detectKubeProxy(withMode('iptables', 'kube-proxy-config', 'config'));
  assert.equal(eks.mode, 'iptables');
  assert.deepEqual(eks.evidence, [
    'ConfigMap kube-system/kube-proxy-config config mode: "iptables"',
  ]);
  assert.equal(detectKubeProxy(withMode('userspace')).mode, 'unknown');
});

test('kube-proxy --proxy-mode flag on the DaemonSet when no ConfigMap says', () => {
  const ds = daemonSet('kube-proxy', {
    name: 'kube-proxy',
    image: 'registry.k8s.io/kube-proxy:v1.34.0',
    command: ['kube-proxy', '--proxy-mode=ipvs'],
  });

  const p = detectKubeProxy({
    nodes: [],
    daemonSets: [ds],
    configMaps: [],
    ipPools: [],
    installations: [],
  });
  assert.equal(p.mode, 'ipvs');
  hasEvidence(
    p.evidence,
    'DaemonSet kube-system/kube-proxy container kube-proxy --proxy-mode=ipvs',
  );
  const bare = structuredClone(ds);
  bare.spec.template.spec.containers[0]!.command = ['kube-proxy'];
  assert.equal(
    detectKubeProxy({
      nodes: [],
      daemonSets: [bare],
      configMaps: [],
      ipPools: [],
      installations: [],
    }).mode,
    'unknown',
  );
});

test('kube-proxy present beside Cilium replacement: the ConfigMap still decides', () => {
  const objects = clusterObjects(
    KUBE_PROXY,
    'kops-testdata_minimal-scaleway_routing-mode-tunnel_kpr-true.yaml',
  );
  assert.equal(detectKubeProxy(objects).mode, 'iptables');
});

// ---------------------------------------------------------------- summaries

test('node summaries: kind, k3s and k3d nodes', () => {
  const ks = clusterObjects(KS_NODES).nodes.map(summarizeNode);
  assert.deepEqual(ks, [
    {
      name: 'ks-cloud-control-plane',
      roles: ['control-plane', 'master'],
      ready: true,
      internalIP: '172.18.0.3',
      podCIDRs: ['10.244.0.0/24'],
      provider: 'kind',
      kubeletVersion: 'v1.23.12',
    },
    {
      name: 'ks-cloud-worker',
      roles: [],
      ready: true,
      internalIP: '172.18.0.2',
      podCIDRs: ['10.244.1.0/24'],
      provider: 'kind',
      kubeletVersion: 'v1.23.12',
    },
  ]);
  const [k3s] = clusterObjects('k3s-flannel-vxlan_troubleshoot-baseline_nodelist.json').nodes.map(
    summarizeNode,
  );
  assert.deepEqual(k3s, {
    name: 'primary-node',
    roles: ['control-plane', 'master'],
    ready: true,
    internalIP: '172.17.0.2',
    podCIDRs: ['10.42.0.0/24'],
    provider: 'k3s',
    kubeletVersion: 'v1.31.2+k3s1',
  });
  const [k3d] = clusterObjects('k3d-flannel-vxlan_troubleshoot-testdata_nodelist.json').nodes.map(
    summarizeNode,
  );
  assert.equal(k3d?.kubeletVersion, 'v1.24.4+k3s1');
  assert.equal(k3d?.internalIP, '172.19.0.2');
  // The upstream fake node has no status at all.
  const [fake] = clusterObjects('flannel-upstream-test_fake-node.yaml').nodes.map(summarizeNode);
  assert.deepEqual(fake, {
    name: 'test',
    roles: [],
    ready: null,
    internalIP: null,
    podCIDRs: ['10.244.7.0/24'],
    provider: null,
    kubeletVersion: null,
  });
});

test('providers from providerID prefixes', () => {
  assert.equal(providerFromId('kind://docker/ks-cloud/ks-cloud-worker'), 'kind');
  assert.equal(providerFromId('aws:///eu-west-1a/i-0abc'), 'aws');
  assert.equal(providerFromId('gce://project/zone/name'), 'gce');
  assert.equal(providerFromId('azure:///subscriptions/x/resourceGroups/y'), 'azure');
  assert.equal(providerFromId('hcloud://123'), 'hetzner');
  assert.equal(providerFromId('not a provider id'), null);
  assert.equal(providerFromId(null), null);
});

test('a NotReady or Unknown Ready condition is not ready', () => {
  const node = structuredClone(clusterObjects(KS_NODES).nodes[1]) as {
    status: { conditions: { type: string; status: string }[] };
  };
  const ready = node.status.conditions.find((c) => c.type === 'Ready');
  assert.ok(ready);
  ready.status = 'Unknown';
  assert.equal(summarizeNode(node).ready, false);
});

test('pod summaries: kind+Calico pods (host-network ones marked) and k3s pods', () => {
  const pods = clusterObjects('kind-calico-ipip_ks-cloud_pods_kubesphere-list.json').pods.map(
    summarizePod,
  );
  assert.equal(pods.length, 10);
  const api = pods.find((p) => p.name === 'kube-apiserver-ks-cloud-control-plane');
  assert.deepEqual(api, {
    namespace: 'kube-system',
    name: 'kube-apiserver-ks-cloud-control-plane',
    node: 'ks-cloud-control-plane',
    podIP: '172.18.0.3',
    hostNetwork: true,
    phase: 'Running',
  });
  const overlay = pods.filter((p) => !p.hostNetwork);
  assert.ok(overlay.length > 0);
  for (const p of overlay) assert.match(p.podIP ?? '', /^10\.244\.72\./);
  const k3s = clusterObjects(
    'k3s-flannel-vxlan_troubleshoot-baseline_podlist_kube-system.json',
  ).pods.map(summarizePod);
  assert.ok(k3s.length > 0);
  for (const p of k3s.filter((x) => !x.hostNetwork && x.phase === 'Running'))
    assert.match(p.podIP ?? '', /^10\.42\.0\./);
});

// ---------------------------------------------------------------- malformed input

test('malformed objects never throw', () => {
  const junk: unknown[] = [
    null,
    3,
    'node',
    [],
    {},
    { metadata: 'x' },
    { metadata: { annotations: { 'flannel.alpha.coreos.com/backend-data': '{bad' } } },
    { spec: { template: { spec: { containers: 'no' } } } },
    { kind: 'IPPool', apiVersion: 'projectcalico.org/v3', spec: { cidr: 5, ipipMode: {} } },
    {
      metadata: { name: 'kube-proxy', namespace: 'kube-system' },
      data: { 'config.conf': ': : :\n\t- [' },
    },
    { metadata: { name: 'kube-flannel-cfg' }, data: { 'net-conf.json': '{not json' } },
  ];
  const objects: ClusterObjects = {
    nodes: junk,
    daemonSets: junk,
    configMaps: junk,
    ipPools: junk,
    installations: junk,
  };
  const d = detectNetwork(objects);
  assert.equal(typeof d.cni, 'string');
  const p = detectKubeProxy(objects);
  assert.equal(p.mode, 'unknown');
  hasEvidence(p.evidence, 'is not a YAML mapping');
  hasEvidence(d.evidence, 'net-conf.json is not valid JSON');
  for (const j of junk) {
    assert.equal(typeof summarizeNode(j).name, 'string');
    assert.equal(typeof summarizePod(j).hostNetwork, 'boolean');
  }
  assert.doesNotThrow(() => detectNetwork(null as unknown as ClusterObjects));
});

test('the fixture bytes are the ones SOURCES.md lists', async () => {
  const { createHash } = await import('node:crypto');
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { KUBE_OBJECTS } = await import('../support/kubeObjectFixtures');
  const rows = readFileSync(join(KUBE_OBJECTS, 'SOURCES.md'), 'utf8')
    .split('\n')
    .map((l) => /^\| `([^`]+)` .*\| `([0-9a-f]{64})` \|$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  assert.ok(rows.length >= 26);
  for (const [, file, sha] of rows) {
    const actual = createHash('sha256')
      .update(readFileSync(join(KUBE_OBJECTS, file ?? '')))
      .digest('hex');
    assert.equal(actual, sha, file);
  }
});
