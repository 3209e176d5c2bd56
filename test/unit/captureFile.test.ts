import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  detectCaptureFormat,
  loadCaptureFile,
  readCaptureFile,
} from '../../src/platform/capture/captureFile';
import { decodePcap } from '../../src/core/packets/pcapDecoder';
import { parseTcpdumpText } from '../../src/core/packets/tcpdumpText';
import type { Layer, Packet } from '../../src/core/packets/model';

const NETNS = join(__dirname, '../fixtures/netns');
const SUITE = join(__dirname, '../fixtures/tcpdump-tests');
const VXLAN_04 = join(NETNS, 'flannel-vxlan/04-nodeA-eth0.pcap');

function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pp-capfile-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('detectCaptureFormat by magic: pcap, pcapng, anything else is text', async () => {
  assert.equal(await detectCaptureFormat(VXLAN_04), 'pcap');
  assert.equal(await detectCaptureFormat(join(SUITE, 'master/nhrp.pcapng')), 'pcapng');
  assert.equal(await detectCaptureFormat(join(NETNS, 'flannel-vxlan/04-nodeA-eth0.txt')), 'text');
  await withTempDir(async (dir) => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    assert.equal(await detectCaptureFormat(empty), 'text');
  });
});

test('readCaptureFile streams a pcap: same packets as decoding it whole', async () => {
  const seen: Packet[] = [];
  const r = await readCaptureFile(VXLAN_04, (p) => seen.push(p));
  assert.equal(r.format, 'pcap');
  assert.equal(r.packets, 6);
  assert.deepEqual(r.issues, []);
  assert.deepEqual(seen, decodePcap(new Uint8Array(readFileSync(VXLAN_04))).packets);
});

test('loadCaptureFile on a pcapng', async () => {
  const r = await loadCaptureFile(join(SUITE, 'master/nhrp.pcapng'));
  assert.equal(r.format, 'pcapng');
  assert.equal(r.packets.length, 25);
  assert.deepEqual(r.issues, []);
});

test('a truncated pcap on disk: packets so far and a fatal issue', async () => {
  await withTempDir(async (dir) => {
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync(VXLAN_04).subarray(0, 24 + 3 * 164 + 80));
    const r = await loadCaptureFile(cut);
    assert.equal(r.packets.length, 3);
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]!.fatal, true);
    assert.match(r.issues[0]!.message, /record 4 at byte offset 516 is truncated/);
  });
});

test('a big pcap is read in chunks (records across chunk boundaries)', async () => {
  await withTempDir(async (dir) => {
    const src = readFileSync(VXLAN_04);
    const body = src.subarray(24);
    const copies = 8000; // ~1.3 MB: more than one read chunk
    const big = Buffer.concat([src.subarray(0, 24), ...Array.from({ length: copies }, () => body)]);
    const path = join(dir, 'big.pcap');
    writeFileSync(path, big);
    let n = 0;
    let lastSource = 0;
    let vxlan = 0;
    const r = await readCaptureFile(path, (p) => {
      n++;
      assert.equal(p.source, lastSource + 1);
      lastSource = p.source!;
      if (p.layers[3]?.kind === 'vxlan') vxlan++;
    });
    assert.deepEqual(r.issues, []);
    assert.equal(r.packets, 6 * copies);
    assert.equal(n, 6 * copies);
    assert.equal(vxlan, 6 * copies);
  });
});

test('unreadable files throw one clear line', async () => {
  await assert.rejects(
    readCaptureFile('/nonexistent/x.pcap', () => undefined),
    {
      message: 'cannot read /nonexistent/x.pcap: no such file',
    },
  );
  await assert.rejects(detectCaptureFormat(NETNS), {
    message: `cannot read ${NETNS}: it is a directory`,
  });
});

test('an aborted read rejects with the abort reason', async () => {
  const controller = new AbortController();
  controller.abort(new Error('stop'));
  await assert.rejects(
    readCaptureFile(VXLAN_04, () => undefined, { signal: controller.signal }),
    {
      message: 'stop',
    },
  );
});

test('an error thrown by onPacket is not disguised as a read error', async () => {
  await assert.rejects(
    readCaptureFile(VXLAN_04, () => {
      throw new Error('consumer failed');
    }),
    { message: 'consumer failed' },
  );
});

test('tcpdump text goes through the text parser', async () => {
  const r = await loadCaptureFile(join(NETNS, 'flannel-vxlan/04-nodeA-eth0.txt'));
  assert.equal(r.format, 'text');
  assert.equal(r.packets.length, 3);
  assert.ok(!r.issues.some((i) => i.fatal));
  const kinds = r.packets[0]!.layers.map((l) => l.kind);
  assert.deepEqual(kinds, ['ipv4', 'udp', 'vxlan', 'ipv4', 'icmp']);
});

test('CRLF text reads the same as LF text', async () => {
  await withTempDir(async (dir) => {
    const src = join(NETNS, 'flannel-vxlan/04-nodeA-eth0.txt');
    const crlf = join(dir, 'crlf.txt');
    writeFileSync(crlf, readFileSync(src, 'utf8').replace(/\n/g, '\r\n'));
    const a = await loadCaptureFile(src);
    const b = await loadCaptureFile(crlf);
    assert.deepEqual(
      b.packets.map((p) => p.layers),
      a.packets.map((p) => p.layers),
    );
  });
});

test('text split into chunks: a UTF-8 character across the chunk boundary and no final newline', async () => {
  await withTempDir(async (dir) => {
    const line =
      '05:03:13.918169 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64\n';
    const odd = '12:00:00.000000 wörld ✓ thing\n';
    let head = '';
    while (Buffer.byteLength(head) < (1 << 20) - 200) head += line;
    // Place the 3-byte check mark so that it straddles the 1 MiB read boundary.
    const before = Buffer.byteLength(head + '12:00:00.000000 wörld ');
    head += 'x'.repeat((1 << 20) - 2 - before) + '\n';
    const text = head + odd + line + '12:00:01.000000 ünïcode tail';
    const path = join(dir, 'utf8.txt');
    writeFileSync(path, text);
    const r = await loadCaptureFile(path);
    assert.equal(r.format, 'text');
    assert.deepEqual(r.packets, parseTcpdumpText(text).packets);
    const raws = r.packets.flatMap((p) => p.layers.filter((l) => l.kind === 'raw'));
    assert.ok(
      raws.some((l) => l.kind === 'raw' && l.text.includes('wörld ✓')),
      JSON.stringify(raws),
    );
    assert.ok(raws.some((l) => l.kind === 'raw' && l.text.includes('ünïcode tail')));
  });
});

test('text decoded in 64 KiB segments: packets and their byte offsets as if read whole', async () => {
  await withTempDir(async (dir) => {
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const s = String(i % 60).padStart(2, '0');
      lines.push(
        `05:03:${s}.${String(i).padStart(6, '0')} IP (tos 0x0, ttl 64, id ${i}, offset 0, flags [DF], proto ICMP (1), length 84)`,
        `    10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq ${i}, length 64`,
      );
      // A line longer than a segment, once, and CRLF endings for a stretch.
      if (i === 2500) lines.push(`05:04:00.000000 ${'y'.repeat(70_000)}`);
    }
    const text = lines.map((l, i) => (i > 3000 && i < 5000 ? `${l}\r\n` : `${l}\n`)).join('');
    assert.ok(text.length > 5 * 65536);
    const path = join(dir, 'segments.txt');
    writeFileSync(path, text);
    const whole = parseTcpdumpText(text).packets;
    const offsets: number[] = [];
    const seen: Packet[] = [];
    await readCaptureFile(path, (p, offset) => {
      seen.push(p);
      offsets.push(offset);
    });
    assert.equal(seen.length, 6001);
    assert.deepEqual(seen, whole);
    // Each packet starts where its first line does in the file.
    const starts: number[] = [];
    let at = 0;
    for (const l of text.split('\n')) {
      if (/^\d/.test(l)) starts.push(at);
      at += Buffer.byteLength(l) + 1;
    }
    assert.deepEqual(offsets, starts);
  });
});

// ---- text and pcap of the same hop ------------------------------------------------------

/**
 * Fields that depend on the capture round (text and pcap of a hop were captured
 * in different rounds) or that tcpdump prints differently (relative TCP seq/ack).
 */
const ROUND_DEPENDENT: Record<string, readonly string[]> = {
  ipv4: ['id'],
  icmp: ['id'],
  icmp6: ['id'],
  udp: ['srcPort'], // the VXLAN source port hashes the inner flow, which includes the ICMP id
  tcp: ['seq', 'ack'],
};

function comparable(l: Layer): Record<string, unknown> {
  const skip = ROUND_DEPENDENT[l.kind] ?? [];
  return Object.fromEntries(Object.entries(l).filter(([k]) => !skip.includes(k)));
}

function textVariants(pcap: string): string[] {
  const dir = pcap.slice(0, pcap.lastIndexOf('/'));
  const stem = pcap.slice(dir.length + 1, -'.pcap'.length);
  return readdirSync(dir)
    .filter((f) => f.startsWith(stem + '.') && f.endsWith('.txt'))
    .filter((f) => !/\.(arp|tcp|icmp-only)\.txt$/.test(f)) // other filters: other packets
    .map((f) => join(dir, f));
}

function findPcaps(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findPcaps(p));
    else if (name.endsWith('.pcap')) out.push(p);
  }
  return out;
}

test('text and pcap of the same hop agree on layers and on the fields both carry', async () => {
  let compared = 0;
  let fields = 0;
  for (const pcap of findPcaps(NETNS)) {
    const fromPcap = (await loadCaptureFile(pcap)).packets;
    for (const txt of textVariants(pcap)) {
      const fromText = (await loadCaptureFile(txt)).packets;
      assert.ok(fromText.length > 0, `${txt}: no packets`);
      const n = Math.min(fromText.length, fromPcap.length);
      for (let i = 0; i < n; i++) {
        const where = `${txt} packet ${i + 1}`;
        const t = fromText[i]!.layers;
        const hasEthernet = t.some((l) => l.kind === 'ethernet');
        // Without -e tcpdump prints no link layer; everything else must line up.
        const p = fromPcap[i]!.layers.filter((l) => hasEthernet || l.kind !== 'ethernet');
        assert.deepEqual(
          t.map((l) => l.kind),
          p.map((l) => l.kind),
          where,
        );
        t.forEach((tl, j) => {
          const a = comparable(tl);
          const b = comparable(p[j]!);
          for (const key of Object.keys(a)) {
            if (!(key in b)) continue;
            assert.deepEqual(a[key], b[key], `${where}: ${tl.kind}.${key}`);
            fields++;
          }
        });
        if (fromText[i]!.frameLength !== undefined) {
          assert.equal(fromText[i]!.frameLength, fromPcap[i]!.frameLength, `${where}: frameLength`);
          fields++;
        }
        compared++;
      }
    }
  }
  assert.ok(compared >= 100, `only ${compared} packets compared`);
  console.log(`# text/pcap agreement: ${compared} packets, ${fields} fields equal`);
});
