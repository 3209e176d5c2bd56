// The API stand-in checked with the real kubectl (Debian's kubernetes-client 1.32): if kubectl
// can discover, list, page, select and watch against it, the wire format is right.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool, startTool } from '../../src/platform/exec/runner';
import {
  KubeApiStandIn,
  makeCertificates,
  standInKubeconfig,
  type Certificates,
} from '../support/kubeApiStandIn';
import { kindCalicoObjects } from '../support/kubeFixtures';

let certs: Certificates;
let api: KubeApiStandIn;
let kubeconfig: string;

const kubectl = (...args: string[]) =>
  runTool(['kubectl', '--kubeconfig', kubeconfig, ...args], { timeoutMs: 20_000 });

before(async () => {
  certs = await makeCertificates();
  api = new KubeApiStandIn({ certs, tokens: { 'tok-admin': 'admin' } });
  for (const o of kindCalicoObjects()) api.upsert(o);
  await api.start();
  kubeconfig = join(certs.dir, 'kubeconfig');
  writeFileSync(kubeconfig, standInKubeconfig(api, certs, { token: 'tok-admin' }));
});

after(async () => {
  await api.stop();
});

test('kubectl get nodes -o wide prints the recorded kind nodes with their InternalIPs', async () => {
  const { stdout } = await kubectl('get', 'nodes', '-o', 'wide');
  const lines = stdout.trim().split('\n');
  assert.match(
    lines[0] ?? '',
    /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE/,
  );
  assert.equal(lines.length, 3);
  assert.match(
    stdout,
    /ks-cloud-control-plane\s+Ready\s+control-plane,master\s+\S+\s+v1\.23\.12\s+172\.18\.0\.3/,
  );
  assert.match(stdout, /ks-cloud-worker\s+Ready\s+<none>\s+\S+\s+v1\.23\.12\s+172\.18\.0\.\d/);
});

test('kubectl get pods -A --chunk-size=2 pages through all ten recorded pods', async () => {
  api.requests.length = 0;
  const { stdout } = await kubectl('get', 'pods', '-A', '--chunk-size=2');
  const rows = stdout.trim().split('\n').slice(1);
  assert.equal(rows.length, 10);
  assert.match(stdout, /^NAMESPACE\s+NAME\s+READY\s+STATUS/);
  assert.match(stdout, /kube-system\s+etcd-ks-cloud-control-plane\s/);
  const pageRequests = api.requests.filter((r) => r.startsWith('GET /api/v1/pods?'));
  assert.equal(pageRequests.length, 5, pageRequests.join('\n'));
  assert.ok(pageRequests.slice(1).every((r) => r.includes('continue=')));
});

test('kubectl field selector: spec.nodeName and metadata.name', async () => {
  const onWorker = await kubectl(
    'get',
    'pods',
    '-A',
    '--field-selector',
    'spec.nodeName=ks-cloud-worker',
    '-o',
    'name',
  );
  assert.equal(onWorker.stdout.trim(), '', 'the recorded pods all run on the control plane');
  const onCp = await kubectl(
    'get',
    'pods',
    '-A',
    '--field-selector',
    'spec.nodeName=ks-cloud-control-plane',
    '-o',
    'name',
  );
  assert.equal(onCp.stdout.trim().split('\n').length, 10);
  const byName = await kubectl(
    'get',
    'nodes',
    '--field-selector',
    'metadata.name=ks-cloud-worker',
    '-o',
    'jsonpath={.items[*].spec.podCIDR}',
  );
  assert.equal(byName.stdout.trim(), '10.244.1.0/24');
});

test('kubectl label selector and a 404 for a missing object', async () => {
  const cp = await kubectl(
    'get',
    'nodes',
    '-l',
    'node-role.kubernetes.io/control-plane',
    '-o',
    'name',
  );
  assert.equal(cp.stdout.trim(), 'node/ks-cloud-control-plane');
  await assert.rejects(kubectl('get', 'node', 'nope'), /nodes "nope" not found/);
});

test('kubectl get nodes --watch sees a node the test turns NotReady', async () => {
  const lines: string[] = [];
  const proc = startTool(['kubectl', '--kubeconfig', kubeconfig, 'get', 'nodes', '--watch'], {
    onStdoutLine: (l) => lines.push(l),
  });
  try {
    await waitFor(() => lines.some((l) => /^ks-cloud-worker\s+Ready/.test(l)), 15_000);
    const node = api.get('v1', 'Node', 'ks-cloud-worker');
    assert.ok(node);
    const conds = (node['status'] as { conditions: { type: string; status: string }[] }).conditions;
    for (const c of conds) if (c.type === 'Ready') c.status = 'False';
    api.upsert(node);
    await waitFor(() => lines.some((l) => /^ks-cloud-worker\s+NotReady/.test(l)), 10_000);
  } finally {
    proc.stop('SIGTERM');
    await proc.done.catch(() => undefined);
  }
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
