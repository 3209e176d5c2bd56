// Labs from the extension, as root where the kernel allows: a run, a run with a fault that
// the analysis must locate, and a kept run whose tree shows interfaces and that tears down.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import { expectedMissingHop, findLab } from '../../../src/core/labs/catalog';
import type { LabDefinition } from '../../../src/core/labs/catalog';
import type { PanelView } from '../../../src/protocol';
import type { PodpathApi } from '../../../src/ui/api';
import type { LabNode } from '../../../src/ui/tree/labsTree';
import { activatePodpath } from './podpathTestApi';

type Skippable = Mocha.Context & { test?: Mocha.Runnable & { skipReason?: string } };

function skip(ctx: Mocha.Context, reason: string): never {
  const runnable = (ctx as Skippable).test;
  if (runnable) runnable.skipReason = reason;
  ctx.skip();
}

function labNamespaces(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith('pp-fv-'));
}

suite('labs', function () {
  this.timeout(120_000);
  let api: PodpathApi;
  let lab: LabDefinition;

  suiteSetup(async function () {
    api = await activatePodpath();
    const found = findLab('flannel-vxlan');
    assert.ok(found);
    lab = found;
  });

  setup(async function () {
    const availability = await api.trees.labs.available(lab);
    if (!availability.available) skip(this, availability.reason ?? 'the lab cannot run here');
  });

  test('Run shows the analysis: 8 hops, nothing missing, VXLAN added', async () => {
    const view = await vscode.commands.executeCommand<PanelView>('podpath.lab.run', {
      labId: lab.id,
      keep: false,
    });
    assert.ok(view, 'the lab run returned no view (see the Podpath log)');
    assert.equal(view.kind, 'analysis');
    assert.equal(view.hops.length, 8);
    assert.equal(view.missingHop, null);
    assert.ok(
      view.findings.some((f) =>
        /VXLAN added at 04-nodeA-eth0: \+50 bytes, UDP 8472, VNI 1/.test(f),
      ),
      view.findings.join(' / '),
    );
    assert.equal(api.trees.labs.state(lab.id).status, 'torn down');
    assert.deepEqual(labNamespaces(), []);
  });

  test('Run with a fault names the hop where the probe stops', async () => {
    const view = await vscode.commands.executeCommand<PanelView>('podpath.lab.runFault', {
      labId: lab.id,
      fault: 'missing-fdb',
      keep: false,
    });
    assert.ok(view, 'the faulty run returned no view (see the Podpath log)');
    assert.equal(view.missingHop, expectedMissingHop(lab, 'missing-fdb'));
    assert.match(view.title, /Missing FDB entry/);
    // Why, first, with the evidence: the FDB entry node A lacks for node B's VTEP MAC.
    assert.match(
      view.findings[0] ?? '',
      /^Probe lost in flannel\.1 on node A, .*no entry for 3e:a5:91:07:bc:22/,
    );
    assert.match(view.subtitle, /lost between 03-nodeA-flannel\.1 and 04-nodeA-eth0/);
    assert.deepEqual(labNamespaces(), []);
  });

  test('a kept run shows nodes, pods and interfaces with IPs and MACs, then tears down', async () => {
    const view = await vscode.commands.executeCommand<PanelView>('podpath.lab.run', {
      labId: lab.id,
      keep: true,
    });
    assert.ok(view);
    assert.equal(api.trees.labs.state(lab.id).status, 'up');
    const tree = api.trees.labs;
    const labNode: LabNode = { kind: 'lab', lab };
    assert.equal((await tree.getTreeItem(labNode)).contextValue, 'podpath.labUp');
    const members = tree.getChildren(labNode);
    const names = members.map((m) => (m.kind === 'member' ? m.name : ''));
    assert.ok(names.includes('nodeA') && names.includes('nodeB'), names.join(', '));
    assert.ok(names.includes('podA') && names.includes('podB'), names.join(', '));
    const nodeA = members.find((m) => m.kind === 'member' && m.name === 'nodeA');
    assert.ok(nodeA);
    const ifaces = await Promise.all(tree.getChildren(nodeA).map((i) => tree.getTreeItem(i)));
    const flannel = ifaces.find((i) => i.label === 'flannel.1');
    assert.ok(flannel, ifaces.map((i) => String(i.label)).join(', '));
    assert.match(String(flannel.description), /^10\.244\.0\.0\/32 · [0-9a-f:]{17} · mtu 1450/);
    assert.ok(labNamespaces().length > 0, 'the kept lab has no namespaces');

    const said = await vscode.commands.executeCommand<string>('podpath.lab.teardown', labNode);
    assert.equal(api.trees.labs.state(lab.id).status, 'torn down');
    assert.match(
      said ?? '',
      /^Podpath: tore down Flannel VXLAN: removed \d+ network namespaces \(pp-fv-/,
    );
    assert.deepEqual(tree.getChildren(labNode), [], 'a torn-down lab lists no nodes or pods');
    assert.deepEqual(labNamespaces(), []);
  });

  test('a lab row says it needs root and what it builds; clicking it shows its description', async () => {
    const item = await api.trees.labs.getTreeItem({ kind: 'lab', lab });
    assert.match(String(item.description), /needs root · 2 nodes, 2 pods, flannel\.1 VXLAN/);
    assert.equal(item.command?.command, 'podpath.lab.describe');
    const view = await vscode.commands.executeCommand<PanelView>(
      item.command.command,
      ...(item.command.arguments ?? []),
    );
    assert.equal(view?.title, 'Lab: Flannel VXLAN');
    assert.equal(view?.notes[0], lab.description);
  });
});

suite('Service labs in the Labs view', function () {
  this.timeout(60_000);
  let api: PodpathApi;

  suiteSetup(async function () {
    api = await activatePodpath();
  });

  test('the four Service labs are listed, say what they build, and describe their run', async () => {
    const rows = api.trees.labs
      .getChildren()
      .filter((n): n is Extract<LabNode, { kind: 'lab' }> => n.kind === 'lab' && !!n.lab.service);
    assert.deepEqual(
      rows.map((r) => r.lab.id),
      ['service-clusterip', 'service-nodeport', 'service-affinity', 'service-local'],
    );
    const nodePort = rows.find((r) => r.lab.id === 'service-nodeport')!;
    const item = await api.trees.labs.getTreeItem(nodePort);
    assert.match(
      String(item.description),
      /needs root · 2 nodes, 2 pods, flannel\.1 VXLAN, a client outside the cluster, kube-proxy rules for NodePort svc-nodeport/,
    );
    const view = await vscode.commands.executeCommand<PanelView>(
      item.command!.command,
      ...(item.command!.arguments ?? []),
    );
    assert.equal(view?.title, 'Lab: Service NodePort');
    assert.equal(view?.notes[0], nodePort.lab.description);
    assert.match(view?.notes[1] ?? '', /kube-proxy's rules \(iptables or nftables mode\)/);
  });
});
