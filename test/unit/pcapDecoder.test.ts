import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  createPcapDecoder,
  decodeFrame,
  decodePcap,
  FrameDecoder,
  isPcapMagic,
} from '../../src/core/packets/pcapDecoder';
import type { CaptureIssue, Layer, Packet } from '../../src/core/packets/model';
import { runTool, ToolError } from '../../src/platform/exec/runner';

const NETNS = join(__dirname, '../fixtures/netns');
const SUITE = join(__dirname, '../fixtures/tcpdump-tests');

function findFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findFiles(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

function read(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

function kinds(p: Packet | undefined): string[] {
  return (p?.layers ?? []).map((l) => l.kind);
}

function layer<K extends Layer['kind']>(
  p: Packet | undefined,
  kind: K,
  nth = 0,
): Extract<Layer, { kind: K }> {
  const found = (p?.layers ?? []).filter((l) => l.kind === kind);
  const l = found[nth];
  assert.ok(l, `packet has no ${kind} layer #${nth}: ${JSON.stringify(p?.layers)}`);
  return l as Extract<Layer, { kind: K }>;
}

// ---- pcap rewriting helpers: build variants of a real fixture -------------------------------

interface Rec {
  sec: number;
  frac: number;
  data: Uint8Array;
  orig: number;
}

function records(pcap: Uint8Array): { linktype: number; recs: Rec[] } {
  const dv = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  assert.equal(dv.getUint32(0, true), 0xa1b2c3d4, 'fixture is a little-endian microsecond pcap');
  const recs: Rec[] = [];
  for (let o = 24; o + 16 <= pcap.length;) {
    const caplen = dv.getUint32(o + 8, true);
    recs.push({
      sec: dv.getUint32(o, true),
      frac: dv.getUint32(o + 4, true),
      orig: dv.getUint32(o + 12, true),
      data: pcap.subarray(o + 16, o + 16 + caplen),
    });
    o += 16 + caplen;
  }
  return { linktype: dv.getUint32(20, true), recs };
}

function writePcap(
  recs: Rec[],
  opts: { little: boolean; nano: boolean; linktype?: number },
): Uint8Array {
  const size = 24 + recs.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  const le = opts.little;
  dv.setUint32(0, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, 262144, le);
  dv.setUint32(20, opts.linktype ?? 1, le);
  let o = 24;
  for (const r of recs) {
    dv.setUint32(o, r.sec, le);
    dv.setUint32(o + 4, opts.nano ? r.frac * 1000 + 7 : r.frac, le);
    dv.setUint32(o + 8, r.data.length, le);
    dv.setUint32(o + 12, r.orig, le);
    out.set(r.data, o + 16);
    o += 16 + r.data.length;
  }
  return out;
}

/** A pcapng writer: blocks are padded and framed by their total length. */
function ngBlock(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const out = new Uint8Array(12 + padded);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, out.length, le);
  out.set(body, 8);
  dv.setUint32(out.length - 4, out.length, le);
  return out;
}

function ngShb(le: boolean): Uint8Array {
  const body = new Uint8Array(16);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, 0x1a2b3c4d, le);
  dv.setUint16(4, 1, le);
  dv.setUint16(6, 0, le);
  dv.setInt32(8, -1, le);
  dv.setInt32(12, -1, le);
  return ngBlock(0x0a0d0d0a, body, le);
}

function ngIdb(linktype: number, tsresol: number | undefined, le: boolean): Uint8Array {
  const body = new Uint8Array(tsresol === undefined ? 12 : 24);
  const dv = new DataView(body.buffer);
  dv.setUint16(0, linktype, le);
  dv.setUint32(4, 262144, le);
  if (tsresol !== undefined) {
    dv.setUint16(8, 9, le); // if_tsresol
    dv.setUint16(10, 1, le);
    body[12] = tsresol;
    dv.setUint16(16, 0, le); // opt_endofopt
    dv.setUint16(18, 0, le);
  }
  return ngBlock(1, body.subarray(0, tsresol === undefined ? 8 : 20), le);
}

function ngEpb(
  ifId: number,
  units: bigint,
  data: Uint8Array,
  orig: number,
  le: boolean,
): Uint8Array {
  const body = new Uint8Array(20 + data.length);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, ifId, le);
  dv.setUint32(4, Number(units >> 32n), le);
  dv.setUint32(8, Number(units & 0xffffffffn), le);
  dv.setUint32(12, data.length, le);
  dv.setUint32(16, orig, le);
  body.set(data, 20);
  return ngBlock(6, body, le);
}

function ngSpb(data: Uint8Array, le: boolean): Uint8Array {
  const body = new Uint8Array(4 + data.length);
  new DataView(body.buffer).setUint32(0, data.length, le);
  body.set(data, 4);
  return ngBlock(3, body, le);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const VXLAN_04 = join(NETNS, 'flannel-vxlan/04-nodeA-eth0.pcap');

// ---- real fixtures ---------------------------------------------------------------------------

test('flannel-vxlan 04-nodeA-eth0.pcap: VXLAN on UDP 8472 with the inner ICMP', () => {
  const { packets, issues } = decodePcap(read(VXLAN_04));
  assert.deepEqual(issues, []);
  assert.equal(packets.length, 6);
  for (const p of packets) {
    assert.deepEqual(kinds(p), ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'icmp']);
  }
  const first = packets[0]!;
  assert.equal(first.source, 1);
  assert.equal(first.frameLength, 148);
  assert.ok(Math.abs(first.ts! - 1795237402.81313) < 1e-6, `ts ${first.ts}`);
  assert.deepEqual(layer(first, 'ethernet'), {
    kind: 'ethernet',
    src: '02:42:ac:12:00:05',
    dst: '02:42:ac:12:00:06',
    ethertype: 0x0800,
  });
  assert.deepEqual(layer(first, 'ipv4'), {
    kind: 'ipv4',
    src: '172.18.0.5',
    dst: '172.18.0.6',
    ttl: 64,
    id: 32789,
    length: 134,
    proto: 17,
    df: false,
    tos: 0,
  });
  assert.deepEqual(layer(first, 'udp'), {
    kind: 'udp',
    srcPort: 49890,
    dstPort: 8472,
    length: 106,
  });
  assert.deepEqual(layer(first, 'vxlan'), { kind: 'vxlan', vni: 1, flags: 0x08 });
  const inner = layer(first, 'ipv4', 1);
  assert.equal(inner.src, '10.244.0.5');
  assert.equal(inner.dst, '10.244.1.4');
  assert.equal(inner.ttl, 63);
  assert.equal(inner.length, 84);
  assert.equal(inner.df, true);
  assert.deepEqual(layer(first, 'icmp'), {
    kind: 'icmp',
    type: 'echo request',
    code: 0,
    id: 16515,
    seq: 1,
    length: 64,
  });
  assert.equal(layer(packets[1], 'icmp').type, 'echo reply');
  assert.deepEqual(
    packets.map((p) => p.source),
    [1, 2, 3, 4, 5, 6],
  );
});

test('flannel-vxlan 01-podA-eth0.pcap: echo request with TTL 64 leaving the pod', () => {
  const { packets, issues } = decodePcap(read(join(NETNS, 'flannel-vxlan/01-podA-eth0.pcap')));
  assert.deepEqual(issues, []);
  assert.equal(packets.length, 6);
  assert.deepEqual(kinds(packets[0]), ['ethernet', 'ipv4', 'icmp']);
  const ip = layer(packets[0], 'ipv4');
  assert.equal(ip.ttl, 64);
  assert.equal(ip.src, '10.244.0.5');
  assert.equal(ip.length, 84);
  assert.equal(layer(packets[0], 'icmp').type, 'echo request');
});

/** The first packet's layer kinds and innermost IPv4 TTL at each hop, as captured. */
const HOPS: Record<string, { kinds: string; ttl: number; count: number }> = {
  'calico-bgp/01-podA-eth0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 64, count: 6 },
  'calico-bgp/02-nodeA-cali1f5c8e2a9b3.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 64, count: 6 },
  'calico-bgp/03-nodeA-eth0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 63, count: 6 },
  'calico-bgp/04-nodeB-eth0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 63, count: 6 },
  'calico-bgp/05-nodeB-cali7d04b6e1c52.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 62, count: 6 },
  'calico-bgp/06-podB-eth0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 62, count: 6 },
  'calico-bgp/bgp/nodeA-eth0.bgp.pcap': { kinds: 'ethernet,ipv4,tcp', ttl: 64, count: 15 },
  'calico-bgp/extra/underlay-br-spk.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 63, count: 6 },
  'flannel-host-gw/01-podA-eth0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 64, count: 6 },
  'flannel-host-gw/02-nodeA-cni0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 64, count: 6 },
  'flannel-host-gw/03-nodeA-eth0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 63, count: 6 },
  'flannel-host-gw/04-nodeB-eth0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 63, count: 6 },
  'flannel-host-gw/05-nodeB-cni0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 62, count: 6 },
  'flannel-host-gw/06-podB-eth0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 62, count: 6 },
  'flannel-host-gw/extra/nodeA-veth6f3d2a91.pcap': {
    kinds: 'ethernet,ipv4,icmp',
    ttl: 64,
    count: 6,
  },
  'flannel-host-gw/extra/nodeB-vethc81b4e07.pcap': {
    kinds: 'ethernet,ipv4,icmp',
    ttl: 62,
    count: 6,
  },
  'flannel-host-gw/extra/underlay-br-spk.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 63, count: 6 },
  'flannel-vxlan/01-podA-eth0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 64, count: 6 },
  'flannel-vxlan/02-nodeA-cni0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 64, count: 6 },
  'flannel-vxlan/03-nodeA-flannel.1.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 63, count: 6 },
  'flannel-vxlan/04-nodeA-eth0.pcap': {
    kinds: 'ethernet,ipv4,udp,vxlan,ethernet,ipv4,icmp',
    ttl: 63,
    count: 6,
  },
  'flannel-vxlan/05-nodeB-eth0.pcap': {
    kinds: 'ethernet,ipv4,udp,vxlan,ethernet,ipv4,icmp',
    ttl: 63,
    count: 6,
  },
  'flannel-vxlan/06-nodeB-flannel.1.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 63, count: 6 },
  'flannel-vxlan/07-nodeB-cni0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 62, count: 6 },
  'flannel-vxlan/08-podB-eth0.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 62, count: 6 },
  'flannel-vxlan/extra/nodeA-veth6f3d2a91.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 64, count: 6 },
  'flannel-vxlan/extra/nodeB-vethc81b4e07.pcap': { kinds: 'ethernet,ipv4,icmp', ttl: 62, count: 6 },
  'flannel-vxlan/extra/underlay-br-spk.pcap': {
    kinds: 'ethernet,ipv4,udp,vxlan,ethernet,ipv4,icmp',
    ttl: 63,
    count: 6,
  },
};

test('every netns pcap decodes with the expected layers, TTLs and no raw layers', () => {
  const files = findFiles(NETNS, '.pcap');
  assert.equal(files.length, Object.keys(HOPS).length, 'a netns pcap has no expectation here');
  for (const file of files) {
    const rel = file.slice(NETNS.length + 1);
    const want = HOPS[rel];
    assert.ok(want, `no expectation for ${rel}`);
    const { packets, issues } = decodePcap(read(file));
    assert.deepEqual(issues, [], rel);
    assert.equal(packets.length, want.count, rel);
    assert.equal(kinds(packets[0]).join(','), want.kinds, rel);
    const ips = packets[0]!.layers.filter((l) => l.kind === 'ipv4');
    assert.equal(ips.at(-1)!.kind === 'ipv4' && ips.at(-1)!.ttl, want.ttl, rel);
    let lastTs = 0;
    packets.forEach((p, i) => {
      assert.equal(p.source, i + 1, rel);
      assert.ok(p.ts! >= lastTs, `${rel}: timestamps go back`);
      lastTs = p.ts!;
      assert.ok(
        p.layers.every((l) => l.kind !== 'raw'),
        `${rel} #${i + 1}: ${JSON.stringify(p.layers)}`,
      );
    });
  }
});

/** `(tos 0x0, ttl 64, id 32789, offset 0, flags [none], proto UDP (17), length 134)` */
const TCPDUMP_IP =
  /\(tos 0x([0-9a-f]+), ttl (\d+), id (\d+), offset (\d+), flags \[([^\]]*)\], proto \S+ \((\d+)\), length (\d+)/g;

test('every netns pcap agrees with tcpdump -v on every IPv4 header', async (t) => {
  for (const file of findFiles(NETNS, '.pcap')) {
    let out: string;
    try {
      out = (await runTool(['tcpdump', '-nn', '-v', '-r', file])).stdout;
    } catch (err) {
      if (err instanceof ToolError && err.kind === 'not-found')
        return t.skip('tcpdump not installed');
      throw err;
    }
    const theirs = [...out.matchAll(TCPDUMP_IP)].map((m) => ({
      tos: parseInt(m[1]!, 16),
      ttl: Number(m[2]),
      id: Number(m[3]),
      df: m[5]!.includes('DF'),
      proto: Number(m[6]),
      length: Number(m[7]),
    }));
    const ours = decodePcap(read(file)).packets.flatMap((p) =>
      p.layers.flatMap((l) =>
        l.kind === 'ipv4'
          ? [{ tos: l.tos, ttl: l.ttl, id: l.id, df: l.df, proto: l.proto, length: l.length }]
          : [],
      ),
    );
    assert.ok(theirs.length > 0, file);
    assert.deepEqual(ours, theirs, file);
  }
});

test('every tcpdump-suite capture decodes to as many packets as tcpdump printed', () => {
  const rows = readFileSync(join(SUITE, 'manifest.tsv'), 'utf8').trim().split('\n').slice(1);
  let checked = 0;
  for (const row of rows) {
    const [, name, , , args, pcap, , , , , outPackets] = row.split('\t');
    // A BPF filter in the arguments selects fewer packets than the file holds.
    if ((args ?? '').split(/\s+/).some((a) => a !== '' && !a.startsWith('-'))) continue;
    const { packets } = decodePcap(read(join(SUITE, pcap!)));
    assert.equal(packets.length, Number(outPackets), `${name} (${pcap})`);
    checked++;
  }
  assert.ok(checked > 150, `only ${checked} cases checked`);
});

test('pcapng from the tcpdump suite: nhrp.pcapng (Ethernet, GRE)', () => {
  const { packets, issues } = decodePcap(read(join(SUITE, 'master/nhrp.pcapng')));
  assert.deepEqual(issues, []);
  assert.equal(packets.length, 25);
  const p = packets[0]!;
  assert.ok(Math.abs(p.ts! - 1657178391.987024) < 1e-6, `ts ${p.ts}`);
  assert.deepEqual(kinds(p), ['ethernet', 'ipv4', 'gre', 'raw']);
  const ip = layer(p, 'ipv4');
  assert.equal(ip.src, '100.1.2.27');
  assert.equal(ip.ttl, 255);
  assert.equal(ip.id, 123);
  assert.equal(ip.length, 128);
  assert.equal(ip.tos, 0xc0);
  assert.equal(layer(p, 'gre').proto, 0x2001);
});

test('every pcapng of the tcpdump suite decodes without a fatal issue', () => {
  const files = findFiles(SUITE, '.pcapng');
  assert.ok(files.length >= 4);
  for (const f of files) {
    const { packets, issues } = decodePcap(read(f));
    assert.ok(packets.length > 0, f);
    assert.ok(!issues.some((i) => i.fatal), `${f}: ${JSON.stringify(issues)}`);
  }
});

test('linux cooked v1 (mptcp-v1.pcap, linktype 113): IP and TCP flags as tcpdump prints them', () => {
  const { packets, issues } = decodePcap(read(join(SUITE, 'v4.99.3/mptcp-v1.pcap')));
  assert.deepEqual(issues, []);
  assert.equal(packets.length, 20);
  assert.deepEqual(kinds(packets[0]), ['ipv4', 'tcp']);
  assert.deepEqual(layer(packets[0], 'tcp'), {
    kind: 'tcp',
    srcPort: 33306,
    dstPort: 10004,
    flags: 'S',
    seq: 2180756989,
    win: 65535,
    length: 0,
  });
  const synAck = layer(packets[1], 'tcp');
  assert.equal(synAck.flags, 'S.');
  assert.equal(synAck.ack, 2180756990);
  assert.equal(layer(packets[0], 'ipv4').ttl, 64);
  assert.equal(layer(packets[0], 'ipv4').id, 44415);
});

test('linux cooked v2 (linktype 276) carries the protocol in its first field', () => {
  const eth = records(read(VXLAN_04)).recs[0]!.data;
  const sll2 = new Uint8Array(20 + eth.length - 14);
  sll2.set([0x08, 0x00], 0); // protocol IPv4
  sll2.set(eth.subarray(14), 20);
  assert.deepEqual(
    decodeFrame(276, sll2).map((l) => l.kind),
    ['ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'icmp'],
  );
});

test('IPNET (226) and PPP (9) frames open to the IP packet inside', () => {
  const ip = records(read(VXLAN_04)).recs[0]!.data.subarray(14);
  const ipnet = new Uint8Array(24 + ip.length);
  ipnet.set([1, 2], 0); // version 1, family IPv4
  ipnet.set(ip, 24);
  assert.deepEqual(
    decodeFrame(226, ipnet).map((l) => l.kind),
    ['ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'icmp'],
  );
  ipnet[1] = 99;
  assert.deepEqual(decodeFrame(226, ipnet), [
    { kind: 'raw', text: `ipnet family 99, ${ip.length} bytes` },
  ]);
  const e1000g = decodePcap(read(join(SUITE, 'v4.99.3/e1000g.pcap')));
  assert.deepEqual(kinds(e1000g.packets[0]), ['ipv4', 'icmp']);
  // PPP with address/control and a two-byte protocol, and with a compressed one.
  const hdlc = new Uint8Array(4 + ip.length);
  hdlc.set([0xff, 0x03, 0x00, 0x21], 0);
  hdlc.set(ip, 4);
  assert.equal(decodeFrame(9, hdlc)[0]!.kind, 'ipv4');
  const compressed = new Uint8Array(1 + ip.length);
  compressed[0] = 0x21;
  compressed.set(ip, 1);
  assert.equal(decodeFrame(9, compressed)[0]!.kind, 'ipv4');
  assert.deepEqual(decodeFrame(9, new Uint8Array([0xc0, 0x21, 1, 2])), [
    { kind: 'raw', text: 'ppp protocol 0xc021, 2 bytes' },
  ]);
});

test('raw IP link types: LINKTYPE_RAW (101), LINKTYPE_IPV4 (228), LINKTYPE_IPV6 (229)', () => {
  const v4 = decodePcap(read(join(SUITE, 'master/LINKTYPE_RAW_ipv4.pcap')));
  assert.deepEqual(v4.issues, []);
  assert.equal(v4.packets[0]!.layers[0]!.kind, 'ipv4');
  const v6 = decodePcap(read(join(SUITE, 'master/LINKTYPE_RAW_ipv6.pcap')));
  assert.equal(v6.packets[0]!.layers[0]!.kind, 'ipv6');
  assert.equal(
    decodePcap(read(join(SUITE, 'master/LINKTYPE_IPV4.pcap'))).packets[0]!.layers[0]!.kind,
    'ipv4',
  );
  const ip6 = decodePcap(read(join(SUITE, 'master/LINKTYPE_IPV6.pcap'))).packets[0]!;
  assert.equal(ip6.layers[0]!.kind, 'ipv6');
  // A v6 packet under the v4-only link type is not forced into IPv4.
  const bad = decodePcap(read(join(SUITE, 'master/LINKTYPE_IPV4_invalid.pcap'))).packets[0]!;
  assert.deepEqual(kinds(bad), ['raw']);
});

test('IPv6 router advertisement with compressed addresses (icmpv6.pcap)', () => {
  const { packets } = decodePcap(read(join(SUITE, 'v4.99.3/icmpv6.pcap')));
  const p = packets[0]!;
  assert.deepEqual(layer(p, 'ipv6'), {
    kind: 'ipv6',
    src: 'fe80::b299:28ff:fec8:d66c',
    dst: 'ff02::1',
    hopLimit: 255,
    length: 176,
    nextHeader: 58,
  });
  assert.deepEqual(layer(p, 'icmp6'), {
    kind: 'icmp6',
    type: 'router advertisement',
    code: 0,
    length: 176,
  });
});

test('QinQ (802.1ad) and ARP', () => {
  const { packets } = decodePcap(read(join(SUITE, 'master/802.1ad_QinQ.pcap')));
  assert.deepEqual(kinds(packets[0]), ['ethernet', 'vlan', 'vlan', 'arp']);
  assert.equal(layer(packets[0], 'ethernet').ethertype, 0x88a8);
  assert.deepEqual(
    packets[0]!.layers.filter((l) => l.kind === 'vlan'),
    [
      { kind: 'vlan', id: 200 },
      { kind: 'vlan', id: 2001 },
    ],
  );
  assert.deepEqual(layer(packets[0], 'arp'), {
    kind: 'arp',
    op: 'request',
    senderIp: '172.21.79.97',
    senderMac: '00:20:d2:5a:fb:3f',
    targetIp: '172.21.79.100',
    targetMac: '00:00:00:00:00:00',
  });
  assert.equal(layer(packets[1], 'arp').op, 'reply');
});

test('DNS over UDP (NFLOG link type) and over TCP with its length prefix', () => {
  const nflog = decodePcap(read(join(SUITE, 'v4.99.3/nflog.pcap'))).packets[0]!;
  assert.deepEqual(kinds(nflog), ['ipv4', 'udp', 'dns']);
  assert.deepEqual(layer(nflog, 'dns'), {
    kind: 'dns',
    id: 17265,
    response: true,
    questions: 1,
    answers: 1,
  });
  const tcp = decodePcap(read(join(SUITE, 'v4.99.3/dns_tcp.pcap'))).packets;
  const withDns = tcp.filter((p) => p.layers.some((l) => l.kind === 'dns'));
  assert.ok(withDns.length >= 2);
  assert.deepEqual(kinds(withDns[0]), ['ethernet', 'ipv4', 'tcp', 'dns']);
  assert.equal(layer(withDns[0], 'dns').response, false);
  assert.equal(layer(withDns[1], 'dns').response, true);
});

test('Geneve and VXLAN (4789) from the tcpdump suite follow into the inner frame', () => {
  const geneve = decodePcap(read(join(SUITE, 'v4.99.3/geneve.pcap'))).packets;
  const g = geneve.find((p) => p.layers.some((l) => l.kind === 'geneve'));
  assert.ok(g);
  assert.ok(kinds(g).indexOf('geneve') < kinds(g).lastIndexOf('ipv4'), kinds(g).join(','));
  const vxlan = decodePcap(read(join(SUITE, 'v4.99.3/vxlan.pcap'))).packets[0]!;
  assert.deepEqual(kinds(vxlan).slice(0, 5), ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet']);
  assert.equal(layer(vxlan, 'udp').dstPort, 4789);
  assert.equal(layer(vxlan, 'vxlan').vni, 100);
});

test('TCP flags in tcpdump order, including all eight (print-flags.pcap, tcp_eight_lowest…)', () => {
  const all = decodePcap(read(join(SUITE, 'master/tcp_eight_lowest_weight_flags_set.pcap')));
  assert.equal(layer(all.packets[0], 'tcp').flags, 'FSRP.UEW');
  const flags = decodePcap(read(join(SUITE, 'v4.99.3/print-flags.pcap'))).packets.map(
    (p) => layer(p, 'tcp').flags,
  );
  assert.ok(flags.includes('S.') && flags.includes('P.') && flags.includes('F.'), flags.join(' '));
});

// ---- container variants built from a real capture ------------------------------------------

test('big-endian and nanosecond pcaps decode to the same packets', () => {
  const base = decodePcap(read(VXLAN_04));
  const { recs } = records(read(VXLAN_04));
  for (const little of [true, false]) {
    for (const nano of [false, true]) {
      const { packets, issues } = decodePcap(writePcap(recs, { little, nano }));
      assert.deepEqual(issues, [], `little ${little} nano ${nano}`);
      assert.equal(packets.length, 6);
      packets.forEach((p, i) => {
        const want = base.packets[i]!;
        assert.deepEqual(p.layers, want.layers);
        assert.equal(p.frameLength, want.frameLength);
        const extra = nano ? 7e-9 : 0;
        assert.ok(Math.abs(p.ts! - (want.ts! + extra)) < 1e-7, `${p.ts} vs ${want.ts}`);
      });
    }
  }
});

test('pcapng in both byte orders: two interfaces, if_tsresol, EPB, SPB, unknown blocks skipped', () => {
  const { recs } = records(read(VXLAN_04));
  const base = decodePcap(read(VXLAN_04)).packets;
  for (const le of [true, false]) {
    const r0 = recs[0]!;
    const r1 = recs[1]!;
    const ns = BigInt(r0.sec) * 1_000_000_000n + BigInt(r0.frac) * 1000n + 5n;
    const file = concat([
      ngShb(le),
      ngIdb(1, undefined, le), // Ethernet, default microseconds
      ngBlock(0x0bad, new Uint8Array([1, 2, 3, 4, 5]), le), // unknown: skipped
      ngIdb(101, 9, le), // raw IP, nanoseconds
      ngEpb(0, BigInt(r1.sec) * 1_000_000n + BigInt(r1.frac), r1.data, r1.orig, le),
      ngEpb(1, ns, r0.data.subarray(14), r0.orig - 14, le),
      ngSpb(r0.data, le),
    ]);
    assert.equal(isPcapMagic(file), 'pcapng');
    const decoder = createPcapDecoder({ packet: () => undefined });
    decoder.push(file.subarray(0, 28 + 20)); // SHB + the first IDB
    assert.equal(decoder.linktype, 1);
    const { packets, issues } = decodePcap(file);
    assert.deepEqual(issues, [], `le ${le}`);
    assert.equal(packets.length, 3);
    assert.deepEqual(packets[0]!.layers, base[1]!.layers);
    assert.ok(Math.abs(packets[0]!.ts! - base[1]!.ts!) < 1e-6);
    assert.deepEqual(packets[1]!.layers, base[0]!.layers.slice(1));
    assert.ok(Math.abs(packets[1]!.ts! - (base[0]!.ts! + 5e-9)) < 1e-6);
    assert.equal(packets[1]!.frameLength, 134);
    assert.deepEqual(packets[2]!.layers, base[0]!.layers);
    assert.equal(packets[2]!.ts, undefined, 'a simple packet block has no timestamp');
    assert.deepEqual(
      packets.map((p) => p.source),
      [1, 2, 3],
    );
  }
});

test('streaming: any chunk size gives the same packets as one push', () => {
  const bytes = read(VXLAN_04);
  const whole = decodePcap(bytes).packets;
  const ng = read(join(SUITE, 'master/nhrp.pcapng'));
  const wholeNg = decodePcap(ng).packets;
  for (const size of [1, 3, 16, 17, 100, 4096]) {
    for (const [input, want] of [
      [bytes, whole],
      [ng, wholeNg],
    ] as const) {
      const got: Packet[] = [];
      const issues: CaptureIssue[] = [];
      const d = createPcapDecoder({ packet: (p) => got.push(p), issue: (i) => issues.push(i) });
      for (let o = 0; o < input.length; o += size) d.push(input.slice(o, o + size));
      d.end();
      assert.deepEqual(issues, [], `chunk ${size}`);
      assert.deepEqual(got, want, `chunk ${size}`);
    }
  }
});

test('a file cut mid-record keeps the packets before it and ends with a fatal issue', () => {
  const bytes = read(VXLAN_04);
  // 24-byte header + 3 records of 16 + 148 bytes, then half of the 4th.
  const cut = bytes.subarray(0, 24 + 3 * 164 + 80);
  const { packets, issues } = decodePcap(cut);
  assert.equal(packets.length, 3);
  assert.equal(issues.length, 1);
  const issue = issues[0]!;
  assert.equal(issue.fatal, true);
  assert.equal(issue.at, 4);
  assert.match(issue.message, /record 4 at byte offset 516 is truncated: 80 of 164 bytes/);
  // Cut inside a record header.
  const inHeader = decodePcap(bytes.subarray(0, 24 + 164 + 5));
  assert.equal(inHeader.packets.length, 1);
  assert.match(inHeader.issues[0]!.message, /record 2 at byte offset 188 is truncated/);
  // Cut pcapng.
  const ng = read(join(SUITE, 'master/nhrp.pcapng'));
  const ngCut = decodePcap(ng.subarray(0, ng.length - 10));
  assert.equal(ngCut.packets.length, 24);
  assert.equal(ngCut.issues[0]!.fatal, true);
  assert.match(ngCut.issues[0]!.message, /truncated/);
});

test('a corrupt record length ends decoding with a fatal issue naming the record and offset', () => {
  const bytes = read(VXLAN_04).slice();
  new DataView(bytes.buffer).setUint32(24 + 2 * 164 + 8, 0x7fffffff, true); // record 3 caplen
  const { packets, issues } = decodePcap(bytes);
  assert.equal(packets.length, 2);
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.fatal, true);
  assert.equal(issues[0]!.at, 3);
  assert.match(issues[0]!.message, /record 3 at byte offset 352 is corrupt/);
});

test('garbage never throws: random bytes, not-a-pcap, empty input, damaged frames', () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 24;
  };
  const text = new TextEncoder().encode(
    '05:03:13.918169 IP 10.0.0.1 > 10.0.0.2: ICMP echo request\n',
  );
  const notPcap = decodePcap(text);
  assert.equal(notPcap.packets.length, 0);
  assert.equal(notPcap.issues[0]!.fatal, true);
  assert.match(notPcap.issues[0]!.message, /not a pcap or pcapng file/);
  assert.match(decodePcap(new Uint8Array(0)).issues[0]!.message, /empty file/);
  // Random bytes after a valid header, and random frames under every link type.
  const header = read(VXLAN_04).subarray(0, 24);
  for (let round = 0; round < 200; round++) {
    const body = new Uint8Array(200 + (round % 50));
    for (let i = 0; i < body.length; i++) body[i] = rnd();
    assert.doesNotThrow(() => decodePcap(concat([header, body])));
    for (const lt of [0, 1, 9, 50, 101, 108, 113, 226, 228, 229, 239, 276, 9999]) {
      const layers = decodeFrame(lt, body.subarray(0, round % 120));
      assert.ok(Array.isArray(layers));
    }
  }
  // Every prefix and every single-byte corruption of a real capture.
  const real = read(VXLAN_04);
  for (let n = 0; n < real.length; n += 7)
    assert.doesNotThrow(() => decodePcap(real.subarray(0, n)));
  for (let i = 24; i < real.length; i += 3) {
    const copy = real.slice();
    copy[i] = copy[i]! ^ 0xff;
    assert.doesNotThrow(() => decodePcap(copy));
  }
});

test('a frame too short for its headers becomes raw, after what could be read', () => {
  const eth = records(read(VXLAN_04)).recs[0]!.data;
  assert.deepEqual(decodeFrame(1, eth.subarray(0, 10)), [
    { kind: 'raw', text: 'truncated ethernet header, 10 bytes' },
  ]);
  const cut = decodeFrame(1, eth.subarray(0, 14 + 20 + 4));
  assert.deepEqual(
    cut.map((l) => l.kind),
    ['ethernet', 'ipv4', 'raw'],
  );
  assert.deepEqual(
    decodeFrame(1, eth.subarray(0, 14 + 20 + 8 + 4)).map((l) => l.kind),
    ['ethernet', 'ipv4', 'udp', 'raw'],
  );
  const lldp = new Uint8Array(60);
  lldp.set([0x88, 0xcc], 12);
  assert.deepEqual(decodeFrame(1, lldp)[1], { kind: 'raw', text: 'ethertype 0x88cc, 46 bytes' });
  assert.deepEqual(decodeFrame(9999, lldp), [{ kind: 'raw', text: 'linktype 9999, 60 bytes' }]);
});

test('isPcapMagic', () => {
  assert.equal(isPcapMagic(read(VXLAN_04)), 'pcap');
  assert.equal(isPcapMagic(new Uint8Array([0xa1, 0xb2, 0xc3, 0xd4])), 'pcap');
  assert.equal(isPcapMagic(new Uint8Array([0xa1, 0xb2, 0x3c, 0x4d])), 'pcap');
  assert.equal(isPcapMagic(new Uint8Array([0x4d, 0x3c, 0xb2, 0xa1])), 'pcap');
  assert.equal(isPcapMagic(read(join(SUITE, 'master/nhrp.pcapng'))), 'pcapng');
  assert.equal(isPcapMagic(new TextEncoder().encode('05:03:13.918169 IP')), null);
  assert.equal(isPcapMagic(new Uint8Array([0xd4, 0xc3])), null);
});

test('ICMP errors quote the datagram they are about, with the next-hop MTU', () => {
  const { packets } = decodePcap(
    read(join(__dirname, '../fixtures/decoder-gaps/icmp-errors.pcap')),
  );
  const frag = layer(packets[1], 'icmp');
  assert.equal(frag.mtu, 1450);
  assert.deepEqual(
    frag.quoted?.map((l) => l.kind),
    ['ipv4', 'icmp'],
  );
  assert.equal((frag.quoted?.[1] as { id?: number }).id, 16330);
  // The error's own header stays the innermost one.
  assert.deepEqual(kinds(packets[1]), ['ethernet', 'ipv4', 'icmp']);
  const tooBig = packets
    .map((p) => p.layers.find((l) => l.kind === 'icmp6' && l.type === 'packet too big'))
    .find((l) => l);
  assert.equal(tooBig?.kind === 'icmp6' ? tooBig.mtu : 0, 1450);
  // A quote cut after 8 bytes of TCP keeps the ports and sequence number.
  const ip = new Uint8Array([
    0x45,
    0,
    0,
    56,
    0,
    1,
    0,
    0,
    64,
    1,
    0,
    0,
    10,
    0,
    0,
    2,
    10,
    0,
    0,
    1, // ICMP from 10.0.0.2
    3,
    3,
    0,
    0,
    0,
    0,
    0,
    0, // port unreachable
    0x45,
    0,
    0,
    60,
    0,
    2,
    0x40,
    0,
    64,
    6,
    0,
    0,
    10,
    0,
    0,
    1,
    10,
    0,
    0,
    3, // quoted TCP SYN
    0x30,
    0x39,
    0,
    80,
    0,
    0,
    0,
    7,
  ]);
  const quoted = decodeFrame(101, ip)[1];
  assert.deepEqual(quoted?.kind === 'icmp' ? quoted.quoted?.[1] : undefined, {
    kind: 'tcp',
    srcPort: 12345,
    dstPort: 80,
    seq: 7,
  });
});

test('GRE payloads: IPv4, IPv6, Ethernet (0x6558), ERSPAN II and III; NSH over VXLAN-GPE', () => {
  const { packets } = decodePcap(
    read(join(__dirname, '../fixtures/decoder-gaps/gre-tunnels.pcap')),
  );
  assert.deepEqual(
    packets.map((p) => kinds(p).slice(1).join('/')),
    [
      'ipv4/gre/ipv4/icmp',
      'ipv4/gre/ipv6/icmp6',
      'ipv4/gre/ethernet/ipv4/icmp',
      'ipv4/gre/erspan/ethernet/ipv4/icmp',
      'ipv4/gre/erspan/ethernet/ipv4/icmp',
      'ipv6/gre/ipv4/icmp',
    ],
  );
  assert.equal(layer(packets[0], 'gre').key, 42);
  assert.deepEqual(layer(packets[3], 'erspan'), { kind: 'erspan', type: 2, sessionId: 7 });
  assert.deepEqual(layer(packets[4], 'erspan'), { kind: 'erspan', type: 3, sessionId: 9 });
  const nsh = decodePcap(read(join(SUITE, 'v4.99.3/nsh-over-vxlan-gpe.pcap'))).packets[0];
  assert.deepEqual(kinds(nsh), ['ethernet', 'ipv4', 'udp', 'vxlan', 'nsh', 'ipv4', 'udp']);
  assert.deepEqual(layer(nsh, 'nsh'), { kind: 'nsh', spi: 0xffffff, si: 255, nextProtocol: 1 });
});

test('the frame decoder keeps no module-level mutable state: caches belong to a FrameDecoder', () => {
  const src = readFileSync(join(__dirname, '../../src/core/packets/frameDecoder.ts'), 'utf8');
  // Top-level declarations only (column 0): no `let`, no Map/Set/array a call could grow.
  const topLevel = src.split('\n').filter((l) => /^(let|var|const) /.test(l));
  assert.deepEqual(
    topLevel.filter(
      (l) => /^(let|var) /.test(l) || /new (Map|Set)\b|: [A-Za-z]+\[\] = \[\]/.test(l),
    ),
    [],
  );
  // Two decoders over the same frame agree, whatever each has seen before.
  const frame = records(read(VXLAN_04)).recs[0]!.data;
  const a = new FrameDecoder();
  const b = new FrameDecoder();
  const fromA: Layer[] = [];
  const fromB: Layer[] = [];
  for (let i = 0; i < 5000; i++) a.decodeLinkInto(1, frame, 0, frame.length, []);
  a.decodeLinkInto(1, frame, 0, frame.length, fromA);
  b.decodeLinkInto(1, frame, 0, frame.length, fromB);
  assert.deepEqual(fromA, fromB);
  assert.deepEqual(fromA, decodeFrame(1, frame));
});
