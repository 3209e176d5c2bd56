// The panel receiving real content: an analysis of the fixture captures, a datapath plan,
// pasted tcpdump text; and a failing command that must not throw at its caller.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { PodpathApi } from '../../../src/ui/api';
import type { PanelView } from '../../../src/protocol';
import { activatePodpath, workspaceRoot } from './podpathTestApi';

suite('panel', () => {
  let api: PodpathApi;

  suiteSetup(async () => {
    api = await activatePodpath();
  });

  test('Analyze capture files shows the 8 fixture hops, no missing hop, VXLAN findings', async () => {
    const folder = join(workspaceRoot(), 'captures', 'flannel-vxlan');
    const view = await vscode.commands.executeCommand<PanelView>('podpath.capture.analyze', {
      paths: [folder],
      plan: 'flannel-vxlan',
    });
    assert.ok(view, 'the command returned no view (see the Podpath log)');
    const shown = api.panel.lastShown();
    assert.equal(shown, view);
    assert.equal(shown.kind, 'analysis');
    assert.equal(shown.hops.length, 8);
    assert.deepEqual(
      shown.hops.map((h) => h.packetCount),
      Array(8).fill(6),
    );
    assert.equal(shown.missingHop, null);
    assert.ok(
      shown.findings.some((f) => /VXLAN/.test(f)),
      `no finding mentions VXLAN: ${shown.findings.join(' / ')}`,
    );
    assert.match(shown.diagram ?? '', /^sequenceDiagram/);
    assert.equal(shown.hops[3]?.rows[0]?.protocol, 'ICMP');

    // The webview draws what it got and says so; the participants are what a person sees.
    const report = await api.panel.waitRendered(30_000);
    assert.ok(report, 'the webview did not report a rendered diagram within 30 s');
    assert.equal(report.diagram, 'ok', report.error ?? '');
    assert.ok(
      report.participants.some((p) => p.includes('podA')) &&
        report.participants.some((p) => p.includes('nodeB')),
      `participants: ${report.participants.join(', ')}`,
    );
    assert.deepEqual(api.panel.lastRendered(), report);

    // A click on a packet: the host answers with its layers, outer to inner.
    const reply = await api.panel.handleMessage({
      type: 'selectPacket',
      requestId: 7,
      hop: 3,
      index: 0,
    });
    assert.equal(reply?.type, 'packetLayers');
    if (reply?.type !== 'packetLayers') return;
    assert.equal(reply.requestId, 7);
    assert.equal(reply.error, null);
    assert.deepEqual(
      reply.layers?.map((l) => l.title),
      [
        'Outer Ethernet 02:42:ac:12:00:05 → 02:42:ac:12:00:06',
        'Outer IPv4 172.18.0.5 → 172.18.0.6',
        'Outer UDP',
        'VXLAN',
        'Inner Ethernet b2:8f:4e:6a:1d:c3 → 3e:a5:91:07:bc:22',
        'Inner IPv4 10.244.0.5 → 10.244.1.4',
        'ICMP',
      ],
    );
    const missing = await api.panel.handleMessage({
      type: 'selectPacket',
      requestId: 8,
      hop: 3,
      index: 99,
    });
    assert.match(
      missing?.type === 'packetLayers' ? (missing.error ?? '') : '',
      /no packet 100 at hop 4/,
    );
    // Anything that is not a valid message is dropped without a reply.
    assert.equal(
      await api.panel.handleMessage({ type: 'selectPacket', requestId: -1, hop: 0, index: 0 }),
      undefined,
    );
    assert.equal(await api.panel.handleMessage('<script>'), undefined);
  });

  test('Show datapath draws the plan of the chosen mode', async () => {
    const view = await vscode.commands.executeCommand<PanelView>('podpath.datapath.show', {
      mode: 'calico-bgp',
      sameNode: false,
    });
    assert.equal(view?.kind, 'datapath');
    assert.match(view?.title ?? '', /Calico BGP/);
    assert.equal(view?.hops.length, 6);
    assert.equal(api.panel.lastShown(), view);
  });

  test('Parse tcpdump output shows the pasted packets as a table', async () => {
    const text = readFileSync(
      join(workspaceRoot(), '..', 'netns', 'flannel-vxlan', '04-nodeA-eth0.txt'),
      'utf8',
    );
    const view = await vscode.commands.executeCommand<PanelView>('podpath.tcpdump.parseSelection', {
      text,
    });
    assert.equal(view?.kind, 'packets');
    assert.equal(view?.hops.length, 1);
    assert.ok((view?.hops[0]?.packetCount ?? 0) >= 3);
    assert.match(view?.hops[0]?.rows[0]?.encapsulation ?? '', /^VXLAN VNI 1/);

    const editor = await vscode.window.showTextDocument(
      await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' }),
    );
    editor.selection = new vscode.Selection(0, 0, editor.document.lineCount, 0);
    const fromSelection = await vscode.commands.executeCommand<PanelView>(
      'podpath.tcpdump.parseSelection',
    );
    assert.equal(fromSelection?.hops[0]?.packetCount, view?.hops[0]?.packetCount);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('a command that fails reports it and resolves to undefined', async () => {
    const before = api.panel.lastShown();
    const result = await vscode.commands.executeCommand('podpath.capture.analyze', {
      paths: [join(workspaceRoot(), 'manifests')],
    });
    assert.equal(result, undefined);
    assert.equal(api.panel.lastShown(), before, 'a failed analysis replaced the panel');
  });
});
