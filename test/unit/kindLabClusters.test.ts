/**
 * The editor side of lab clusters without vscode: the quick-pick choices and the
 * options they become, reading `kind get clusters` and the nodes' lab labels (a real
 * `kubectl get nodes -o json` NodeList from test/fixtures/kube-objects, with and
 * without Podpath's labels), the Labs view's rows, the probe pod's IP and ping's
 * summary; then listLabClusters against the kind and kubectl stand-ins after a real
 * (stand-in) lab creation, and after its deletion.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import {
  cniChoices,
  datapathModeFor,
  kindLabCreateOptions,
  kubeProxyChoices,
  labClusterRows,
  labMarkerFromNodes,
  parseKindClusters,
  podIp,
  type LabMarker,
} from '../../src/core/kindlab/labClusters';
import {
  kindLabMode,
  KIND_LAB_MODES,
  LAB_LABEL,
  LAB_MODE_LABEL,
} from '../../src/core/kindlab/modes';
import { isCniMode } from '../../src/core/datapath/plans';
import { errorMessage } from '../../src/ui/commands/errorText';
import { listLabClusters } from '../../src/platform/kindlab/labClusters';
import { deleteKindLab, prepareKindLab, runKindLab } from '../../src/platform/kindlab/kindLab';

const FIXTURES = join(__dirname, '..', 'fixtures', 'kube-objects');
const NODELIST = 'k3d-flannel-vxlan_troubleshoot-testdata_nodelist.json';

function mode(name: string) {
  const m = kindLabMode(name);
  assert.ok(m, name);
  return m;
}

test('the CNI quick pick offers every lab mode the walkthroughs use, kind’s default last', () => {
  const choices = cniChoices();
  assert.deepEqual(
    choices.map((c) => c.label),
    [
      'Flannel VXLAN',
      'Flannel host-gw',
      'Calico BGP (IPIP and VXLAN Never)',
      'Calico IPIP',
      'Calico VXLAN',
      'Calico VXLAN CrossSubnet',
      "kind's default (kindnet)",
    ],
  );
  assert.deepEqual(
    choices.map((c) => c.value.mode),
    KIND_LAB_MODES.map((m) => m.mode),
  );
  for (const c of choices) assert.ok(c.detail.length > 10, `${c.label} has a detail`);
  assert.deepEqual(
    kubeProxyChoices().map((c) => c.value),
    ['iptables', 'nftables', 'ipvs'],
  );
});

test('picked modes become the name, the workspace folder and the plan’s modes', () => {
  const o = kindLabCreateOptions(mode('calico-ipip'), 'ipvs', '/ws/proj/');
  assert.equal(o.name, 'podpath-calico-ipip');
  assert.equal(o.outDir, '/ws/proj/.podpath/kind/podpath-calico-ipip');
  assert.equal(o.mode.mode, 'calico-ipip');
  assert.equal(o.kubeProxyMode, 'ipvs');
  // From a kind Cluster config (the CodeLens): its name is kept.
  const fromConfig = kindLabCreateOptions(mode('flannel-vxlan'), 'iptables', '/ws', {
    name: 'walkthrough',
  });
  assert.equal(fromConfig.name, 'walkthrough');
  assert.equal(fromConfig.outDir, '/ws/.podpath/kind/walkthrough');
  // A config without a name gets the default.
  assert.equal(
    kindLabCreateOptions(mode('kindnet'), 'nftables', '/ws', { name: null }).name,
    'podpath-kindnet',
  );
  assert.throws(
    () => kindLabCreateOptions(mode('flannel-vxlan'), 'iptables', '/ws', { name: 'My_Cluster' }),
    /"My_Cluster", which kind cannot use .*Rename it in the config/,
  );
});

test('kind get clusters: one name per line, nothing when kind found none', () => {
  assert.deepEqual(parseKindClusters('kind\npodpath-flannel-vxlan\n'), [
    'kind',
    'podpath-flannel-vxlan',
  ]);
  // "No kind clusters found." goes to stderr; stdout is empty.
  assert.deepEqual(parseKindClusters(''), []);
});

test('a node list without Podpath’s labels is not a lab; with them it names the mode', async () => {
  const real = await readFile(join(FIXTURES, NODELIST), 'utf8');
  assert.deepEqual(labMarkerFromNodes(real, 'mycluster'), { podpath: false });

  const list = JSON.parse(real) as { items: { metadata: { labels: Record<string, string> } }[] };
  for (const item of list.items) {
    item.metadata.labels[LAB_LABEL] = 'lab1';
    item.metadata.labels[LAB_MODE_LABEL] = 'calico-vxlan-crosssubnet';
  }
  const labelled = JSON.stringify(list);
  const marker = labMarkerFromNodes(labelled, 'lab1');
  assert.ok(marker.podpath);
  assert.equal(marker.mode?.mode, 'calico-vxlan-crosssubnet');
  assert.equal(marker.nodes, list.items.length);
  // Labelled for another lab name: not this cluster's.
  assert.deepEqual(labMarkerFromNodes(labelled, 'other'), { podpath: false });
  assert.throws(() => labMarkerFromNodes('error: x', 'lab1'), /did not print JSON/);
  assert.throws(() => labMarkerFromNodes('{"kind":"Node"}', 'lab1'), /no list of nodes/);
});

test('the Labs view lists Podpath’s kind clusters, unreadable ones only when Podpath wrote their files', () => {
  const markers = new Map<string, LabMarker | Error>([
    ['lab1', { podpath: true, mode: mode('flannel-host-gw'), nodes: 3 }],
    ['someone-elses', { podpath: false }],
    ['gone-api', new Error('The connection to the server 127.0.0.1:35001 was refused')],
    ['stranger', new Error('context was not found')],
  ]);
  const rows = labClusterRows(
    ['lab1', 'someone-elses', 'gone-api', 'stranger'],
    markers,
    new Set(['gone-api']),
  );
  assert.deepEqual(
    rows.map((r) => [r.name, r.mode, r.description, r.contextValue]),
    [
      ['lab1', 'flannel-host-gw', 'kind · Flannel host-gw · 3 nodes', 'podpath.kindLab'],
      ['gone-api', null, 'kind · labels not readable', 'podpath.kindLabUnchecked'],
    ],
  );
  assert.match(rows[1]?.tooltip ?? '', /connection to the server .* was refused/);
  assert.match(rows[0]?.tooltip ?? '', /context kind-lab1/);
});

test('probe pod IP and the datapath diagram for each mode', () => {
  const wide =
    'NAME    READY   STATUS    RESTARTS   AGE   IP           NODE          NOMINATED NODE   READINESS GATES\n' +
    'pod-a   1/1     Running   0          12s   10.244.1.2   lab-worker    <none>           <none>\n' +
    'pod-b   1/1     Running   0          12s   10.244.2.2   lab-worker2   <none>           <none>\n';
  assert.equal(podIp(wide, 'pod-b'), '10.244.2.2');
  assert.equal(podIp(wide.replace('10.244.2.2', '<none>    '), 'pod-b'), null);
  for (const m of KIND_LAB_MODES) {
    const d = datapathModeFor(m.mode);
    if (m.mode === 'kindnet') assert.equal(d, null);
    else assert.ok(d && isCniMode(d), `${m.mode} → ${String(d)}`);
  }
  assert.equal(datapathModeFor('calico-vxlan-crosssubnet'), 'calico-crosssubnet');
});

const STANDINS = join(__dirname, '..', 'support', 'kindStandins');
const ORIGINAL_PATH = process.env['PATH'] ?? '';
let work = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pp-kindclusters-'));
  await mkdir(join(work, 'state'));
  process.env['PATH'] = `${STANDINS}${delimiter}${ORIGINAL_PATH}`;
  process.env['PP_STANDIN_STATE'] = join(work, 'state');
});

after(async () => {
  process.env['PATH'] = ORIGINAL_PATH;
  delete process.env['PP_STANDIN_STATE'];
  await rm(work, { recursive: true, force: true });
});

test('listLabClusters finds a lab the stand-ins created, and not after its deletion', async () => {
  assert.deepEqual(await listLabClusters(), []);
  const prepared = await prepareKindLab({
    ...kindLabCreateOptions(mode('calico-vxlan'), 'nftables', work),
  });
  const config = parse(await readFile(join(prepared.outDir, 'kind-config.yaml'), 'utf8')) as {
    nodes: { labels: Record<string, string> }[];
  };
  assert.equal(config.nodes[0]?.labels[LAB_MODE_LABEL], 'calico-vxlan');
  await runKindLab(prepared.plan);
  // A cluster kind has that Podpath did not make (no lab labels readable, no files).
  await writeFile(join(work, 'state', 'other.mode'), '');
  const rows = await listLabClusters();
  assert.deepEqual(
    rows.map((r) => [r.name, r.mode, r.contextValue]),
    [['podpath-calico-vxlan', 'calico-vxlan', 'podpath.kindLab']],
  );
  await deleteKindLab('podpath-calico-vxlan');
  assert.deepEqual(await listLabClusters(), []);
});

test('listLabClusters says why when kind is not there', async () => {
  const saved = process.env['PATH'];
  process.env['PATH'] = join(work, 'empty');
  try {
    await assert.rejects(listLabClusters(), (err: Error) => {
      assert.match(err.message, /kind/);
      return true;
    });
  } finally {
    process.env['PATH'] = saved;
  }
});

test('a failed creation reads, through the one error handler’s words, what failed and the fix', async () => {
  const prepared = await prepareKindLab({
    ...kindLabCreateOptions(mode('calico-ipip'), 'iptables', work),
  });
  process.env['PP_STANDIN_FAIL'] = [
    'docker',
    'exec',
    'podpath-calico-ipip-control-plane',
    'modprobe',
    'ipip',
  ].join('\x1f');
  process.env['PP_STANDIN_FAIL_MSG'] =
    'modprobe: FATAL: Module ipip not found in directory /lib/modules/6.1.0';
  try {
    const err = await runKindLab(prepared.plan).then(
      () => assert.fail('the creation should fail'),
      (e: unknown) => e,
    );
    const text = errorMessage('Creating the lab cluster', err);
    assert.match(
      text,
      /^Podpath: Creating the lab cluster failed: Load kernel module ipip failed: modprobe: FATAL: Module ipip not found/,
    );
    assert.match(text, /sudo modprobe ipip/);
    assert.match(text, /The cluster podpath-calico-ipip was deleted\.$/);
    // The clean-up really ran: kind no longer lists it.
    assert.deepEqual(await listLabClusters(), []);
  } finally {
    delete process.env['PP_STANDIN_FAIL'];
    delete process.env['PP_STANDIN_FAIL_MSG'];
  }
});
