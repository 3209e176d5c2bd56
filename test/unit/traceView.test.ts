// The host side of a trace in the panel: traceView draws a tracePods result like a lab run
// (the fixture flannel-vxlan captures stand for the pcaps a trace kept), with the cluster,
// probe, timings and folder in the notes and each hop's capture file for Reveal / Open in
// Wireshark; captureFileAction decides the webview's `captureFile` request against the
// host's own paths; parseFromWebview checks the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildDatapathPlan, defaultPlanInput } from '../../src/core/datapath/plans';
import { analyzeCaptureFiles } from '../../src/platform/capture/analyzeFiles';
import type { TraceResult } from '../../src/platform/trace/podTrace';
import { parseFromWebview } from '../../src/protocol';
import {
  attachCaptureFiles,
  captureFileAction,
  datapathView,
  traceView,
} from '../../src/ui/panel/panelViews';

const folder = join(__dirname, '..', 'fixtures', 'workspace', 'captures', 'flannel-vxlan');
const pcaps = readdirSync(folder)
  .sort()
  .map((n) => join(folder, n));

async function fixtureTrace(problems: string[] = []) {
  const plan = buildDatapathPlan(defaultPlanInput('flannel-vxlan'));
  const analysis = await analyzeCaptureFiles(pcaps, { plan });
  const result: TraceResult = {
    cluster: {
      server: 'https://127.0.0.1:6443',
      kind: { name: 'podpath-lab', provider: 'docker' },
    },
    context: 'kind-podpath-lab',
    mode: 'flannel-vxlan',
    plan: { title: plan.title, hops: [], notes: plan.notes, problems },
    datapath: plan,
    report: analysis.report,
    files: analysis.captures.map((c) => ({
      hop: c.name,
      pcap: c.path,
      text: c.path.replace(/\.pcap$/, '.txt'),
      packets: 6,
      bytes: 600,
    })),
    probe: {
      kind: 'icmp',
      sent: 3,
      received: 3,
      summary: '3 packets transmitted, 3 received',
      ranIn: 'pod',
      pod: 'default/podA',
      container: 'app',
      node: 'podpath-lab-worker',
      where: 'probed from inside default/podA (container app)',
    },
    limits: [],
    outDir: '/storage/traces/t1',
    timings: {
      planMs: 812,
      captureStartMs: 640,
      probeMs: 2100,
      stopMs: 310,
      analysisMs: 95,
      totalMs: 3957,
    },
  };
  return { result, analysis };
}

test('traceView: the trace drawn like a lab run, with its cluster, probe, timings and files', async () => {
  const { result, analysis } = await fixtureTrace();
  const content = await traceView(result, analysis, {
    podA: 'default/podA',
    podB: 'default/podB',
    wireshark: true,
  });
  const { view } = content;
  assert.equal(view.kind, 'analysis');
  assert.equal(view.title, 'Trace default/podA → default/podB');
  assert.equal(view.hops.length, 8);
  assert.ok(view.hops.every((h) => h.seen === true));
  assert.match(view.diagram ?? '', /^sequenceDiagram/);
  assert.match(view.notes[0] ?? '', /kind-podpath-lab \(kind cluster podpath-lab through docker/);
  assert.ok(view.notes.includes('Probe: 3 packets transmitted, 3 received'));
  assert.ok(view.notes.includes('Probed from inside default/podA (container app).'));
  assert.ok(
    view.notes.includes(
      'Timings: plan 812 ms, captures listening 640 ms, probe 2.1 s, stop 310 ms, analysis 95 ms; total 4.0 s.',
    ),
    view.notes.join('\n'),
  );
  assert.ok(view.notes.some((n) => n.includes('/storage/traces/t1')));
  assert.deepEqual(content.files, pcaps);
  assert.deepEqual(
    view.hops.map((h) => h.capture),
    pcaps.map((path) => ({ path, wireshark: true })),
  );
});

test('traceView: plan problems captured anyway and limits are findings', async () => {
  const { result, analysis } = await fixtureTrace(['nodeB has no flannel.1']);
  result.limits = ['The 60 s duration limit stopped the captures.'];
  const { view } = await traceView(result, analysis, {
    podA: 'a/x',
    podB: 'b/y',
    wireshark: false,
  });
  assert.equal(view.findings[0], 'Plan problem (captured anyway): nodeB has no flannel.1');
  assert.equal(view.findings.at(-1), 'The 60 s duration limit stopped the captures.');
  assert.ok(view.hops.every((h) => h.capture?.wireshark === false));
});

test('captureFileAction: acts on the host’s own path by hop index, never on the webview’s', () => {
  const files = ['/s/01-podA-eth0.pcap', '/s/02-nodeA-veth.pcap'];
  assert.deepEqual(captureFileAction(files, 1, 'reveal', undefined), {
    kind: 'reveal',
    path: '/s/02-nodeA-veth.pcap',
  });
  assert.deepEqual(captureFileAction(files, 0, 'wireshark', '/usr/bin/wireshark'), {
    kind: 'wireshark',
    argv: ['/usr/bin/wireshark', '-r', '/s/01-podA-eth0.pcap'],
  });
  const noWireshark = captureFileAction(files, 0, 'wireshark', undefined);
  assert.equal(noWireshark.kind, 'refused');
  assert.match(noWireshark.kind === 'refused' ? noWireshark.message : '', /not installed/);
  assert.deepEqual(captureFileAction(files, 2, 'reveal', undefined), {
    kind: 'refused',
    message: 'Hop 3 has no capture file.',
  });
  // After a reload the view comes back without its files.
  const gone = captureFileAction([], 0, 'reveal', undefined);
  assert.equal(gone.kind, 'refused');
  assert.match(gone.kind === 'refused' ? gone.message : '', /run the trace again/);
});

test('attachCaptureFiles: only hops with a file get the buttons', () => {
  const content = datapathView(buildDatapathPlan(defaultPlanInput('flannel-vxlan')));
  attachCaptureFiles(content, ['/x/01.pcap'], false);
  assert.deepEqual(content.view.hops[0]?.capture, { path: '/x/01.pcap', wireshark: false });
  assert.equal(content.view.hops[1]?.capture, undefined);
  assert.equal(content.files?.length, content.view.hops.length);
});

test('parseFromWebview: captureFile carries only a hop index and a known action', () => {
  assert.deepEqual(
    parseFromWebview({ type: 'captureFile', hop: 3, action: 'wireshark', path: '/etc/passwd' }),
    { type: 'captureFile', hop: 3, action: 'wireshark' },
  );
  assert.deepEqual(parseFromWebview({ type: 'captureFile', hop: 0, action: 'reveal' }), {
    type: 'captureFile',
    hop: 0,
    action: 'reveal',
  });
  for (const junk of [
    { type: 'captureFile', hop: -1, action: 'reveal' },
    { type: 'captureFile', hop: 1.5, action: 'reveal' },
    { type: 'captureFile', hop: 0, action: 'open' },
    { type: 'captureFile', hop: '0', action: 'reveal' },
  ]) {
    assert.equal(parseFromWebview(junk), undefined, JSON.stringify(junk));
  }
});
