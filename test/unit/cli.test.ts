import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { main } from '../../src/cli';
import type { AnalysisReport } from '../../src/core/hops/types';
import type { Packet } from '../../src/core/packets/model';

const NETNS = join(__dirname, '..', 'fixtures', 'netns');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

/** The hop pcaps of a fixture lab, in hop order (`01-…pcap` … `08-…pcap`). */
function hopPcaps(lab: string): string[] {
  return readdirSync(join(NETNS, lab))
    .filter((f) => /^\d\d-.*\.pcap$/.test(f))
    .sort()
    .map((f) => join(NETNS, lab, f));
}

test('parse --json prints one packet object per line with the model fields', async () => {
  const r = await run(['parse', '--json', join(NETNS, 'flannel-vxlan', '04-nodeA-eth0.txt')]);
  assert.equal(r.code, 0, r.err);
  const packets = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Packet);
  assert.equal(packets.length, 3);
  assert.deepEqual(
    packets[0]!.layers.map((l) => l.kind),
    ['ipv4', 'udp', 'vxlan', 'ipv4', 'icmp'],
  );
  assert.deepEqual(packets[0]!.layers[2], { kind: 'vxlan', vni: 1, flags: 8 });
  assert.equal((packets[0]!.layers[3] as { ttl?: number }).ttl, 63);
});

test('decode --json gives the same layers from the pcap of that hop', async () => {
  const r = await run(['decode', '--json', join(NETNS, 'flannel-vxlan', '04-nodeA-eth0.pcap')]);
  assert.equal(r.code, 0, r.err);
  const packets = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Packet);
  assert.equal(packets.length, 6);
  assert.deepEqual(
    packets[0]!.layers.map((l) => l.kind),
    ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'icmp'],
  );
});

test('parse without --json prints a readable table', async () => {
  const r = await run(['parse', join(NETNS, 'flannel-vxlan', '01-podA-eth0.txt')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /10\.244\.0\.5 → 10\.244\.1\.4/);
  assert.match(r.out, /echo request/);
});

test('analyze --json --plan flannel-vxlan reports the 8 hops as the issue specifies', async () => {
  const files = hopPcaps('flannel-vxlan');
  assert.equal(files.length, 8);
  const r = await run(['analyze', '--json', '--plan', 'flannel-vxlan', ...files]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as AnalysisReport;
  assert.deepEqual(
    report.hops.map((h) => h.name),
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
    report.hops.map((h) => h.ttl),
    [64, 64, 63, 63, 63, 63, 62, 62],
  );
  assert.ok(report.hops.every((h) => h.seen));
  assert.equal(report.firstMissingHop, null);
  for (const h of report.hops) {
    for (const key of [
      'name',
      'packets',
      'seen',
      'ttl',
      'innerLength',
      'outerLength',
      'overheadBytes',
      'encapsulation',
      'timeOffsetMs',
    ]) {
      assert.ok(key in h, `${h.name} lacks ${key}`);
    }
  }
  const eth = report.hops.filter((h) => h.name.endsWith('eth0') && h.name.includes('node'));
  for (const h of eth) {
    assert.equal(h.overheadBytes, 50);
    assert.equal(h.outerLength, 134);
    assert.deepEqual(h.encapsulation, { type: 'vxlan', vni: 1, dstPort: 8472 });
  }
  assert.match(report.diagram, /^sequenceDiagram/);
  assert.ok(report.findings.length > 0);
});

test('analyze names an emptied hop as the first where the probe was not seen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-cli-'));
  const files = hopPcaps('flannel-vxlan');
  const empty = join(dir, '05-nodeB-eth0.txt');
  writeFileSync(empty, '');
  files[4] = empty;
  const r = await run(['analyze', '--json', '--plan', 'flannel-vxlan', ...files]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as AnalysisReport;
  assert.equal(report.firstMissingHop, '05-nodeB-eth0');
  const table = await run(['analyze', '--plan', 'flannel-vxlan', ...files]);
  assert.match(
    table.out,
    /Probe not captured at 05-nodeB-eth0 \(seen again at 06-nodeB-flannel\.1\)\./,
  );
});

test('analyze says a probe lost on the wire is lost between the last hop seen and the first not seen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-cli-'));
  const files = hopPcaps('flannel-vxlan').map((f, i) => {
    if (i < 4) return f;
    const empty = join(dir, basename(f).replace(/\.pcap$/, '.txt'));
    writeFileSync(empty, '');
    return empty;
  });
  const table = await run(['analyze', '--plan', 'flannel-vxlan', ...files]);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /Probe lost between 04-nodeA-eth0 and 05-nodeB-eth0\./);
  assert.doesNotMatch(table.out, /lost after/);
});

test('plan prints hops, numbers and the diagram', async () => {
  const r = await run(['plan', 'calico-vxlan', '--json']);
  assert.equal(r.code, 0, r.err);
  const plan = JSON.parse(r.out) as {
    hops: { encapsulation: { vni?: number; dstPort?: number; overheadBytes: number } | null }[];
    diagram: string;
  };
  const encapsulated = plan.hops.filter((h) => h.encapsulation);
  assert.ok(encapsulated.length >= 2);
  assert.deepEqual(
    encapsulated.map((h) => [
      h.encapsulation!.vni,
      h.encapsulation!.dstPort,
      h.encapsulation!.overheadBytes,
    ]),
    encapsulated.map(() => [4096, 4789, 50]),
  );
  assert.match(plan.diagram, /sequenceDiagram/);
  const text = await run(['plan', 'flannel-host-gw-same-node']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /02-nodeA-cni0/);
});

test('bad arguments and unreadable files: one line on stderr, exit code 2', async () => {
  const cases: string[][] = [
    ['frobnicate'],
    ['parse'],
    ['parse', '--bogus', 'x'],
    ['parse', '/nonexistent/capture.txt'],
    ['decode', join(NETNS, 'flannel-vxlan', '01-podA-eth0.txt')],
    ['parse', join(NETNS, 'flannel-vxlan', '01-podA-eth0.pcap')],
    ['analyze'],
    ['analyze', '--plan', 'weave', join(NETNS, 'flannel-vxlan', '01-podA-eth0.pcap')],
    ['plan'],
    ['plan', 'cilium'],
  ];
  for (const argv of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, `${argv.join(' ')} exited ${r.code}`);
    assert.equal(r.err.trim().split('\n').length, 1, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, /^podpath: /);
  }
});

test('a truncated pcap keeps what was decoded and says where it stopped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-cli-'));
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(join(NETNS, 'flannel-vxlan', '04-nodeA-eth0.pcap'));
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 40));
  const r = await run(['decode', '--json', cut]);
  assert.equal(r.code, 1);
  assert.equal(r.out.trim().split('\n').length, 5);
  assert.match(r.err, /truncated/);
});
