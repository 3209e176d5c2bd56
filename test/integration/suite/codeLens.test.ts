// CodeLenses on the fixture manifests, through the workbench's own CodeLens command, and the
// commands they run.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { PodpathApi } from '../../../src/ui/api';
import { activatePodpath, workspaceRoot } from './podpathTestApi';

const EXPECTED: Record<string, string[]> = {
  'kind-cluster.yaml': ['Podpath: show lab topology', 'Podpath: create this cluster with…'],
  'flannel-configmap.yaml': ['Podpath: show Flannel VXLAN datapath'],
  'calico-ippool.yaml': ['Podpath: show Calico IPIP datapath'],
  'deployment.yaml': ['Podpath: show datapath for this workload'],
  'pod.yaml': ['Podpath: show datapath for this workload'],
  'service.yaml': ['Podpath: Service NodePort 80/TCP', 'Podpath: explain this Service'],
  'multi-doc.yaml': [
    'Podpath: show Calico VXLAN datapath',
    'Podpath: show datapath for this workload',
    'Podpath: Service ClusterIP 5201/TCP',
    'Podpath: explain this Service',
  ],
  'not-a-manifest.yaml': [],
  'broken.yaml': [],
};

async function lensesOf(name: string): Promise<vscode.CodeLens[]> {
  const uri = vscode.Uri.file(join(workspaceRoot(), 'manifests', name));
  const doc = await vscode.workspace.openTextDocument(uri);
  assert.equal(doc.languageId, 'yaml', `${name} did not open as YAML`);
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
    'vscode.executeCodeLensProvider',
    uri,
    100,
  );
  return (lenses ?? []).filter((l) => l.command?.title.startsWith('Podpath:'));
}

suite('codelens', () => {
  let api: PodpathApi;

  suiteSetup(async () => {
    api = await activatePodpath();
  });

  for (const [name, titles] of Object.entries(EXPECTED)) {
    test(`${name}: ${titles.length === 0 ? 'no lenses' : titles.join(' | ')}`, async () => {
      const lenses = await lensesOf(name);
      assert.deepEqual(
        lenses.map((l) => l.command?.title),
        titles,
      );
    });
  }

  test('the multi-document lenses sit on their own documents', async () => {
    const lenses = await lensesOf('multi-doc.yaml');
    assert.deepEqual(
      lenses.map((l) => l.range.start.line),
      // The Service has two lenses on its first line: its ports, and explain.
      [6, 32, 42, 42],
    );
  });

  test('podpath.codeLens.enabled = false removes every lens', async () => {
    const config = vscode.workspace.getConfiguration('podpath');
    const before = config.inspect<boolean>('codeLens.enabled')?.globalValue;
    await config.update('codeLens.enabled', false, vscode.ConfigurationTarget.Global);
    try {
      assert.deepEqual(await lensesOf('kind-cluster.yaml'), []);
      assert.deepEqual(await lensesOf('multi-doc.yaml'), []);
    } finally {
      await config.update('codeLens.enabled', before, vscode.ConfigurationTarget.Global);
    }
    assert.equal((await lensesOf('kind-cluster.yaml')).length, 2);
  });

  test('each lens opens the matching view in the panel', async () => {
    const expectations: [string, string, RegExp][] = [
      ['kind-cluster.yaml', 'topology', /^kind cluster podpath$/],
      ['flannel-configmap.yaml', 'datapath', /^Flannel VXLAN/],
      ['calico-ippool.yaml', 'datapath', /^Calico IPIP/],
      ['service.yaml', 'service', /^Service web$/],
    ];
    for (const [name, kind, title] of expectations) {
      const [lens] = await lensesOf(name);
      assert.ok(lens?.command, `${name} has no lens`);
      await vscode.commands.executeCommand(lens.command.command, ...(lens.command.arguments ?? []));
      const shown = api.panel.lastShown();
      assert.equal(shown?.kind, kind, name);
      assert.match(shown?.title ?? '', title, name);
    }
    const [workload] = await lensesOf('pod.yaml');
    assert.ok(workload?.command);
    // The mode is passed so no quick pick waits for a person.
    await vscode.commands.executeCommand(
      workload.command.command,
      ...(workload.command.arguments ?? []),
      {
        mode: 'calico-bgp',
      },
    );
    const shown = api.panel.lastShown();
    assert.equal(shown?.kind, 'datapath');
    assert.match(shown?.title ?? '', /^Calico BGP/);
    assert.match(shown?.notes[0] ?? '', /^Pod pod-a in namespace default/);
    // The workload shapes the plan: its pinned node and its labels (workloadDatapath).
    assert.ok(shown?.notes.includes('The manifest pins its pods to node podpath-worker.'));
    assert.ok(shown?.notes.some((n) => n.includes('kubectl get pods -n default -l app=netshoot')));
  });

  test('explain this Service: the rules file is read and the panel shows the flowchart', async () => {
    const lenses = await lensesOf('service.yaml');
    const explain = lenses.find((l) => l.command?.command === 'podpath.manifest.explainService');
    assert.ok(explain?.command, 'no explain lens');
    // The rules file is passed so no open dialog waits for a person.
    await vscode.commands.executeCommand(
      explain.command.command,
      ...(explain.command.arguments ?? []),
      { rulesFile: join(workspaceRoot(), 'rules', 'web-iptables-save.txt') },
    );
    const shown = api.panel.lastShown();
    assert.equal(shown?.kind, 'service');
    assert.equal(shown?.title, 'Service default/web · port http/TCP');
    assert.match(shown?.diagram ?? '', /^flowchart LR/);
    assert.ok(shown?.notes.some((n) => n.startsWith('Endpoint 10.244.2.7:80: 50%')));
  });
});
