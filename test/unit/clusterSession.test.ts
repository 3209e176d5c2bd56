// The Clusters view's live session against the API stand-in with the recorded k3s Flannel
// VXLAN objects: nodes, a node's pods, the network picture (live when a DaemonSet changes),
// read-only YAML without managedFields, and the datapath plan fed with the live values.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDatapathPlan } from '../../src/core/datapath/plans';
import { loadKubeConfigSet } from '../../src/platform/kube/kubeClient';
import { ClusterSession, type SessionChange } from '../../src/platform/kube/clusterSession';
import { livePlanInput } from '../../src/platform/kube/networkPlan';
import { summarizeNode, summarizePod } from '../../src/core/cluster/detect';
import {
  KubeApiStandIn,
  makeCertificates,
  standInKubeconfig,
  type Certificates,
} from '../support/kubeApiStandIn';
import { k3sFlannelObjects, kindCalicoObjects } from '../support/kubeFixtures';

let certs: Certificates;
let api: KubeApiStandIn;
let file: string;
const NODE = 'primary-node';

before(async () => {
  certs = await makeCertificates();
  api = new KubeApiStandIn({
    certs,
    tokens: { t: 'admin', v: 'viewer' },
    deny: ['viewer list pods'],
  });
  for (const o of k3sFlannelObjects()) api.upsert(o);
  await api.start();
  file = join(certs.dir, 'kubeconfig');
  writeFileSync(file, standInKubeconfig(api, certs, { token: 't', context: 'k3s' }) + '');
});

after(async () => {
  await api.stop();
});

async function within(
  ms: number,
  cond: () => boolean | Promise<boolean>,
  what: string,
): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function open(changes: SessionChange[] = [], kubeconfig = file, context = 'k3s'): ClusterSession {
  const s = new ClusterSession(loadKubeConfigSet([kubeconfig]), context, {
    onChange: (c) => changes.push(c),
    backoffMs: 100,
  });
  s.start();
  return s;
}

test('nodes, a node’s pods and the network picture of the recorded k3s cluster', async () => {
  const s = open();
  try {
    await s.nodes.firstSync;
    assert.equal(s.state.kind === 'connected' || s.state.kind === 'connecting', true);
    const nodes = s.nodeSummaries();
    assert.deepEqual(
      nodes.map((n) => n.name),
      [NODE],
    );
    assert.equal(nodes[0]?.internalIP, '172.17.0.2');
    const pods = s.pods(NODE);
    await pods.firstSync;
    const rows = s.podSummaries(NODE);
    assert.ok(rows.length >= 5);
    assert.ok(rows.every((p) => p.node === NODE));
    const pic = await s.network();
    assert.equal(pic.network.cni, 'flannel');
    assert.equal(pic.network.mode, 'flannel-vxlan');
    assert.equal(pic.kubeProxy.mode, 'iptables');
    assert.deepEqual(pic.problems, []);
  } finally {
    s.dispose();
  }
});

test('slim objects: the node keeps what the tree and detection read, not images or managedFields', async () => {
  const s = open();
  try {
    await s.nodes.firstSync;
    const slim = s.nodes.items.get(NODE) as Record<string, Record<string, unknown>>;
    const raw = api.get('v1', 'Node', NODE);
    assert.deepEqual(summarizeNode(slim), summarizeNode(raw));
    assert.equal(JSON.stringify(slim).includes('managedFields'), false);
    assert.equal(JSON.stringify(slim).includes('"images"'), false);
    assert.ok(JSON.stringify(slim).length < JSON.stringify(raw).length / 2);
    const annotations = (slim['metadata']?.['annotations'] ?? {}) as Record<string, string>;
    assert.equal(annotations['flannel.alpha.coreos.com/backend-type'], 'vxlan');
    const pods = s.pods(NODE);
    await pods.firstSync;
    for (const [key, p] of pods.items) {
      const [ns, name] = key.split('/');
      assert.deepEqual(summarizePod(p), summarizePod(api.get('v1', 'Pod', name ?? '', ns)));
    }
  } finally {
    s.dispose();
  }
});

test('read-only YAML of a node has no managedFields', async () => {
  const s = open();
  try {
    const yaml = await s.objectYaml('node', NODE);
    assert.match(yaml, /^kind: Node$/m);
    assert.match(yaml, /^apiVersion: v1$/m);
    assert.match(yaml, /flannel\.alpha\.coreos\.com\/backend-type: vxlan/);
    assert.equal(yaml.includes('managedFields'), false);
    await assert.rejects(s.objectYaml('pod', 'nope', 'default'), /no longer exists/);
  } finally {
    s.dispose();
  }
});

test('the datapath plan uses the live node and two real pods of the single k3s node', async () => {
  const s = open();
  try {
    await s.nodes.firstSync;
    await s.pods(NODE).firstSync;
    const pic = await s.network();
    const live = livePlanInput(pic.network, s.nodeSummaries(), (n) => s.podSummaries(n));
    assert.ok('input' in live, 'reason' in live ? live.reason : '');
    const { input } = live;
    assert.equal(input.mode, 'flannel-vxlan');
    assert.deepEqual(
      input.nodes.map((n) => [n.name, n.ip]),
      [[NODE, '172.17.0.2']],
    );
    const podIps = s
      .podSummaries(NODE)
      .filter((p) => !p.hostNetwork)
      .map((p) => p.podIP);
    assert.ok(podIps.includes(input.source.ip) && podIps.includes(input.destination.ip));
    assert.notEqual(input.source.ip, input.destination.ip);
    assert.equal(input.vni, 1);
    const plan = buildDatapathPlan(input);
    assert.equal(plan.sameNode, true);
    assert.ok(plan.hops.every((h) => h.location.node === NODE || h.location.node === undefined));
  } finally {
    s.dispose();
  }
});

test('a DaemonSet change re-reads the network within 2 s (the DaemonSet leaves the evidence)', async () => {
  const changes: SessionChange[] = [];
  const s = open(changes);
  try {
    await s.nodes.firstSync;
    const before = (await s.network()).network;
    assert.equal(before.cni, 'flannel');
    assert.ok(before.evidence.some((e) => e.includes('kube-flannel-ds')));
    const ds = api.get('apps/v1', 'DaemonSet', 'kube-flannel-ds', 'kube-flannel');
    assert.ok(ds);
    api.remove('apps/v1', 'DaemonSet', 'kube-flannel-ds', 'kube-flannel');
    await within(2000, () => changes.some((c) => c.kind === 'network'), 'network change');
    // The k3s node's annotations still say Flannel VXLAN; only the DaemonSet's word is gone.
    const after = (await s.network()).network;
    assert.equal(after.mode, 'flannel-vxlan');
    assert.ok(
      !after.evidence.some((e) => e.includes('kube-flannel-ds')),
      after.evidence.join('; '),
    );
    api.upsert(ds);
  } finally {
    s.dispose();
  }
});

test('403 on pods: the node list works, the pods list says which verb on which resource', async () => {
  const kc = join(certs.dir, 'kubeconfig-viewer');
  writeFileSync(kc, standInKubeconfig(api, certs, { token: 'v', context: 'viewer' }));
  const s = open([], kc, 'viewer');
  try {
    await s.nodes.firstSync;
    assert.equal(s.nodeSummaries().length, 1);
    const pods = s.pods(NODE);
    await pods.firstSync;
    assert.equal(pods.state.kind, 'failed');
    assert.match(
      pods.state.kind === 'failed' ? pods.state.why : '',
      /may not list pods cluster-wide .*403/,
    );
  } finally {
    s.dispose();
  }
});

test('livePlanInput between the two recorded kind nodes: worker first, Calico subnet from the annotation', async () => {
  const objs = kindCalicoObjects();
  const nodes = objs.filter((o) => o['kind'] === 'Node').map(summarizeNode);
  const pods = objs.filter((o) => o['kind'] === 'Pod').map(summarizePod);
  const live = livePlanInput(
    { cni: 'calico', mode: 'calico-ipip', details: {}, evidence: [] },
    nodes,
    (n) => pods.filter((p) => p.node === n),
    () => '172.18.0.0/16',
  );
  assert.ok('input' in live);
  assert.deepEqual(
    live.input.nodes.map((n) => n.name),
    ['ks-cloud-worker', 'ks-cloud-control-plane'],
  );
  assert.equal(live.input.destination.node, 'ks-cloud-control-plane');
  assert.ok(pods.some((p) => p.podIP === live.input.destination.ip && !p.hostNetwork));
  assert.match(
    live.notes.join(' '),
    /No pod with its own IP runs on ks-cloud-worker; 10\.244\.1\.2 is an example address/,
  );
  const plan = buildDatapathPlan(live.input);
  assert.equal(plan.mode, 'calico-ipip');
  assert.equal(plan.sameNode, false);
  const unknown = livePlanInput(
    { cni: 'cilium', mode: null, details: {}, evidence: [] },
    nodes,
    () => [],
  );
  assert.ok('reason' in unknown && /cilium, which Podpath does not model yet/.test(unknown.reason));
});
