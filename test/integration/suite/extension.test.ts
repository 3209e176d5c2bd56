// Podpath inside a real extension host: activation, command registrations, the four trees.
// The workspace folder is test/fixtures/workspace; the extension comes from the repo root.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { LABS } from '../../../src/core/labs/catalog';
import type { PodpathApi } from '../../../src/ui/api';
import { activatePodpath, workspaceRoot } from './podpathTestApi';

suite('extension', () => {
  let api: PodpathApi;

  suiteSetup(async () => {
    api = await activatePodpath();
  });

  test('activates and reports its activation time', () => {
    assert.equal(typeof api.activationMs, 'number');
    assert.ok(api.activationMs > 0, `activationMs is ${api.activationMs}`);
    assert.ok(api.activationMs < 2000, `activation took ${api.activationMs} ms`);
    console.log(`      Podpath activation: ${api.activationMs.toFixed(1)} ms`);
  });

  test('every command in package.json is registered, and nothing else under podpath.', async () => {
    const extension = vscode.extensions.getExtension('podpath.podpath');
    assert.ok(extension);
    const manifest = extension.packageJSON as {
      contributes: { commands: { command: string; category?: string }[] };
    };
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    // The workbench adds its own commands for each view (podpath.labs.focus…): not ours.
    const viewCommand =
      /^podpath\.(clusters|captures|datapaths|labs)\.(focus|open|removeView|resetViewLocation|toggleVisibility)$/;
    const registered = (await vscode.commands.getCommands(true))
      .filter((c) => c.startsWith('podpath.') && !viewCommand.test(c))
      .sort();
    assert.deepEqual(registered, contributed);
    assert.deepEqual([...api.commands].sort(), contributed);
    for (const c of manifest.contributes.commands) assert.equal(c.category, 'Podpath', c.command);
  });
});

suite('trees', () => {
  let api: PodpathApi;

  suiteSetup(async () => {
    api = await activatePodpath();
  });

  test('Clusters lists the fixture kubeconfig contexts with the current one marked', async () => {
    const config = vscode.workspace.getConfiguration('podpath');
    const before = config.inspect<string>('kubeconfig')?.globalValue;
    await config.update(
      'kubeconfig',
      join(workspaceRoot(), 'kubeconfig'),
      vscode.ConfigurationTarget.Global,
    );
    try {
      const tree = api.trees.clusters;
      const contexts = await tree.getChildren();
      assert.deepEqual(
        contexts.map((c) => (c.kind === 'context' ? c.name : c.kind)),
        ['kind-podpath', 'staging', 'calico-lab'],
      );
      const items = contexts.map((c) => tree.getTreeItem(c));
      assert.equal(items[0]?.description, 'current');
      assert.equal((items[0]?.iconPath as vscode.ThemeIcon).id, 'pass-filled');
      assert.equal(items[1]?.description, 'ns web');
      // Contexts expand into Nodes and Network (test/integration/suite/clusters.test.ts).
      assert.equal(items[1]?.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    } finally {
      await config.update('kubeconfig', before, vscode.ConfigurationTarget.Global);
    }
  });

  test('Clusters is empty (welcome view) when the kubeconfig does not exist', async () => {
    const config = vscode.workspace.getConfiguration('podpath');
    const before = config.inspect<string>('kubeconfig')?.globalValue;
    await config.update(
      'kubeconfig',
      join(workspaceRoot(), 'no-such-kubeconfig'),
      vscode.ConfigurationTarget.Global,
    );
    try {
      assert.equal((await api.trees.clusters.getChildren()).length, 0);
    } finally {
      await config.update('kubeconfig', before, vscode.ConfigurationTarget.Global);
    }
  });

  test('Captures shows the fixture capture folder as 8 hops of 6 packets', async () => {
    const folder = join(workspaceRoot(), 'captures', 'flannel-vxlan');
    const tree = api.trees.captures;
    const set = await tree.add(folder);
    const sets = tree.getChildren();
    assert.ok(sets.some((s) => s.kind === 'set' && s.folder === folder));
    const setItem = await tree.getTreeItem(set);
    assert.equal(setItem.label, 'flannel-vxlan');
    assert.equal(setItem.contextValue, 'podpath.captureSet');
    const hops = tree.getChildren(set);
    assert.equal(hops.length, 8);
    const items = await Promise.all(hops.map((h) => tree.getTreeItem(h)));
    assert.deepEqual(
      items.map((i) => i.label),
      [
        '01-podA-eth0',
        '02-nodeA-cni0',
        '03-nodeA-flannel.1',
        '04-nodeA-eth0',
        '05-nodeB-eth0',
        '06-nodeB-flannel.1',
        '07-nodeB-cni0',
        '08-podB-eth0',
      ],
    );
    assert.deepEqual(
      items.map((i) => i.description),
      Array(8).fill('6 packets'),
    );
    assert.ok(items.every((i) => i.contextValue === 'podpath.captureHop'));
    await vscode.commands.executeCommand('podpath.capture.remove', set);
    assert.ok(!tree.getChildren().some((s) => s.kind === 'set' && s.folder === folder));
  });

  test('Datapaths lists every CNI mode, each with its placements', () => {
    const tree = api.trees.datapaths;
    const modes = tree.getChildren();
    assert.deepEqual(
      modes.map((m) => (m.kind === 'mode' ? m.mode : '')),
      [
        'flannel-vxlan',
        'flannel-host-gw',
        'calico-bgp',
        'calico-ipip',
        'calico-vxlan',
        'calico-crosssubnet',
        'kubenet',
      ],
    );
    const first = modes[0];
    assert.ok(first);
    const placements = tree.getChildren(first).map((p) => tree.getTreeItem(p));
    assert.deepEqual(
      placements.map((p) => p.label),
      ['cross-node', 'same-node'],
    );
    assert.equal(placements[0]?.command?.command, 'podpath.datapath.show');
  });

  test('Labs lists every lab, with a reason where one cannot run', async () => {
    const tree = api.trees.labs;
    const roots = tree.getChildren();
    // After the offline labs, the group of lab clusters on kind (kindLab.test.ts).
    assert.equal(roots[roots.length - 1]?.kind, 'kindClusters');
    const labs = roots.filter((l) => l.kind === 'lab');
    assert.deepEqual(
      labs.map((l) => (l.kind === 'lab' ? l.lab.id : '')),
      LABS.map((l) => l.id),
    );
    assert.ok(labs.length >= 10);
    const items = await Promise.all(labs.map((l) => tree.getTreeItem(l)));
    for (const item of items) {
      assert.ok(
        item.contextValue === 'podpath.lab' || item.contextValue === 'podpath.labUnavailable',
        String(item.contextValue),
      );
      if (item.contextValue === 'podpath.labUnavailable')
        assert.match(String(item.description), /^unavailable: \S/);
    }
  });
});
