import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFiles, readPage } from '../../src/platform/capture/analyzeFiles';
import { loadCaptureFile } from '../../src/platform/capture/captureFile';
import { RecordOffsetWalker } from '../../src/platform/capture/recordOffsets';
import { followPacket } from '../../src/platform/capture/packetTable';
import { analysisTables } from '../../src/ui/panel/panelViews';
import { parseTableFilter, type TableQuery } from '../../src/core/hops/tableFilter';
import { NumberIndex } from '../../src/core/hops/numberIndex';
import { parseFromWebview } from '../../src/protocol';

const HOPS = join(__dirname, '..', 'fixtures', 'hops');
const NETNS = join(__dirname, '..', 'fixtures', 'netns');
const files = (dir: string, suffix: string): string[] =>
  readdirSync(dir)
    .filter((n) => /^\d\d-/.test(n) && n.endsWith(suffix))
    .sort()
    .map((n) => join(dir, n));
const hopFiles = (mode: string, suffix: '.pcap' | '.txt'): string[] =>
  readdirSync(join(NETNS, mode))
    .filter((n) => /^\d\d-[^.]+(\.1)?\.(pcap|txt)$/.test(n) && n.endsWith(suffix))
    .sort()
    .map((n) => join(NETNS, mode, n));

const query = (q: Partial<TableQuery> = {}): TableQuery => ({
  filter: '',
  probeOnly: false,
  notSeenAtNextHop: false,
  sort: 'index',
  descending: false,
  offset: 0,
  count: 100,
  ...q,
});

test('captures taken one after another (seed 000 §3.3.2): every hop seen by flow, facts from the flow', async () => {
  const dir = join(HOPS, 'seed-000-one-at-a-time');
  const { report } = await analyzeCaptureFiles(files(dir, '.txt'));
  assert.equal(report.hops.length, 8);
  assert.equal(report.firstMissingHop, null);
  assert.equal(report.matchedBy, 'flow');
  assert.deepEqual(
    report.hops.map((h) => [h.name, h.seen, h.match]),
    [
      ['01-podA-eth0', true, 'packet'],
      ['02-nodeA-cni0', true, 'flow'],
      ['03-nodeA-flannel.1', true, 'flow'],
      ['04-nodeA-eth0', true, 'flow'],
      ['05-nodeB-eth0', true, 'flow'],
      ['06-nodeB-flannel.1', true, 'flow'],
      ['07-nodeB-cni0', true, 'flow'],
      ['08-podB-eth0', true, 'flow'],
    ],
  );
  // The -v hops print TTL 63 and the 134-byte outer VXLAN packet: reported from the flow.
  const flannel = report.hops[2]!;
  assert.equal(flannel.ttl, 63);
  assert.equal(flannel.innerLength, 84);
  const eth0 = report.hops[3]!;
  assert.equal(eth0.ttl, 63);
  assert.equal(eth0.outerLength, 134);
  assert.equal(eth0.overheadBytes, 50);
  assert.deepEqual(eth0.encapsulation, { type: 'vxlan', vni: 1, dstPort: 8472 });
  // Time offsets between different packets would be minutes of capture gap: none given.
  assert.ok(report.hops.slice(1).every((h) => h.timeOffsetMs === null));
  const text = report.findings.join('\n');
  assert.match(text, /Matched by flow, not by packet/);
  assert.match(
    text,
    /Seen at 02-nodeA-cni0 by flow .*seq 240–241 here, seq 151–152 at 01-podA-eth0: the sequence numbers do not overlap/,
  );
  assert.match(text, /Seen at 08-podB-eth0 by flow \(1 packet of/);
  assert.doesNotMatch(text, /not seen/i);
});

test('the flow absent at a hop: that hop, and only it, is missing', async () => {
  const dir = join(HOPS, 'seed-000-one-at-a-time');
  const tmp = mkdtempSync(join(tmpdir(), 'pp-flow-'));
  try {
    const paths = files(dir, '.txt').map((p, i) => {
      const name = p.split('/').pop()!;
      const out = join(tmp, name);
      // Hop 5 captured another ping (another id): the flow is not there.
      const text = readFileSync(p, 'utf8');
      writeFileSync(out, i === 4 ? text.replaceAll('id 26,', 'id 99,') : text);
      return out;
    });
    const { report } = await analyzeCaptureFiles(paths);
    assert.equal(report.firstMissingHop, '05-nodeB-eth0');
    assert.deepEqual(
      report.hops.map((h) => h.match),
      ['packet', 'flow', 'flow', 'flow', null, 'flow', 'flow', 'flow'],
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('tcpdump -nei without -v (seed 001): lengths derived from frame lengths show the +50 B', async () => {
  const dir = join(HOPS, 'seed-001-nei');
  const { report } = await analyzeCaptureFiles(files(dir, '.txt'));
  const ens33 = report.hops[0]!;
  // The commentary glued to the command line is not a packet.
  assert.equal(ens33.packets, 4);
  assert.equal(ens33.lengthsDerived, true);
  assert.equal(ens33.outerLength, 134);
  assert.equal(ens33.innerLength, 84);
  assert.equal(ens33.overheadBytes, 50);
  assert.equal(ens33.match, 'packet');
  assert.ok(report.hops.every((h) => h.seen && h.innerLength === 84 && h.lengthsDerived));
  assert.equal(report.matchedBy, 'packet');
  assert.match(report.findings.join('\n'), /VXLAN removed at 02-node2-flannel\.1: -50 bytes/);
});

test('readPage decodes any window of a hop again from its file, pcap and text alike', async () => {
  for (const suffix of ['.pcap', '.txt'] as const) {
    const paths = hopFiles('flannel-vxlan', suffix);
    assert.equal(paths.length, 8);
    const { captures } = await analyzeCaptureFiles(paths);
    for (const capture of captures) {
      const all = (await loadCaptureFile(capture.path)).packets;
      assert.equal(capture.records.length, all.length, capture.path);
      for (const [start, count] of [
        [0, all.length],
        [1, 2],
        [all.length - 1, 5],
      ] as const) {
        const page = await readPage(capture, start, count);
        assert.deepEqual(
          page.map((p) => JSON.stringify({ ...p, source: undefined })),
          all.slice(start, start + count).map((p) => JSON.stringify({ ...p, source: undefined })),
          `${capture.path} ${start}+${count}`,
        );
      }
    }
  }
});

test('record offsets do not depend on how the file is cut into chunks', () => {
  for (const name of ['04-nodeA-eth0.pcap']) {
    const bytes = new Uint8Array(readFileSync(join(NETNS, 'flannel-vxlan', name)));
    const offsets = (size: number): number[] => {
      const w = new RecordOffsetWalker();
      for (let o = 0; o < bytes.length; o += size) w.push(bytes.subarray(o, o + size));
      const out: number[] = [];
      for (let v = w.take(); v >= 0; v = w.take()) out.push(v);
      return out;
    };
    const whole = offsets(bytes.length);
    assert.equal(whole.length, 6);
    assert.equal(whole[0], 24);
    for (const size of [1, 3, 7, 16, 17, 100]) assert.deepEqual(offsets(size), whole, `${size}`);
  }
});

test('packet table: filter, sort, probe only, not seen at the next hop, follow', async () => {
  const { captures, correlation } = await analyzeCaptureFiles(hopFiles('flannel-vxlan', '.pcap'));
  const tables = analysisTables({ captures, correlation });
  const first = tables[0]!;
  const all = await first.query(query());
  assert.equal(all.matching, 6);
  assert.deepEqual(all.indices, [0, 1, 2, 3, 4, 5]);

  const probe = await first.query(query({ probeOnly: true }));
  assert.equal(probe.matching, 3);
  assert.ok(probe.rows.every((r) => /echo request/.test(r.info)));

  const byAddress = await first.query(query({ filter: '10.244.1.4 icmp' }));
  assert.equal(byAddress.matching, 6);
  const byTtl = await first.query(query({ filter: 'ttl 64', sort: 'source' }));
  assert.ok(byTtl.rows.every((r) => r.ttl === 64));
  const bad = await first.query(query({ filter: 'banana' }));
  assert.match(bad.filterError ?? '', /"banana" is not an address/);

  const sorted = await first.query(query({ sort: 'source', descending: true }));
  assert.equal(sorted.rows[0]?.source, '10.244.1.4');
  const page2 = await first.query(query({ offset: 4, count: 4 }));
  assert.deepEqual(page2.indices, [4, 5]);

  // Every packet reached the next hop in this lab.
  const lost = await first.query(query({ notSeenAtNextHop: true }));
  assert.equal(lost.matching, 0);

  const names = captures.map((c) => c.name);
  const followed = await followPacket(tables, names, 0, probe.indices[0]!);
  assert.equal(followed.length, 8);
  assert.ok(
    followed.every((h) => h.index !== null),
    JSON.stringify(followed),
  );
  assert.deepEqual(
    followed.map((h) => h.ttl),
    [64, 64, 63, 63, 63, 63, 62, 62],
  );
  assert.match(followed[3]!.outer, /^VXLAN VNI 1/);
  assert.equal(followed[0]!.outer, '');
  assert.match(followed[0]!.macs, /→/);
});

test('table filter words', () => {
  assert.deepEqual(parseTableFilter('10.244.1.4 port 8472 udp ttl 63'), {
    filter: { address: '10.244.1.4', port: 8472, protocol: 'udp', ttl: 63 },
    error: null,
  });
  assert.deepEqual(parseTableFilter(':53').filter, { port: 53 });
  assert.deepEqual(parseTableFilter('fd00::1').filter, { address: 'fd00::1' });
});

test('NumberIndex keeps whole numbers up to 2^53 apart and grows', () => {
  const index = new NumberIndex();
  const keys = [0, 1, 2 ** 32, 2 ** 32 + 1, 2 ** 36 + 12345, 2 ** 52 + 7];
  for (let i = 0; i < 10_000; i++) keys.push(2 ** 36 + i * 65536);
  keys.forEach((k, i) => assert.equal(index.add(k, i), i));
  keys.forEach((k, i) => assert.equal(index.get(k), i));
  assert.equal(index.get(3), -1);
  assert.equal(index.add(1, 99), 1);
  assert.equal(index.size, keys.length);
});

test('queryPackets and followPacket from the webview are checked before use', () => {
  const query = {
    filter: 'port 8472',
    probeOnly: false,
    notSeenAtNextHop: true,
    sort: 'ttl',
    descending: true,
    offset: 500,
    count: 1_000_000,
  };
  assert.deepEqual(parseFromWebview({ type: 'queryPackets', requestId: 3, hop: 1, query }), {
    type: 'queryPackets',
    requestId: 3,
    hop: 1,
    query: { ...query, count: 2000 },
  });
  assert.equal(
    parseFromWebview({
      type: 'queryPackets',
      requestId: 3,
      hop: 1,
      query: { ...query, sort: 'x' },
    }),
    undefined,
  );
  assert.equal(parseFromWebview({ type: 'queryPackets', requestId: 3, hop: -1, query }), undefined);
  assert.deepEqual(parseFromWebview({ type: 'followPacket', requestId: 4, hop: 0, index: 9 }), {
    type: 'followPacket',
    requestId: 4,
    hop: 0,
    index: 9,
  });
  assert.equal(parseFromWebview({ type: 'followPacket', requestId: 4, hop: 0 }), undefined);
});
