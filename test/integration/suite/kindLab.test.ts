// Create lab cluster… in the real extension host, against the kind / docker / kubectl
// stand-ins (test/support/kindStandins, put first on the host's PATH): the command writes the
// kind config and manifests into the workspace's .podpath/kind/<name>, opens the kind config,
// runs every step, lists the new cluster in the Labs view from `kind get clusters` and its
// node labels, and ends with the Trace offer; Trace traces pod-a → pod-b in context
// kind-<name> (here: that context is missing, and it says so). The CodeLens on a kind Cluster config offers the same command.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import * as vscode from 'vscode';
import type { PodpathApi } from '../../../src/ui/api';
import type { KindLabCreated } from '../../../src/ui/commands/kindLabCommands';
import { activatePodpath, EXTENSION_ID, workspaceRoot } from './podpathTestApi';

const NAME = 'pp-editor-lab';

suite('kind lab from the editor', function () {
  this.timeout(180_000);
  let api: PodpathApi;
  let state = '';
  let calls = '';
  const savedPath = process.env['PATH'];

  suiteSetup(async () => {
    api = await activatePodpath();
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    state = mkdtempSync(join(tmpdir(), 'pp-kindlab-host-'));
    calls = join(state, 'calls.log');
    // The extension runs its tools in this same process: the stand-ins come first on PATH.
    process.env['PATH'] =
      `${join(ext.extensionPath, 'test', 'support', 'kindStandins')}${delimiter}${savedPath ?? ''}`;
    process.env['PP_STANDIN_STATE'] = state;
    process.env['PP_STANDIN_LOG'] = calls;
  });

  suiteTeardown(() => {
    process.env['PATH'] = savedPath;
    delete process.env['PP_STANDIN_STATE'];
    delete process.env['PP_STANDIN_LOG'];
    rmSync(state, { recursive: true, force: true });
    rmSync(join(workspaceRoot(), '.podpath'), { recursive: true, force: true });
  });

  test('the kind Cluster config has a "create this cluster with…" lens', async () => {
    const uri = vscode.Uri.file(join(workspaceRoot(), 'manifests', 'kind-cluster.yaml'));
    await vscode.workspace.openTextDocument(uri);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      uri,
      100,
    );
    const lens = (lenses ?? []).find((l) => l.command?.command === 'podpath.kindLab.create');
    assert.ok(lens, 'no Create lab cluster lens');
    assert.equal(lens.command?.title, 'Podpath: create this cluster with…');
    assert.equal(String(lens.command?.arguments?.[0]), String(uri));
  });

  test('Create lab cluster… runs every step and ends with the Trace offer', async () => {
    const created = await vscode.commands.executeCommand<KindLabCreated | undefined>(
      'podpath.kindLab.create',
      { mode: 'calico-vxlan', kubeProxyMode: 'nftables', name: NAME },
    );
    assert.ok(created, 'the command failed (see the Podpath log)');
    const dir = join(workspaceRoot(), '.podpath', 'kind', NAME);
    assert.equal(created.outDir, dir);
    for (const file of ['kind-config.yaml', 'cni.yaml', 'probe-pods.yaml']) {
      assert.ok(existsSync(join(dir, file)), `${file} was not written`);
    }
    const config = readFileSync(join(dir, 'kind-config.yaml'), 'utf8');
    assert.match(config, /kubeProxyMode: nftables/);
    assert.match(config, /podpath\.dev\/lab-mode: calico-vxlan/);
    // The kind config is open for the person to read.
    assert.ok(
      vscode.workspace.textDocuments.some((d) => d.uri.fsPath === join(dir, 'kind-config.yaml')),
      'kind-config.yaml is not open',
    );
    const argv = readFileSync(calls, 'utf8').split('\n').filter(Boolean);
    assert.equal(argv[0]?.split('\x1f').slice(0, 3).join(' '), 'kind create cluster');
    assert.ok(
      argv.some((l) => l.includes('apply\x1f-f') && l.endsWith('cni.yaml')),
      'cni.yaml was not applied',
    );
    assert.ok(
      argv.some((l) => l.includes('rollout')),
      'no rollout wait',
    );
    assert.equal(created.offer.button, 'Trace pod A → pod B');
    assert.match(created.offer.message, /lab cluster pp-editor-lab is ready/);
    assert.match(
      created.offer.message,
      /captures at every hop of the Calico VXLAN datapath while pod-a pings pod-b/,
    );
    assert.match(created.offer.message, /\(10\.244\.2\.2\)/);
    // The Labs view lists it, from `kind get clusters` and the nodes' podpath.dev/lab label.
    const rows = api.trees.labs.kindClusterRows();
    assert.deepEqual(
      rows.map((r) => [r.name, r.mode, r.contextValue]),
      [[NAME, 'calico-vxlan', 'podpath.kindLab']],
    );
    const group = api.trees.labs.getChildren().find((n) => n.kind === 'kindClusters');
    assert.ok(group);
    const items = await Promise.all(
      api.trees.labs.getChildren(group).map((n) => api.trees.labs.getTreeItem(n)),
    );
    assert.deepEqual(
      items.map((i) => [i.label, i.contextValue]),
      [[NAME, 'podpath.kindLab']],
    );
  });

  test('Trace runs a real trace in context kind-<name>, not a ping and a static diagram', async () => {
    // The stand-ins here are kind/kubectl only (no API server, no nodes to capture on): the
    // trace goes to the cluster's context, which this kubeconfig does not have, and says so.
    // The whole trace against a lab-backed API runs in test/e2e/trace.ui.test.ts (root).
    const before = api.panel.lastShown();
    const result = await vscode.commands.executeCommand('podpath.kindLab.trace', {
      name: NAME,
      mode: 'calico-vxlan',
    });
    assert.equal(result, undefined, 'the trace cannot have run without the cluster');
    assert.equal(api.panel.lastShown(), before, 'no static diagram was shown instead');
    await assert.rejects(
      api.trees.clusters.openSession(`kind-${NAME}`),
      new RegExp(`there is no context kind-${NAME} in the kubeconfig`),
    );
  });

  test('a failed step deletes the cluster and the Labs view no longer lists it', async () => {
    const name = 'pp-editor-fail';
    const dir = join(workspaceRoot(), '.podpath', 'kind', name);
    process.env['PP_STANDIN_FAIL'] = [
      'kubectl',
      '--context',
      `kind-${name}`,
      'apply',
      '-f',
      join(dir, 'cni.yaml'),
    ].join('\x1f');
    process.env['PP_STANDIN_FAIL_MSG'] = 'error: unable to recognize "cni.yaml": no matches';
    rmSync(calls, { force: true });
    try {
      // The one error handler reports the failure; the command itself resolves to undefined.
      const created = await vscode.commands.executeCommand<KindLabCreated | undefined>(
        'podpath.kindLab.create',
        { mode: 'calico-ipip', kubeProxyMode: 'iptables', name },
      );
      assert.equal(created, undefined);
    } finally {
      delete process.env['PP_STANDIN_FAIL'];
      delete process.env['PP_STANDIN_FAIL_MSG'];
    }
    const argv = readFileSync(calls, 'utf8').split('\n').filter(Boolean);
    const applied = argv.findIndex((l) => l.includes('apply') && l.endsWith('cni.yaml'));
    const deleted = argv.indexOf(['kind', 'delete', 'cluster', '--name', name].join('\x1f'));
    assert.ok(applied >= 0 && deleted > applied, 'the cluster was not deleted after the failure');
    assert.ok(
      !api.trees.labs.kindClusterRows().some((r) => r.name === name),
      'the deleted cluster is still listed',
    );
  });
});
