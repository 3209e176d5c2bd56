import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_MODES, buildDatapathPlan, defaultPlanInput } from '../../src/core/datapath/plans';
import { recognizeManifests } from '../../src/core/manifests/recognizeManifests';
import { parseTcpdumpText } from '../../src/core/packets/tcpdumpText';
import { analyzeCaptureFiles } from '../../src/platform/capture/analyzeFiles';
import {
  analysisView,
  datapathView,
  packetsView,
  restoredView,
  serviceLensTitle,
  serviceView,
  topologyView,
} from '../../src/ui/panel/panelViews';
import { makeNonce, panelCsp, panelHtml } from '../../src/ui/panel/panelHtml';
import { hopFilesIn } from '../../src/ui/tree/hopFiles';

const workspace = join(__dirname, '..', 'fixtures', 'workspace');
const vxlanFolder = join(workspace, 'captures', 'flannel-vxlan');
const vxlanFiles = readdirSync(vxlanFolder)
  .sort()
  .map((n) => join(vxlanFolder, n));

test('analysisView: the fixture VXLAN captures become 8 hops with rows, findings and a diagram', async () => {
  const plan = buildDatapathPlan(defaultPlanInput('flannel-vxlan'));
  const analysis = await analyzeCaptureFiles(vxlanFiles, { plan });
  const { view, tables } = await analysisView(analysis, { title: 'Captures: flannel-vxlan', plan });
  assert.equal(view.kind, 'analysis');
  assert.equal(view.hops.length, 8);
  assert.deepEqual(
    view.hops.map((h) => h.packetCount),
    [6, 6, 6, 6, 6, 6, 6, 6],
  );
  assert.equal(view.hops[0]?.name, '01-podA-eth0');
  assert.equal(view.hops[0]?.rows.length, 6);
  assert.equal(view.hops[0]?.rows[0]?.source, '10.244.0.5');
  assert.equal(view.hops[0]?.rows[0]?.protocol, 'ICMP');
  assert.ok(view.hops.every((h) => h.seen === true && !h.truncated));
  assert.match(view.hops[3]?.summary ?? '', /VXLAN VNI 1 UDP 8472 \+50 B/);
  assert.match(view.hops[3]?.rows[0]?.encapsulation ?? '', /^VXLAN VNI 1/);
  assert.equal(view.missingHop, null);
  assert.ok(view.findings.some((f) => /VXLAN added at 04-nodeA-eth0: \+50 bytes/.test(f)));
  assert.match(view.diagram ?? '', /^sequenceDiagram/);
  assert.deepEqual(view.notes, plan.notes);
  assert.equal(tables.length, 8);
  assert.equal(tables[2]?.total, 6);
});

test('analysisView: rows are capped per hop and marked truncated', async () => {
  const analysis = await analyzeCaptureFiles(vxlanFiles.slice(0, 2));
  const { view, tables } = await analysisView(analysis, { title: 't', maxRows: 4 });
  assert.equal(view.hops[0]?.rows.length, 4);
  assert.equal(view.hops[0]?.packetCount, 6);
  assert.equal(view.hops[0]?.truncated, true);
  // The host can read every packet back from the file, so any row can be paged to.
  assert.equal(tables[0]?.total, 6);
  const rest = await tables[0]!.query({
    filter: '',
    probeOnly: false,
    notSeenAtNextHop: false,
    sort: 'index',
    descending: false,
    offset: 4,
    count: 4,
  });
  assert.deepEqual(rest.indices, [4, 5]);
  assert.equal(rest.matching, 6);
  assert.match(view.subtitle, /no datapath plan/);
});

test('datapathView: every CNI mode, cross-node and same-node, draws its plan', () => {
  for (const { mode } of CNI_MODES) {
    for (const sameNode of [false, true]) {
      const plan = buildDatapathPlan(defaultPlanInput(mode, { sameNode }));
      const { view, tables } = datapathView(plan);
      assert.equal(view.kind, 'datapath');
      assert.equal(view.hops.length, plan.hops.length, `${mode} ${sameNode}`);
      assert.equal(tables.length, plan.hops.length);
      assert.match(view.diagram ?? '', /^sequenceDiagram\n/);
      assert.ok(view.hops.every((h) => h.rows.length === 0 && h.seen === null));
    }
  }
  const vxlan = datapathView(buildDatapathPlan(defaultPlanInput('flannel-vxlan'))).view;
  assert.equal(vxlan.hops.length, 8);
  assert.match(vxlan.subtitle, /podA 10\.244\.0\.5 → podB 10\.244\.1\.4/);
});

test('packetsView: pasted tcpdump text becomes one hop with a row per packet', () => {
  const text = readFileSync(
    join(__dirname, '..', 'fixtures', 'netns', 'flannel-vxlan', '01-podA-eth0.txt'),
    'utf8',
  );
  const parsed = parseTcpdumpText(text);
  const { view, tables } = packetsView('tcpdump output from the selection', parsed);
  assert.equal(view.kind, 'packets');
  assert.equal(view.hops.length, 1);
  assert.equal(view.hops[0]?.packetCount, parsed.packets.length);
  assert.equal(parsed.packets.length, 3);
  assert.equal(view.hops[0]?.rows[0]?.destination, '10.244.1.4');
  assert.match(view.hops[0]?.rows[0]?.info ?? '', /echo request, id 16149, seq 1/);
  assert.equal(tables[0]?.total, parsed.packets.length);
});

test('topologyView and serviceView from the fixture manifests', () => {
  const manifests = join(workspace, 'manifests');
  const [cluster] = recognizeManifests(readFileSync(join(manifests, 'kind-cluster.yaml'), 'utf8'));
  assert.equal(cluster?.kind, 'kindCluster');
  if (cluster?.kind !== 'kindCluster') return;
  const topo = topologyView(cluster).view;
  assert.equal(topo.kind, 'topology');
  assert.match(topo.diagram ?? '', /^flowchart TB/);
  assert.match(
    topo.notes.join(' '),
    /podpath-control-plane \(control-plane\), podpath-worker \(worker\), podpath-worker2/,
  );
  assert.match(topo.notes.join(' '), /disableDefaultCNI is true/);
  // Node IPs on the Docker network; pod CIDRs per node; services virtual, not on the network.
  const net = (topo.diagram ?? '').split('\n').find((l) => l.startsWith('  net['))!;
  assert.match(net, /docker network kind.*node IPs/);
  assert.doesNotMatch(net, /pods|services/);
  assert.match(topo.diagram ?? '', /n1\[.*pods: own podCIDR \(a \/24 of /);
  assert.match(topo.diagram ?? '', /svc\{\{"services .*virtual: kube-proxy rules on every node/);

  const [service] = recognizeManifests(readFileSync(join(manifests, 'service.yaml'), 'utf8'));
  assert.equal(service?.kind, 'service');
  if (service?.kind !== 'service') return;
  assert.equal(serviceLensTitle(service), 'Service NodePort 80/TCP');
  const sv = serviceView(service).view;
  assert.equal(sv.kind, 'service');
  assert.equal(sv.diagram, null);
  assert.deepEqual(sv.notes, ['http: port 80/TCP → target port 80, node port 30080']);
  assert.equal(
    serviceLensTitle({
      ...service,
      type: 'ClusterIP',
      ports: [{ name: null, port: 80, targetPort: '8080', nodePort: null, protocol: 'TCP' }],
    }),
    'Service ClusterIP 80→8080/TCP',
  );
});

test('restoredView accepts a saved PanelView (bare or under `view`) and rejects junk', () => {
  const view = datapathView(buildDatapathPlan(defaultPlanInput('calico-bgp'))).view;
  assert.equal(restoredView(JSON.parse(JSON.stringify(view)))?.title, view.title);
  assert.equal(restoredView({ view: JSON.parse(JSON.stringify(view)) })?.kind, 'datapath');
  assert.equal(restoredView(undefined), undefined);
  assert.equal(restoredView({ kind: 'evil', title: 'x' }), undefined);
  assert.equal(restoredView({ ...view, hops: 'no' }), undefined);
});

test('panelHtml: scripts only with the nonce, nothing but the webview source otherwise', () => {
  const nonce = makeNonce(new Uint8Array(32).map((_, i) => i * 7));
  assert.match(nonce, /^[A-Za-z0-9]{32}$/);
  const csp = panelCsp('https://file+.vscode-resource.test', nonce);
  assert.equal(
    csp,
    `default-src 'none'; img-src https://file+.vscode-resource.test data:; style-src https://file+.vscode-resource.test 'unsafe-inline'; script-src 'nonce-${nonce}'; font-src https://file+.vscode-resource.test`,
  );
  const html = panelHtml({
    cspSource: 'vscode-src',
    scriptUri: 'vscode-src/dist/webview.js?a="b"',
    nonce,
  });
  assert.match(
    html,
    new RegExp(
      `<script nonce="${nonce}" src="vscode-src/dist/webview.js\\?a=&quot;b&quot;"></script>`,
    ),
  );
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.doesNotMatch(html, /<link/);
});

test('hopFilesIn: pcaps in numeric name order, else text files without notes', () => {
  assert.deepEqual(hopFilesIn(['10-b.pcap', '2-a.pcap', '2-a.txt', 'commands.txt']), [
    '2-a.pcap',
    '10-b.pcap',
  ]);
  assert.deepEqual(hopFilesIn(['06-x.txt', 'commands.txt', '05-y.txt', 'notes.md']), [
    '05-y.txt',
    '06-x.txt',
  ]);
  assert.deepEqual(hopFilesIn(readdirSync(vxlanFolder)).length, 8);
  assert.deepEqual(hopFilesIn(['readme.md']), []);
});

test('analysisView: the subtitle says the probe was lost between the last hop seen and the first not seen', async () => {
  const plan = buildDatapathPlan(defaultPlanInput('flannel-vxlan'));
  // The first four hops only: the probe was last seen at 04-nodeA-eth0 and 05 has nothing.
  const analysis = await analyzeCaptureFiles(vxlanFiles.slice(0, 4), { plan });
  analysis.report.hops.push({ ...analysis.report.hops[3]!, name: '05-nodeB-eth0', seen: false });
  analysis.report.firstMissingHop = '05-nodeB-eth0';
  const { view } = await analysisView(analysis, { title: 't', plan });
  assert.match(view.subtitle, /· lost between 04-nodeA-eth0 and 05-nodeB-eth0$/);
  assert.doesNotMatch(view.subtitle, /lost after/);
});
