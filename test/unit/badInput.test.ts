// Bad input is said first and plainly, and is never drawn as packet loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buildDatapathPlan, defaultPlanInput } from '../../src/core/datapath/plans';
import { inputProblems, lossHeadline } from '../../src/core/hops/findings';
import { analyzeCaptureFiles } from '../../src/platform/capture/analyzeFiles';
import { loadCaptureFile } from '../../src/platform/capture/captureFile';
import { analysisView } from '../../src/ui/panel/panelViews';
import { hopFilesOf } from '../../src/ui/tree/hopFiles';

const bgp = join(__dirname, '..', 'fixtures', 'netns', 'calico-bgp');
const pcaps = readdirSync(bgp)
  .filter((f) => f.endsWith('.pcap'))
  .sort()
  .map((f) => join(bgp, f));

test('random words are not tcpdump output, not packets of RAW', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-bad-'));
  const file = join(dir, 'capture.txt');
  writeFileSync(file, 'hello world foo\nbar baz qux\nlorem ipsum dolor\n');
  const read = await loadCaptureFile(file);
  assert.equal(read.packets.length, 0);
  assert.deepEqual(inputProblems([{ file: 'capture.txt', ...read }]), [
    'capture.txt is not tcpdump output; save it with `tcpdump -nn -e -v`.',
  ]);
});

test('tcpdump text with a few odd lines is still tcpdump output', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-bad-'));
  const file = join(dir, 'hop.txt');
  writeFileSync(
    file,
    'tcpdump: listening on eth0\n12:00:01.000000 IP 10.244.0.5 > 10.244.1.4: ICMP echo request, id 1, seq 1, length 64\n',
  );
  const read = await loadCaptureFile(file);
  assert.equal(read.packets.length >= 1, true);
  assert.ok(read.packets.some((p) => p.layers.some((l) => l.kind === 'icmp')));
  assert.deepEqual(inputProblems([{ file: 'hop.txt', ...read }]), []);
});

test('a truncated pcap is said first as a truncated file and never drawn as packet loss', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-bad-'));
  const files = pcaps.map((f, i) => {
    if (i !== 2) return f;
    // Cut inside the first record: not one packet of this hop can be read.
    const cut = join(dir, basename(f));
    writeFileSync(cut, readFileSync(f).subarray(0, 60));
    return cut;
  });
  const plan = buildDatapathPlan(defaultPlanInput('calico-bgp'));
  const analysis = await analyzeCaptureFiles(files, { plan });
  assert.equal(analysis.report.hops[2]!.seen, false);
  assert.equal(analysis.report.firstMissingHop, null, 'an unreadable hop is not the lost hop');
  assert.equal(lossHeadline(analysis.report), 'seen at every hop');
  const problems = inputProblems(
    analysis.captures.map((c) => ({ file: basename(c.path), format: c.format, issues: c.issues })),
  );
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^03-nodeA-eth0\.pcap is truncated \(/);
  assert.match(problems[0]!, /not counted as loss/);
  const { view } = await analysisView(analysis, { title: 't', plan });
  assert.equal(view.findings[0], problems[0]);
  assert.match(view.subtitle, /^03-nodeA-eth0\.pcap is truncated/);
  assert.equal(view.missingHop, null);
  assert.equal(view.hops[2]!.seen, null, 'shown as not read, not as not seen');
  assert.ok(!view.findings.some((f) => /lost between|first hop where/.test(f)));
});

test('a .txt beside .pcap files is listed as skipped, with why', () => {
  const { files, skipped } = hopFilesOf([
    '01-podA-eth0.pcap',
    '01-podA-eth0.txt',
    '02-nodeA-eth0.pcap',
    'capture.txt',
    'commands.txt',
    'diagram.png',
  ]);
  assert.deepEqual(files, ['01-podA-eth0.pcap', '02-nodeA-eth0.pcap']);
  assert.deepEqual(skipped, [
    { name: '01-podA-eth0.txt', why: 'the text rendering of 01-podA-eth0.pcap' },
    {
      name: 'capture.txt',
      why: 'the folder has pcap files, and text files are read only where there are none',
    },
    { name: 'commands.txt', why: 'notes, not a capture' },
    { name: 'diagram.png', why: 'not a pcap, pcapng or tcpdump text file (by its extension)' },
  ]);
});
