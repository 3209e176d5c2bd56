/**
 * planInputFromCluster: the detected datapath drawn with the cluster's own nodes,
 * addresses, VNI and port, built by the real planner. Nodes and manifests come from
 * test/fixtures/kube-objects; where a case combines files of two clusters the test
 * says so (only the mapping is under test there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  detectNetwork,
  planInputFromCluster,
  summarizeNode,
  summarizePod,
} from '../../src/core/cluster/detect';
import { buildDatapathPlan } from '../../src/core/datapath/plans';
import { clusterCniMode } from '../../src/core/cluster/clusterPlan';
import type { NetworkDetection } from '../../src/core/cluster/types';
import { clusterObjects } from '../support/kubeObjectFixtures';

const KS_NODES = 'kind-calico-ipip_ks-cloud_nodes_kubesphere-list.json';
const KS_DS = 'kind-calico-ipip_ks-cloud_calico-node-daemonset.json';
const KS_CM = 'kind-calico-ipip_ks-cloud_calico-config-configmap.json';
const K3S = 'k3s-flannel-vxlan_troubleshoot-baseline_nodelist.json';

function ok(result: ReturnType<typeof planInputFromCluster>) {
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result;
}

test("kind + Calico IPIP: worker first, example pods inside each node's tunnel block, real node IPs", () => {
  const objects = clusterObjects(KS_NODES, KS_DS, KS_CM);
  const nodes = objects.nodes.map(summarizeNode);
  const r = ok(planInputFromCluster(detectNetwork(objects), nodes));
  assert.equal(r.input.mode, 'calico-ipip');
  assert.deepEqual(
    [r.input.source.node, r.input.source.ip, r.input.destination.node, r.input.destination.ip],
    ['ks-cloud-worker', '10.244.92.65', 'ks-cloud-control-plane', '10.244.72.193'],
  );
  // projectcalico.org/IPv4Address 172.18.0.2/16 gives the node's subnet.
  assert.deepEqual(r.input.nodes, [
    { name: 'ks-cloud-worker', ip: '172.18.0.2', interface: 'eth0', subnet: '172.18.0.0/16' },
    {
      name: 'ks-cloud-control-plane',
      ip: '172.18.0.3',
      interface: 'eth0',
      subnet: '172.18.0.0/16',
    },
  ]);
  const plan = buildDatapathPlan(r.input);
  assert.equal(plan.sameNode, false);
  const wire = plan.hops.find((h) => h.encapsulation !== null);
  assert.deepEqual(
    [wire?.encapsulation?.outerSrc, wire?.encapsulation?.outerDst],
    ['172.18.0.2', '172.18.0.3'],
  );
  assert.ok(plan.hops.some((h) => h.location.node === 'ks-cloud-worker'));
});

test("kind + Calico IPIP with two real pods: the pods' own names, IPs and node", () => {
  const objects = clusterObjects(
    KS_NODES,
    KS_DS,
    KS_CM,
    'kind-calico-ipip_ks-cloud_pods_kubesphere-list.json',
  );
  const pods = objects.pods.map(summarizePod).filter((p) => !p.hostNetwork && p.podIP);
  const [a, b] = pods;
  assert.ok(a && b);
  const r = ok(
    planInputFromCluster(detectNetwork(objects), objects.nodes.map(summarizeNode), a, b),
  );
  assert.equal(r.input.source.ip, a.podIP);
  assert.equal(r.input.destination.ip, b.podIP);
  assert.equal(r.input.source.name, a.name);
  const plan = buildDatapathPlan(r.input);
  // Every pod of that capture runs on the control plane.
  assert.equal(plan.sameNode, true);
  assert.deepEqual(
    r.input.nodes.map((n) => n.name),
    ['ks-cloud-control-plane'],
  );
});

test('a host-network or unscheduled pod cannot be a plan endpoint', () => {
  const objects = clusterObjects(
    KS_NODES,
    KS_DS,
    KS_CM,
    'kind-calico-ipip_ks-cloud_pods_kubesphere-list.json',
  );
  const pods = objects.pods.map(summarizePod);
  const host = pods.find((p) => p.hostNetwork);
  const overlay = pods.find((p) => !p.hostNetwork);
  assert.ok(host && overlay);
  const r = planInputFromCluster(
    detectNetwork(objects),
    objects.nodes.map(summarizeNode),
    host,
    overlay,
  );
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.reason, /uses the host network/);
  const r2 = planInputFromCluster(detectNetwork(objects), [], { ...overlay, node: null }, overlay);
  assert.match(r2.ok ? '' : r2.reason, /not scheduled/);
});

test('k3s Flannel VXLAN, one node: same-node example in its podCIDR with VNI and port', () => {
  const objects = clusterObjects(K3S);
  const d = detectNetwork(objects);
  const r = ok(planInputFromCluster(d, objects.nodes.map(summarizeNode)));
  assert.equal(r.input.mode, 'flannel-vxlan');
  assert.deepEqual([r.input.source.ip, r.input.destination.ip], ['10.42.0.2', '10.42.0.3']);
  assert.deepEqual([r.input.vni, r.input.vxlanPort, r.tunnelDevice], [1, 8472, 'flannel.1']);
  assert.equal(buildDatapathPlan(r.input).sameNode, true);
});

test('Flannel VNI and Port from net-conf.json reach the plan (net-conf edited with JSON)', () => {
  const objects = clusterObjects('upstream_kube-flannel_v0.28.9.yml', KS_NODES);
  const cm = objects.configMaps[0] as { data: Record<string, string> };
  const conf = JSON.parse(cm.data['net-conf.json'] ?? '{}') as { Backend: Record<string, unknown> };
  conf.Backend['VNI'] = 7;
  conf.Backend['Port'] = 4789;
  conf.Backend['MTU'] = 1400;
  cm.data['net-conf.json'] = JSON.stringify(conf);
  // The ks-cloud nodes stand in for any two-node cluster here; only the mapping is tested.
  const r = ok(planInputFromCluster(detectNetwork(objects), objects.nodes.map(summarizeNode)));
  assert.deepEqual(
    [r.input.vni, r.input.vxlanPort, r.mtu, r.tunnelDevice],
    [7, 4789, 1400, 'flannel.7'],
  );
  const plan = buildDatapathPlan(r.input);
  const encap = plan.hops.find((h) => h.encapsulation?.type === 'vxlan')?.encapsulation;
  assert.deepEqual([encap?.vni, encap?.dstPort], [7, 4789]);
  // flanneld names the device flannel.<VNI>, and the Backend MTU reaches the tunnel and the pods.
  const tunnel = plan.hops.filter((h) => h.interface === 'flannel.7');
  assert.equal(tunnel.length, 2);
  for (const h of tunnel) assert.equal(h.mtu, 1400);
  assert.equal(plan.hops[0]?.mtu, 1400);
  assert.equal(r.input.tunnelMtu, 1400);
  assert.throws(
    () => buildDatapathPlan({ ...r.input, tunnelMtu: 100 }),
    /tunnelMtu 100 is not an integer in 576\.\.9216/,
  );
  // podCIDRs 10.244.1.0/24 (worker) and 10.244.0.0/24 (control plane).
  assert.deepEqual([r.input.source.ip, r.input.destination.ip], ['10.244.1.2', '10.244.0.2']);
});

test("Flannel host-gw and Calico IPIP CrossSubnet map to the planner's names", () => {
  const hostGw = clusterObjects('upstream_minikube_host-gw.yml', KS_NODES);
  assert.equal(
    ok(planInputFromCluster(detectNetwork(hostGw), hostGw.nodes.map(summarizeNode))).input.mode,
    'flannel-host-gw',
  );
  // kops' CrossSubnet manifest with the ks-cloud nodes (two clusters' files: the mapping only).
  const cross = clusterObjects(
    'kops-testdata_privatecalico_ipip-CrossSubnet_calico-config+calico-node.yaml',
    KS_NODES,
  );
  const r = ok(planInputFromCluster(detectNetwork(cross), cross.nodes.map(summarizeNode)));
  assert.equal(r.input.mode, 'calico-crosssubnet');
  assert.match(buildDatapathPlan(r.input).title, /same subnet/);
});

test('Calico VXLAN CrossSubnet is planned per pair: routed on one subnet, VXLAN across', () => {
  const objects = clusterObjects(
    'upstream_tigera-operator_custom-resources_v3.32.1_Installation.yaml',
    KS_NODES,
  );
  const d = detectNetwork(objects);
  assert.equal(d.mode, 'calico-vxlan-crosssubnet');
  const nodes = objects.nodes.map(summarizeNode);
  const same = ok(planInputFromCluster(d, nodes));
  assert.equal(same.input.mode, 'calico-bgp');
  assert.match(same.notes.join(' '), /share 172\.18\.0\.0\/16/);
  const moved: NetworkDetection = structuredClone(d);
  const calicoNodes = moved.details['nodes'] as { name: string; ipv4Address: string }[];
  calicoNodes[1]!.ipv4Address = '172.18.0.2/24';
  calicoNodes[0]!.ipv4Address = '172.18.0.3/24';
  const nodesMoved = nodes.map((n) =>
    n.name === 'ks-cloud-worker' ? { ...n, internalIP: '172.18.0.2' } : n,
  );
  const across = planInputFromCluster(moved, nodesMoved);
  // Same /24 still: routed.
  assert.equal(ok(across).input.mode, 'calico-bgp');
  calicoNodes[1]!.ipv4Address = '172.19.0.2/24';
  const far = ok(
    planInputFromCluster(
      moved,
      nodesMoved.map((n) =>
        n.name === 'ks-cloud-worker' ? { ...n, internalIP: '172.19.0.2' } : n,
      ),
    ),
  );
  assert.equal(far.input.mode, 'calico-vxlan');
  assert.equal(
    buildDatapathPlan(far.input).hops.some((h) => h.encapsulation?.type === 'vxlan'),
    true,
  );
});

test('CNIs without a datapath and nodes without addresses give a reason, not a plan', () => {
  const cilium = detectNetwork(
    clusterObjects('kops-testdata_minimal-scaleway_routing-mode-tunnel_kpr-true.yaml'),
  );
  const r = planInputFromCluster(cilium, []);
  assert.deepEqual(r, { ok: false, reason: 'Cilium is not modelled by Podpath yet.' });
  const fake = clusterObjects(
    'upstream_kube-flannel_v0.28.9.yml',
    'flannel-upstream-test_fake-node.yaml',
  );
  const r2 = planInputFromCluster(detectNetwork(fake), fake.nodes.map(summarizeNode));
  assert.deepEqual(r2, { ok: false, reason: 'No node with an InternalIP address was read.' });
});

test('clusterCniMode: one planner mode for the whole cluster, none where it depends on the pair', () => {
  assert.equal(clusterCniMode('flannel-vxlan'), 'flannel-vxlan');
  assert.equal(clusterCniMode('calico-bgp'), 'calico-bgp');
  assert.equal(clusterCniMode('calico-ipip-crosssubnet'), 'calico-crosssubnet');
  assert.equal(clusterCniMode('calico-vxlan-crosssubnet'), null);
  assert.equal(clusterCniMode(null), null);
  // The detected mode of a recorded cluster reaches the workload planner's mode.
  const detection = detectNetwork(clusterObjects(KS_NODES, KS_DS, KS_CM));
  assert.equal(clusterCniMode(detection.mode), 'calico-ipip');
});
