// The informer (list, then watch) against the API stand-in: changes appear within 2 s, and
// the watch survives the stand-in restarting, a 410 Gone and a silent (half-open) stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClient, loadKubeConfigSet } from '../../src/platform/kube/kubeClient';
import { KUBE_PATHS, slimNode, slimPod } from '../../src/platform/kube/clusterReader';
import { LiveList, type ConnectionState } from '../../src/platform/kube/liveList';
import { summarizeNode } from '../../src/core/cluster/detect';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  KubeApiStandIn,
  makeCertificates,
  standInKubeconfig,
  type Certificates,
} from '../support/kubeApiStandIn';
import { kindCalicoObjects } from '../support/kubeFixtures';

let certs: Certificates;
let api: KubeApiStandIn;
let client: ClusterClient;

before(async () => {
  certs = await makeCertificates();
  api = new KubeApiStandIn({ certs, tokens: { t: 'admin' }, bookmarkIntervalMs: 200 });
  for (const o of kindCalicoObjects()) api.upsert(o);
  await api.start();
  const file = join(certs.dir, 'kubeconfig');
  writeFileSync(file, standInKubeconfig(api, certs, { token: 't' }));
  client = new ClusterClient(loadKubeConfigSet([file]));
});

after(async () => {
  await api.stop();
});

async function within(ms: number, cond: () => boolean, what: string): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

function nodes(
  states: ConnectionState[] = [],
  watchdogMs?: number,
): LiveList<ReturnType<typeof slimNode>> {
  return new LiveList({
    client,
    path: KUBE_PATHS.nodes,
    purpose: { verb: 'list', resource: 'nodes' },
    keep: slimNode,
    onState: (s) => states.push(s),
    backoffMs: 100,
    maxBackoffMs: 400,
    watchdogMs,
    log: process.env['PP_DEBUG'] ? (l) => console.error(Date.now() % 100000, l) : undefined,
  });
}

function setReady(name: string, status: 'True' | 'False'): void {
  const node = api.get('v1', 'Node', name);
  assert.ok(node);
  for (const c of (node['status'] as { conditions: { type: string; status: string }[] })
    .conditions) {
    if (c.type === 'Ready') c.status = status;
  }
  api.upsert(node);
}

const readyOf = (l: LiveList<ReturnType<typeof slimNode>>, name: string) =>
  summarizeNode(l.items.get(name)).ready;

test('a node going NotReady appears within 2 s', async () => {
  const states: ConnectionState[] = [];
  const list = nodes(states);
  list.start();
  await list.firstSync;
  try {
    assert.deepEqual([...list.items.keys()].sort(), ['ks-cloud-control-plane', 'ks-cloud-worker']);
    await within(2000, () => list.state.kind === 'connected', 'connected');
    setReady('ks-cloud-worker', 'False');
    const ms = await within(
      2000,
      () => readyOf(list, 'ks-cloud-worker') === false,
      'NotReady seen',
    );
    assert.ok(ms < 2000);
    setReady('ks-cloud-worker', 'True');
    await within(2000, () => readyOf(list, 'ks-cloud-worker') === true, 'Ready again');
  } finally {
    list.stop();
  }
});

test("a pod added to and deleted from a node's field-selected list appears within 2 s", async () => {
  const pods = new LiveList({
    client,
    path: KUBE_PATHS.pods,
    purpose: { verb: 'list', resource: 'pods' },
    fieldSelector: 'spec.nodeName=ks-cloud-worker',
    keep: slimPod,
    backoffMs: 100,
  });
  pods.start();
  await pods.firstSync;
  try {
    assert.equal(pods.items.size, 0);
    await within(2000, () => pods.state.kind === 'connected', 'connected');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'iperf-client', namespace: 'default' },
      spec: {
        nodeName: 'ks-cloud-worker',
        containers: [{ name: 'c', image: 'networkstatic/iperf3' }],
      },
      status: { phase: 'Running', podIP: '10.244.92.70' },
    };
    api.upsert(pod);
    api.upsert({
      ...pod,
      metadata: { name: 'elsewhere', namespace: 'default' },
      spec: { ...pod.spec, nodeName: 'ks-cloud-control-plane' },
    });
    await within(2000, () => pods.items.has('default/iperf-client'), 'pod added');
    assert.equal(
      pods.items.has('default/elsewhere'),
      false,
      'the field selector keeps other nodes out',
    );
    api.remove('v1', 'Pod', 'iperf-client', 'default');
    await within(2000, () => !pods.items.has('default/iperf-client'), 'pod deleted');
  } finally {
    pods.stop();
    api.remove('v1', 'Pod', 'elsewhere', 'default');
  }
});

test('the watch survives the stand-in restarting: reconnecting, then connected, changes seen', async () => {
  const states: ConnectionState[] = [];
  const list = nodes(states);
  list.start();
  await list.firstSync;
  try {
    await within(2000, () => list.state.kind === 'connected', 'connected');
    await api.restart(600);
    await within(3000, () => states.some((s) => s.kind === 'reconnecting'), 'reconnecting');
    const r = states.find((s) => s.kind === 'reconnecting');
    assert.match(r && 'why' in r ? r.why : '', /Cannot reach the API server|closed|reset|refused/);
    await within(5000, () => list.state.kind === 'connected', 'connected again');
    setReady('ks-cloud-control-plane', 'False');
    await within(
      2000,
      () => readyOf(list, 'ks-cloud-control-plane') === false,
      'change after restart',
    );
    setReady('ks-cloud-control-plane', 'True');
  } finally {
    list.stop();
  }
});

test('a 410 Gone on the watch relists, and changes keep coming', async () => {
  const list = nodes();
  list.start();
  await list.firstSync;
  try {
    await within(
      2000,
      () => list.state.kind === 'connected' && api.openWatchCount() > 0,
      'watching',
    );
    const before = list.relists;
    api.expireWatches();
    await within(2000, () => list.relists > before, 'relisted after 410');
    setReady('ks-cloud-worker', 'False');
    await within(2000, () => readyOf(list, 'ks-cloud-worker') === false, 'change after 410');
    setReady('ks-cloud-worker', 'True');
  } finally {
    list.stop();
  }
});

test('a watch from an expired resourceVersion (after a restart with compaction) relists', async () => {
  const list = nodes();
  list.start();
  await list.firstSync;
  try {
    await within(2000, () => list.state.kind === 'connected', 'connected');
    const before = list.relists;
    await api.stop();
    setReady('ks-cloud-worker', 'False');
    api.compact();
    await api.start();
    await within(4000, () => list.relists > before, 'relisted');
    assert.equal(
      readyOf(list, 'ks-cloud-worker'),
      false,
      'the relist caught the change made while down',
    );
    setReady('ks-cloud-worker', 'True');
  } finally {
    list.stop();
  }
});

test('the watchdog restarts a silent (half-open) watch and catches up', async () => {
  const list = nodes([], 700);
  list.start();
  await list.firstSync;
  try {
    await within(
      2000,
      () => list.state.kind === 'connected' && api.openWatchCount() > 0,
      'watching',
    );
    api.freezeWatches();
    setReady('ks-cloud-worker', 'False');
    await within(
      2500,
      () => readyOf(list, 'ks-cloud-worker') === false,
      'caught up after the watchdog',
    );
    setReady('ks-cloud-worker', 'True');
  } finally {
    list.stop();
  }
});
