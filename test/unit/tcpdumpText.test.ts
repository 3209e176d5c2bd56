import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createTcpdumpTextParser, parseTcpdumpText } from '../../src/core/packets/tcpdumpText';
import type { Layer, Packet } from '../../src/core/packets/model';
import { decodePcap } from '../../src/core/packets/pcapDecoder';

const NETNS = join(__dirname, '..', 'fixtures', 'netns');
const SUITE = join(__dirname, '..', 'fixtures', 'tcpdump-tests', 'v4.99.3');

/** tcpdump text captures in the netns fixtures (not ping/iperf3 logs, commands, state dumps). */
function captureTexts(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'state') walk(path);
      } else if (
        name.endsWith('.txt') &&
        (/^\d\d-/.test(name) || basename(dir) === 'extra' || basename(dir) === 'bgp')
      ) {
        out.push(path);
      }
    }
  };
  walk(NETNS);
  return out;
}

function kinds(p: Packet): string[] {
  return p.layers.map((l) => l.kind);
}

function layer<K extends Layer['kind']>(p: Packet, kind: K, nth = 0): Extract<Layer, { kind: K }> {
  const found = p.layers.filter((l) => l.kind === kind);
  const l = found[nth];
  assert.ok(l, `no ${kind} layer #${nth} in ${JSON.stringify(p)}`);
  return l as Extract<Layer, { kind: K }>;
}

function isRawPacket(p: Packet): boolean {
  return p.layers.length === 1 && p.layers[0]!.kind === 'raw';
}

function parse(text: string): ReturnType<typeof parseTcpdumpText> {
  return parseTcpdumpText(text);
}

test('every netns text capture parses cleanly, with the trailer’s packet count', () => {
  const files = captureTexts();
  assert.ok(files.length >= 80, `found only ${files.length} capture texts`);
  let packets = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const r = parse(text);
    const name = f.slice(NETNS.length + 1);
    assert.deepEqual(r.issues, [], `${name}: issues`);
    assert.equal(r.packets.filter(isRawPacket).length, 0, `${name}: raw packets`);
    const trailer = /^(\d+) packets? captured/m.exec(text);
    assert.ok(trailer, `${name}: no trailer`);
    assert.equal(r.packets.length, Number(trailer[1]), `${name}: packet count`);
    for (const p of r.packets) {
      assert.equal(typeof p.ts, 'number', `${name}: time stamp`);
      assert.ok(p.layers.length > 0, `${name}: layers`);
      for (const l of p.layers) {
        if (l.kind === 'ipv4' || l.kind === 'ipv6') assert.ok(l.src && l.dst, `${name}: address`);
      }
    }
    packets += r.packets.length;
  }
  assert.ok(packets > 250, `only ${packets} packets`);
});

test('flannel VXLAN -v: outer and inner headers, OTV as vxlan', () => {
  const r = parse(readFileSync(join(NETNS, 'flannel-vxlan', '04-nodeA-eth0.txt'), 'utf8'));
  const p = r.packets[0]!;
  assert.deepEqual(kinds(p), ['ipv4', 'udp', 'vxlan', 'ipv4', 'icmp']);
  assert.equal(p.ts, 5 * 3600 + 3 * 60 + 13.918169);
  assert.equal(p.source, 2);
  assert.deepEqual(p.layers[0], {
    kind: 'ipv4',
    src: '172.18.0.5',
    dst: '172.18.0.6',
    ttl: 64,
    id: 31391,
    length: 134,
    proto: 17,
    df: false,
    tos: 0,
  });
  assert.deepEqual(p.layers[1], { kind: 'udp', srcPort: 49890, dstPort: 8472 });
  assert.deepEqual(p.layers[2], { kind: 'vxlan', vni: 1, flags: 8 });
  const inner = layer(p, 'ipv4', 1);
  assert.equal(inner.ttl, 63);
  assert.equal(inner.length, 84);
  assert.equal(inner.df, true);
  assert.deepEqual(p.layers[4], {
    kind: 'icmp',
    type: 'echo request',
    id: 16149,
    seq: 1,
    length: 64,
  });
  assert.equal(layer(r.packets[1]!, 'icmp').type, 'echo reply');
  assert.equal(layer(r.packets[2]!, 'icmp').seq, 2);
});

test('flannel VXLAN -e -v: outer and inner Ethernet with MACs and frame length', () => {
  const r = parse(readFileSync(join(NETNS, 'flannel-vxlan', '04-nodeA-eth0.e.txt'), 'utf8'));
  const p = r.packets[0]!;
  assert.deepEqual(kinds(p), ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'icmp']);
  assert.deepEqual(p.layers[0], {
    kind: 'ethernet',
    src: '02:42:ac:12:00:05',
    dst: '02:42:ac:12:00:06',
    ethertype: 0x0800,
  });
  assert.deepEqual(p.layers[4], {
    kind: 'ethernet',
    src: 'b2:8f:4e:6a:1d:c3',
    dst: '3e:a5:91:07:bc:22',
    ethertype: 0x0800,
  });
  assert.equal(p.frameLength, 148);
  assert.equal(layer(p, 'ipv4', 1).ttl, 63);
});

test('flannel VXLAN without -v: no TTL invented, proto implied', () => {
  const r = parse(
    readFileSync(join(NETNS, 'flannel-vxlan', '04-nodeA-eth0.nonverbose.txt'), 'utf8'),
  );
  assert.equal(r.packets.length, 3);
  const p = r.packets[0]!;
  assert.deepEqual(kinds(p), ['ipv4', 'udp', 'vxlan', 'ipv4', 'icmp']);
  assert.deepEqual(p.layers[0], { kind: 'ipv4', src: '172.18.0.5', dst: '172.18.0.6', proto: 17 });
  assert.deepEqual(p.layers[3], { kind: 'ipv4', src: '10.244.0.5', dst: '10.244.1.4', proto: 1 });
});

test('ARP round: requests and replies', () => {
  const r = parse(readFileSync(join(NETNS, 'flannel-vxlan', '04-nodeA-eth0.arp.txt'), 'utf8'));
  assert.deepEqual(kinds(r.packets[0]!), ['ethernet', 'arp']);
  assert.deepEqual(r.packets[0]!.layers[1], {
    kind: 'arp',
    op: 'request',
    senderIp: '172.18.0.5',
    targetIp: '172.18.0.6',
  });
  assert.deepEqual(r.packets[1]!.layers[1], {
    kind: 'arp',
    op: 'reply',
    senderIp: '172.18.0.6',
    senderMac: '02:42:ac:12:00:06',
  });
  // the OTV packets here are -e without -v: inner frame on the next line
  assert.deepEqual(kinds(r.packets[2]!), [
    'ethernet',
    'ipv4',
    'udp',
    'vxlan',
    'ethernet',
    'ipv4',
    'icmp',
  ]);
});

test('Calico BGP -v: TCP with flags, absolute seq/ack, BGP detail kept in its packet', () => {
  const text = readFileSync(join(NETNS, 'calico-bgp', 'bgp', 'nodeA-eth0.bgp.txt'), 'utf8');
  const r = parse(text);
  assert.equal(r.packets.length, 15);
  const syn = layer(r.packets[0]!, 'tcp');
  assert.deepEqual(syn, {
    kind: 'tcp',
    srcPort: 53589,
    dstPort: 179,
    flags: 'S',
    seq: 2048444124,
    win: 64240,
    length: 0,
  });
  const synAck = layer(r.packets[1]!, 'tcp');
  assert.equal(synAck.flags, 'S.');
  assert.equal(synAck.seq, 3291918682);
  assert.equal(synAck.ack, 2048444125);
  // `ack 1` is relative to the SYN-ACK's sequence number
  const ack = layer(r.packets[2]!, 'tcp');
  assert.equal(ack.flags, '.');
  assert.equal(ack.ack, 3291918683);
  assert.equal(ack.seq, undefined);
  // `seq 1:64 … length 63: BGP` followed by indented Open message detail
  const open = layer(r.packets[3]!, 'tcp');
  assert.equal(open.flags, 'P.');
  assert.equal(open.seq, 2048444125);
  assert.equal(open.length, 63);
  assert.equal(open.win, 63);
  assert.deepEqual(kinds(r.packets[3]!), ['ipv4', 'tcp']);
  assert.equal(r.packets[4]!.source, 27);
  assert.equal(layer(r.packets[3]!, 'ipv4').tos, 0xc0);
});

test('TCP through VXLAN (-v, 4 lines a packet)', () => {
  const r = parse(readFileSync(join(NETNS, 'flannel-vxlan', '04-nodeA-eth0.tcp.txt'), 'utf8'));
  assert.deepEqual(kinds(r.packets[0]!), ['ipv4', 'udp', 'vxlan', 'ipv4', 'tcp']);
  const t = layer(r.packets[1]!, 'tcp');
  assert.deepEqual(t, {
    kind: 'tcp',
    srcPort: 5201,
    dstPort: 48850,
    flags: 'S.',
    seq: 1086169413,
    ack: 2908342015,
    win: 64308,
    length: 0,
  });
  assert.equal(layer(r.packets[2]!, 'tcp').ack, 1086169414);
});

test('IPIP, non-verbose and -v', () => {
  const plain = parse(
    '22:13:20.123456 IP 192.168.10.101 > 192.168.10.102: IP 10.244.1.5 > 10.244.2.7: ICMP echo request, id 4660, seq 1, length 64',
  );
  assert.deepEqual(kinds(plain.packets[0]!), ['ipv4', 'ipip', 'ipv4', 'icmp']);
  assert.deepEqual(plain.packets[0]!.layers[0], {
    kind: 'ipv4',
    src: '192.168.10.101',
    dst: '192.168.10.102',
    proto: 4,
  });
  assert.equal(layer(plain.packets[0]!, 'icmp').id, 4660);

  const verbose = parse(
    [
      '22:13:20.123456 IP (tos 0x0, ttl 64, id 5, offset 0, flags [none], proto IPIP (4), length 104)',
      '    192.168.10.101 > 192.168.10.102: IP (tos 0x0, ttl 63, id 777, offset 0, flags [DF], proto ICMP (1), length 84)',
      '    10.244.1.5 > 10.244.2.7: ICMP echo request, id 4660, seq 1, length 64',
    ].join('\n'),
  );
  assert.equal(verbose.packets.length, 1);
  const p = verbose.packets[0]!;
  assert.deepEqual(kinds(p), ['ipv4', 'ipip', 'ipv4', 'icmp']);
  assert.equal(layer(p, 'ipv4', 0).proto, 4);
  assert.equal(layer(p, 'ipv4', 0).length, 104);
  assert.equal(layer(p, 'ipv4', 1).ttl, 63);
  assert.equal(layer(p, 'ipv4', 1).src, '10.244.1.5');

  const e = parse(
    '2023-11-14 22:13:20.123456 02:42:ac:12:00:05 > 02:42:ac:12:00:06, ethertype IPv4 (0x0800), length 118: 192.168.10.101 > 192.168.10.102: 10.244.1.5 > 10.244.2.7: ICMP echo request, id 4660, seq 1, length 64',
  );
  assert.deepEqual(kinds(e.packets[0]!), ['ethernet', 'ipv4', 'ipip', 'ipv4', 'icmp']);
  assert.equal(e.packets[0]!.ts, Date.UTC(2023, 10, 14, 22, 13, 20) / 1000 + 0.123456);
});

test('VXLAN 4789, Geneve and GRE, one-line and multi-line', () => {
  const r = parse(
    [
      '22:13:21.123456 IP 172.18.0.5.40000 > 172.18.0.6.4789: VXLAN, flags [I] (0x08), vni 4096',
      'IP 10.244.1.5 > 10.244.2.7: ICMP echo request, id 4660, seq 1, length 64',
      '22:13:22.123456 IP 192.168.10.101 > 192.168.10.102: GREv0, length 88: IP 10.244.1.5 > 10.244.2.7: ICMP echo request, id 4660, seq 1, length 64',
      '22:13:34.123456 IP 172.18.0.5.40000 > 172.18.0.6.6081: Geneve, Flags [none], vni 0xa: IP 10.244.1.5 > 10.244.2.7: ICMP echo request, id 4660, seq 1, length 64',
      '22:13:22.123456 IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto GRE (47), length 108)',
      '    192.168.10.101 > 192.168.10.102: GREv0, Flags [none], length 88',
      '\tIP (tos 0x0, ttl 63, id 777, offset 0, flags [DF], proto ICMP (1), length 84)',
      '    10.244.1.5 > 10.244.2.7: ICMP echo request, id 4660, seq 1, length 64',
      '22:13:33.123456 02:42:ac:12:00:05 > 02:42:ac:12:00:06, ethertype IPv4 (0x0800), length 136: 192.168.10.101 > 192.168.10.102: GREv0, proto TEB (0x6558), length 102: 11:22:33:44:55:66 > 66:77:88:99:aa:bb, ethertype IPv4 (0x0800), length 98: 10.244.1.5 > 10.244.2.7: ICMP echo request, id 4660, seq 1, length 64',
    ].join('\n'),
  );
  assert.equal(r.packets.length, 5);
  assert.deepEqual(kinds(r.packets[0]!), ['ipv4', 'udp', 'vxlan', 'ipv4', 'icmp']);
  assert.deepEqual(layer(r.packets[0]!, 'vxlan'), { kind: 'vxlan', vni: 4096, flags: 8 });
  assert.deepEqual(kinds(r.packets[1]!), ['ipv4', 'gre', 'ipv4', 'icmp']);
  assert.equal(layer(r.packets[1]!, 'ipv4').proto, 47);
  assert.deepEqual(kinds(r.packets[2]!), ['ipv4', 'udp', 'geneve', 'ipv4', 'icmp']);
  assert.equal(layer(r.packets[2]!, 'geneve').vni, 10);
  assert.deepEqual(kinds(r.packets[3]!), ['ipv4', 'gre', 'ipv4', 'icmp']);
  assert.equal(layer(r.packets[3]!, 'ipv4', 1).ttl, 63);
  assert.deepEqual(kinds(r.packets[4]!), ['ethernet', 'ipv4', 'gre', 'ethernet', 'ipv4', 'icmp']);
  assert.equal(layer(r.packets[4]!, 'gre').proto, 0x6558);
});

test('DNS over UDP and TCP', () => {
  const r = parse(
    [
      '    1  09:19:54.740079 IP (tos 0x0, ttl 64, id 22989, offset 0, flags [none], proto UDP (17), length 84)',
      '    192.168.1.11.43966 > 209.87.249.18.53: [udp sum ok] 22836+ [1au] A? www.tcpdump.org. ar: . OPT UDPsize=4096 [COOKIE 42f5d00996f90b13] (56)',
      '    2  09:19:54.870361 IP (tos 0x0, ttl 128, id 45, offset 0, flags [none], proto UDP (17), length 252)',
      '    209.87.249.18.53 > 192.168.1.11.43966: [udp sum ok] 22836*- q: A? www.tcpdump.org. 2/2/5 www.tcpdump.org. [1m] A 192.139.46.66 (224)',
      '    3  09:21:03.847323 IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [P.], seq 1:59, ack 1, win 64240, length 58 17177+ [1au] A? www.tcpdump.org. (56)',
      '    4  09:21:03.973180 IP 209.87.249.18.53 > 192.168.1.11.33779: Flags [P.], seq 1:227, ack 59, win 64240, length 226 17177*- 2/2/5 A 192.139.46.66, A 198.199.88.104 (224)',
      '    5  22:13:27.123456 IP 10.96.0.10.53 > 10.0.0.1.33333: 4242 NXDomain 0/1/0 (86)',
    ].join('\n'),
  );
  assert.equal(r.packets.length, 5);
  assert.deepEqual(kinds(r.packets[0]!), ['ipv4', 'udp', 'dns']);
  assert.deepEqual(layer(r.packets[0]!, 'dns'), {
    kind: 'dns',
    id: 22836,
    response: false,
    questions: 1,
    answers: 0,
  });
  assert.equal(layer(r.packets[0]!, 'udp').length, 56);
  assert.deepEqual(layer(r.packets[1]!, 'dns'), {
    kind: 'dns',
    id: 22836,
    response: true,
    questions: 1,
    answers: 2,
  });
  assert.deepEqual(kinds(r.packets[2]!), ['ipv4', 'tcp', 'dns']);
  assert.equal(layer(r.packets[2]!, 'tcp').length, 58);
  assert.equal(layer(r.packets[2]!, 'dns').response, false);
  assert.equal(layer(r.packets[3]!, 'dns').answers, 2);
  assert.deepEqual(layer(r.packets[4]!, 'dns'), {
    kind: 'dns',
    id: 4242,
    response: true,
    questions: 1,
    answers: 0,
  });
});

test('ICMP errors: type names and codes as tcpdump words them', () => {
  const r = parse(
    [
      '22:13:28.123456 IP 10.0.0.2 > 10.0.0.1: ICMP 10.0.0.2 udp port 53 unreachable, length 40',
      '22:13:29.123456 IP 10.0.0.254 > 10.0.0.1: ICMP time exceeded in-transit, length 40',
      '22:13:30.123456 IP 10.0.0.254 > 10.0.0.1: ICMP 10.0.0.2 unreachable - need to frag (mtu 1450), length 40',
      '22:13:31.123456 IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto ICMP (1), length 60)',
      '    10.0.0.254 > 10.0.0.1: ICMP host 10.0.0.2 unreachable, length 40',
      '\tIP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto UDP (17), length 32)',
      '    10.0.0.1.1234 > 10.0.0.2.53: domain [length 4 < 12] (invalid)',
    ].join('\n'),
  );
  assert.equal(r.packets.length, 4);
  assert.deepEqual(r.packets[0]!.layers[1], {
    kind: 'icmp',
    type: 'unreachable',
    code: 3,
    length: 40,
  });
  assert.deepEqual(r.packets[1]!.layers[1], {
    kind: 'icmp',
    type: 'time exceeded',
    code: 0,
    length: 40,
  });
  assert.equal(layer(r.packets[2]!, 'icmp').code, 4);
  // the quoted packet after an ICMP error is detail, not layers
  assert.deepEqual(kinds(r.packets[3]!), ['ipv4', 'icmp']);
  assert.equal(layer(r.packets[3]!, 'icmp').code, 1);
});

test('IPv6: verbose and plain, ICMP6 and transports', () => {
  const r = parse(
    [
      '12:26:12.631155 IP6 (hlim 255, next-header ICMPv6 (58) payload length: 176) fe80::b299:28ff:fec8:d66c > ff02::1: [icmp6 sum ok] ICMP6, router advertisement, length 176',
      '\thop limit 64, Flags [home agent], pref medium, router lifetime 15s, reachable time 0ms, retrans timer 0ms',
      '22:13:23.123456 IP6 fd00::1 > fd00::2: ICMP6, echo request, id 42, seq 7, length 64',
      '22:13:24.123456 IP6 fd00::1.40000 > fd00::2.80: Flags [S], seq 1000, win 64240, length 0',
      '22:13:36.123456 IP6 fd00::1.1000 > fd00::2.2000: UDP, length 3',
      '04:54:07.748985 IP6 (hlim 1, next-header Options (0) payload length: 36) fe80::215:17ff:fecc:e546 > ff02::16: HBH (rtalert: 0x0000) (padn) [icmp6 sum ok] ICMP6, multicast listener report v2, 1 group record(s) [gaddr ff02::db8:1122:3344 to_ex { }]',
    ].join('\n'),
  );
  assert.equal(r.packets.length, 5);
  assert.deepEqual(r.packets[0]!.layers, [
    {
      kind: 'ipv6',
      src: 'fe80::b299:28ff:fec8:d66c',
      dst: 'ff02::1',
      hopLimit: 255,
      nextHeader: 58,
      length: 176,
    },
    { kind: 'icmp6', type: 'router advertisement', length: 176 },
  ]);
  assert.deepEqual(r.packets[1]!.layers[1], {
    kind: 'icmp6',
    type: 'echo request',
    id: 42,
    seq: 7,
    length: 64,
  });
  assert.deepEqual(kinds(r.packets[2]!), ['ipv6', 'tcp']);
  assert.equal(layer(r.packets[2]!, 'ipv6').src, 'fd00::1');
  assert.equal(layer(r.packets[2]!, 'tcp').dstPort, 80);
  assert.deepEqual(r.packets[3]!.layers[1], {
    kind: 'udp',
    srcPort: 1000,
    dstPort: 2000,
    length: 3,
  });
  assert.equal(layer(r.packets[4]!, 'ipv6').nextHeader, 0);
  assert.equal(layer(r.packets[4]!, 'icmp6').type, 'multicast listener report v2');
});

test('VLAN and QinQ with -e', () => {
  const r = parse(
    [
      '22:13:25.123456 02:42:ac:12:00:05 > 02:42:ac:12:00:06, ethertype 802.1Q (0x8100), length 58: vlan 100, p 0, ethertype IPv4 (0x0800), 10.0.0.1.1234 > 10.0.0.2.5678: UDP, length 12',
      '22:13:32.123456 02:42:ac:12:00:05 > 02:42:ac:12:00:06, ethertype 802.1Q-QinQ (0x88a8), length 106: vlan 10, p 0, ethertype 802.1Q (0x8100), vlan 20, p 0, ethertype IPv4 (0x0800), (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto ICMP (1), length 84)',
      '    10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64',
      '    1  15:55:17.641254 00:08:5d:23:0c:3f > ff:ff:ff:ff:ff:ff, ethertype 802.1Q-QinQ (0x88a8), length 64: vlan 200, p 0, ethertype ARP (0x0806), Ethernet (len 6), IPv4 (len 4), Request who-has 172.17.0.2 tell 172.17.0.20, length 46',
    ].join('\n'),
  );
  assert.equal(r.packets.length, 3);
  assert.deepEqual(kinds(r.packets[0]!), ['ethernet', 'vlan', 'ipv4', 'udp']);
  assert.equal(layer(r.packets[0]!, 'ethernet').ethertype, 0x8100);
  assert.equal(layer(r.packets[0]!, 'vlan').id, 100);
  assert.equal(r.packets[0]!.frameLength, 58);
  assert.deepEqual(kinds(r.packets[1]!), ['ethernet', 'vlan', 'vlan', 'ipv4', 'icmp']);
  assert.equal(layer(r.packets[1]!, 'vlan', 1).id, 20);
  assert.equal(layer(r.packets[1]!, 'ipv4').ttl, 64);
  assert.deepEqual(kinds(r.packets[2]!), ['ethernet', 'vlan', 'arp']);
  assert.equal(layer(r.packets[2]!, 'arp').targetIp, '172.17.0.2');
});

test('time stamp styles: -t, -tt, -ttt, -tttt, nanoseconds, -# numbers', () => {
  // Each line is a capture of its own: a capture's first stamp decides how its
  // clock stamps read (see the -ttt/-ttttt test below).
  const lines = [
    'IP 10.244.0.5 > 10.244.1.4: ICMP echo request, id 1, seq 1, length 64',
    'IP 10.244.1.4 > 10.244.0.5: ICMP echo reply, id 1, seq 1, length 64',
    '1795237402.813130 IP 10.244.0.5 > 10.244.1.4: ICMP echo request, id 1, seq 2, length 64',
    ' 00:00:00.000086 IP 10.244.1.4 > 10.244.0.5: ICMP echo reply, id 1, seq 2, length 64',
    '2026-11-21 05:03:22.813130000 IP 10.244.0.5 > 10.244.1.4: ICMP echo request, id 1, seq 3, length 64',
    '    7  20:21:44.837063 IP 10.244.0.5 > 10.244.1.4: ICMP echo request, id 1, seq 4, length 64',
    '   12  IP 10.244.0.5 > 10.244.1.4: ICMP echo request, id 1, seq 5, length 64',
    '05:27:12.808464432 IP 10.244.0.5 > 10.244.1.4: ICMP echo request, id 1, seq 6, length 64\r',
  ];
  const parts = lines.map((l) => parse(l));
  const r = {
    packets: parts.flatMap((x) => x.packets),
    issues: parts.flatMap((x) => x.issues),
  };
  assert.deepEqual(r.issues, []);
  assert.deepEqual(
    r.packets.map((p) => p.tsKind),
    [undefined, undefined, 'epoch', 'since-first', 'date', 'time-of-day', undefined, 'time-of-day'],
  );
  assert.equal(r.packets.length, 8);
  assert.equal(r.packets[0]!.ts, undefined);
  assert.equal(r.packets[1]!.ts, undefined);
  assert.equal(r.packets[2]!.ts, 1795237402.81313);
  assert.equal(r.packets[3]!.ts, 0.000086);
  assert.equal(r.packets[4]!.ts, Date.UTC(2026, 10, 21, 5, 3, 22) / 1000 + 0.81313);
  assert.equal(r.packets[5]!.ts, 20 * 3600 + 21 * 60 + 44.837063);
  assert.equal(r.packets[6]!.ts, undefined);
  assert.equal(layer(r.packets[6]!, 'icmp').seq, 5);
  assert.equal(r.packets[7]!.ts, 5 * 3600 + 27 * 60 + 12.808464432);
  assert.deepEqual(
    r.packets.map((p) => layer(p, 'icmp').seq),
    [1, 1, 2, 2, 3, 4, 5, 6],
  );
});

test('kubectl debug noise, banners, trailers and pasted text without indentation', () => {
  const text = [
    '--profile=legacy is deprecated and will be removed in the future. It is recommended to explicitly specify a profile, for example "--profile=general".',
    'Defaulting debug container name to debugger-sthg8.',
    'All commands and output from this session will be recorded in container logs, including credentials and sensitive information passed through the command prompt.',
    "If you don't see a command prompt, try pressing enter.",
    'Unable to use a TTY - input is not a terminal or the right kind of file',
    'tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
    '3 packets captured',
    '4 packets received by filter',
    '0 packets dropped by kernel',
    '03:29:30.550964 IP (tos 0x0, ttl 64, id 58278, offset 0, flags [none], proto UDP (17), length 134)',
    '172.18.0.6.46295 > 172.18.0.5.8472: OTV, flags [I] (0x08), overlay 0, instance 1',
    'IP (tos 0x0, ttl 63, id 41702, offset 0, flags [DF], proto ICMP (1), length 84)',
    '10.244.6.7 > 10.244.3.7: ICMP echo request, id 26, seq 266, length 64',
    '',
    '03:33:59.643009 IP 10.244.6.7 > 10.244.3.7: ICMP echo request, id 26, seq 535, length 64',
    '05:44:06.254964 lo    In  IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id 11671, seq 1, length 64',
    '05:44:06.254964 lo    In  ifindex 1 00:00:00:00:00:00 ethertype IPv4 (0x0800), length 104: 127.0.0.1 > 127.0.0.1: ICMP echo reply, id 11671, seq 1, length 64',
  ].join('\n');
  const r = parse(text);
  assert.deepEqual(r.issues, []);
  assert.equal(r.packets.length, 4);
  assert.deepEqual(kinds(r.packets[0]!), ['ipv4', 'udp', 'vxlan', 'ipv4', 'icmp']);
  assert.equal(layer(r.packets[0]!, 'ipv4', 1).ttl, 63);
  assert.equal(layer(r.packets[0]!, 'icmp').seq, 266);
  assert.deepEqual(kinds(r.packets[2]!), ['ipv4', 'icmp']);
  assert.deepEqual(kinds(r.packets[3]!), ['ipv4', 'icmp']);
  assert.equal(r.packets[3]!.frameLength, 104);
});

test('hex and ASCII dumps belong to their packet', () => {
  const r = parse(
    [
      '05:03:22.813130 IP 172.18.0.5.49890 > 172.18.0.6.8472: OTV, flags [I] (0x08), overlay 0, instance 1',
      'IP 10.244.0.5 > 10.244.1.4: ICMP echo request, id 16515, seq 1, length 64',
      '\t0x0000:  4500 0086 8015 0000 4011 a222 ac12 0005  E.......@.."....',
      '\t0x0010:  ac12 0006 c2e2 2118 0072 58b3 0800 0000  ......!..rX.....',
      '    1  03:57:35.938066 IP 127.0.0.1.55920 > 127.0.0.1.80: Flags [S], seq 928549246, win 32767, options [mss 16396,sackOK,TS val 1306300950 ecr 0,nop,wscale 2], length 0',
      'E..<.h@.@.!R.........p.P7X.~.........!....@....',
      'M...........',
      '    2  03:57:35.939423 IP 127.0.0.1.55920 > 127.0.0.1.80: Flags [P.], seq 1:203, ack 1, win 8192, length 202: HTTP: GET / HTTP/1.1',
      'Host: localhost',
      'IP is not a header here',
    ].join('\n'),
  );
  assert.deepEqual(r.issues, []);
  assert.equal(r.packets.length, 3);
  assert.deepEqual(kinds(r.packets[0]!), ['ipv4', 'udp', 'vxlan', 'ipv4', 'icmp']);
  assert.deepEqual(kinds(r.packets[2]!), ['ipv4', 'tcp']);
});

test('partly understood lines keep a raw tail; unreadable lines become raw packets with issues', () => {
  const r = parse(
    [
      'this is not tcpdump output',
      '22:13:38.123456 IP 10.0.0.1 > 224.0.0.5: OSPFv2, Hello, length 44',
      '09:45:02.038883 STP 802.1d, Config, Flags [none], bridge-id 8001.aa:bb:cc:00:03:00.8002, length 35',
      '15:08:45.963239 IP 192.168.0.9.37123 > 97.34.1.224.8472: OTV, flags [I] (0x9d), overlay 12124160,  [|otv]',
      '05:27:12.808464 IP 48.48.48.48.12336 > 48.48.48.48.12336:  [|tcp]',
      '22:15:47.244689  [|arp]',
    ].join('\n'),
  );
  assert.equal(r.packets.length, 6);
  assert.deepEqual(r.packets[0]!.layers, [{ kind: 'raw', text: 'this is not tcpdump output' }]);
  assert.equal(r.packets[0]!.source, 1);
  assert.deepEqual(r.issues, [{ at: 1, message: 'line not understood' }]);
  assert.deepEqual(r.packets[1]!.layers, [
    { kind: 'ipv4', src: '10.0.0.1', dst: '224.0.0.5' },
    { kind: 'raw', text: 'OSPFv2, Hello, length 44' },
  ]);
  assert.equal(r.packets[1]!.source, 2);
  assert.deepEqual(kinds(r.packets[2]!), ['raw']);
  assert.equal(r.packets[2]!.ts, 9 * 3600 + 45 * 60 + 2.038883);
  assert.deepEqual(kinds(r.packets[3]!), ['ipv4', 'udp', 'raw']);
  assert.deepEqual(kinds(r.packets[4]!).slice(0, 1), ['ipv4']);
});

test('streaming: one packet held at a time, emitted when the next starts', () => {
  const seen: Packet[] = [];
  const parser = createTcpdumpTextParser({ packet: (p) => seen.push(p) });
  parser.push(
    '05:03:13.918169 IP (tos 0x0, ttl 64, id 31391, offset 0, flags [none], proto UDP (17), length 134)',
  );
  parser.push(
    '    172.18.0.5.49890 > 172.18.0.6.8472: OTV, flags [I] (0x08), overlay 0, instance 1',
  );
  parser.push('IP (tos 0x0, ttl 63, id 41988, offset 0, flags [DF], proto ICMP (1), length 84)');
  assert.equal(seen.length, 0);
  parser.push('    10.244.0.5 > 10.244.1.4: ICMP echo request, id 16149, seq 1, length 64');
  parser.push(
    '05:03:13.918272 IP 10.244.1.4 > 10.244.0.5: ICMP echo reply, id 16149, seq 1, length 64',
  );
  assert.equal(seen.length, 1);
  assert.deepEqual(kinds(seen[0]!), ['ipv4', 'udp', 'vxlan', 'ipv4', 'icmp']);
  parser.end();
  assert.equal(seen.length, 2);
});

/** A small deterministic PRNG so a failing fuzz case can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

test('fuzz: random, truncated and spliced lines never throw', () => {
  const corpus = captureTexts()
    .slice(0, 40)
    .flatMap((f) => readFileSync(f, 'utf8').split('\n'));
  for (const f of readdirSync(SUITE)
    .filter((n) => n.endsWith('.out'))
    .slice(0, 30)) {
    corpus.push(...readFileSync(join(SUITE, f), 'utf8').split('\n').slice(0, 40));
  }
  const rand = rng(12345);
  const alphabet = ' \t0123456789abcdef:.>()[],-|!#IPARPxyzSFUDPICMP6\r';
  let packets = 0;
  let raw = 0;
  let issues = 0;
  const parser = createTcpdumpTextParser({
    packet: (p) => {
      packets++;
      if (isRawPacket(p)) raw++;
      assert.ok(Array.isArray(p.layers));
    },
    issue: () => issues++,
  });
  for (let i = 0; i < 20000; i++) {
    const base = corpus[Math.floor(rand() * corpus.length)] ?? '';
    const mode = Math.floor(rand() * 5);
    let line: string;
    if (mode === 0) line = base.slice(0, Math.floor(rand() * (base.length + 1)));
    else if (mode === 1) line = base.slice(Math.floor(rand() * (base.length + 1)));
    else if (mode === 2) {
      line = '';
      const n = Math.floor(rand() * 80);
      for (let k = 0; k < n; k++) line += alphabet[Math.floor(rand() * alphabet.length)];
    } else if (mode === 3) {
      const at = Math.floor(rand() * (base.length + 1));
      const other = corpus[Math.floor(rand() * corpus.length)] ?? '';
      line = base.slice(0, at) + other.slice(Math.floor(rand() * (other.length + 1)));
    } else line = base;
    assert.doesNotThrow(() => parser.push(line), line);
  }
  parser.end();
  assert.ok(packets > 1000);
  // stamped lines never read become raw packets quietly; unstamped ones also raise an issue
  assert.ok(raw > 0 && issues > 0 && issues <= raw, `raw ${raw}, issues ${issues}`);
});

test("tcpdump's own expected outputs (v4.99.3) parse, one packet per -# number", () => {
  const manifest = readFileSync(join(SUITE, '..', 'manifest.tsv'), 'utf8').split('\n');
  const header = manifest[0]!.split('\t');
  const col = (name: string): number => header.indexOf(name);
  let files = 0;
  let packets = 0;
  let rawPackets = 0;
  for (const row of manifest.slice(1)) {
    const f = row.split('\t');
    if (f[col('set')] !== 'v4.99.3') continue;
    const out = f[col('expected_out')]!;
    const text = readFileSync(join(SUITE, '..', out), 'utf8');
    const r = parse(text);
    const numbers = text.split('\n').filter((l) => /^\s*\d+ {2}/.test(l)).length;
    assert.equal(r.packets.length, numbers, `${out}: packets`);
    assert.equal(r.packets.length, Number(f[col('out_packets')]), `${out}: manifest count`);
    rawPackets += r.packets.filter(isRawPacket).length;
    if (f[col('kind')] === 'normal-traffic' && f[col('linktype')] === '1') {
      const understood = r.packets.filter((p) => p.layers.some((l) => l.kind !== 'raw')).length;
      assert.ok(understood > 0, `${out}: nothing understood`);
    }
    files++;
    packets += r.packets.length;
  }
  assert.ok(files >= 80, `only ${files} cases`);
  assert.ok(packets > 3000);
  assert.ok(rawPackets < packets / 10, `${rawPackets} of ${packets} packets raw`);
});

test('TCP sequence numbers: relative ones made absolute, -S output left alone', () => {
  const handshake = (ack3: string, seq4: string): Packet[] =>
    parse(
      [
        '09:21:03.720289 IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [S], seq 603899916, win 64240, length 0',
        '09:21:03.846908 IP 209.87.249.18.53 > 192.168.1.11.33779: Flags [S.], seq 2043824403, ack 603899917, win 64240, length 0',
        `09:21:03.847060 IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [.], ack ${ack3}, win 64240, length 0`,
        `09:21:03.847323 IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [P.], seq ${seq4}, ack ${ack3}, win 64240, length 58`,
      ].join('\n'),
    ).packets;
  for (const packets of [handshake('1', '1:59'), handshake('2043824404', '603899917:603899975')]) {
    assert.equal(layer(packets[2]!, 'tcp').ack, 2043824404);
    assert.equal(layer(packets[3]!, 'tcp').seq, 603899917);
    assert.equal(layer(packets[3]!, 'tcp').length, 58);
  }
});

test('link headers: Linux cooked (-e), names instead of numbers (no -n)', () => {
  const r = parse(
    [
      '08:00:00.000001 In 00:16:3e:37:f6:04 ethertype IPv4 (0x0800), length 100: 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64',
      '08:00:00.000002 Out 00:16:3e:37:f6:04 ethertype IPv6 (0x86dd), length 80: fd00::1.40000 > fd00::2.80: Flags [S], seq 1000, win 64240, length 0',
      '09:21:03.720289 IP 192.168.1.11.33779 > 209.87.249.18.domain: Flags [S], seq 603899916, win 64240, length 0',
      '09:21:03.720289 IP web-0.web.default.svc.cluster.local.https > 10.0.0.9.40000: Flags [R], seq 1, win 0, length 0',
    ].join('\n'),
  );
  assert.deepEqual(r.issues, []);
  assert.deepEqual(kinds(r.packets[0]!), ['ipv4', 'icmp']);
  assert.equal(r.packets[0]!.frameLength, 100);
  assert.deepEqual(kinds(r.packets[1]!), ['ipv6', 'tcp']);
  assert.equal(layer(r.packets[2]!, 'tcp').dstPort, 53);
  assert.equal(layer(r.packets[2]!, 'ipv4').dst, '209.87.249.18');
  assert.equal(layer(r.packets[3]!, 'ipv4').src, 'web-0.web.default.svc.cluster.local');
  assert.equal(layer(r.packets[3]!, 'tcp').srcPort, 443);
});

test('ICMP errors: next-hop MTU, and with -v the quoted datagram under the error', () => {
  const text = [
    '    2  07:52:14.331682 IP (tos 0xc0, ttl 64, id 21138, offset 0, flags [none], proto ICMP (1), length 576)',
    '    10.81.0.2 > 10.81.0.1: ICMP 10.82.0.1 unreachable - need to frag (mtu 1450), length 556',
    '\tIP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto ICMP (1), length 1500)',
    '    10.81.0.1 > 10.82.0.1: ICMP echo request, id 16330, seq 1, length 1480',
    '    3  07:52:14.372130 IP 10.81.0.2 > 10.81.0.1: ICMP time exceeded in-transit, length 92',
    '    4  07:52:15.003069 IP6 fd81::2 > fd81::1: ICMP6, packet too big, mtu 1450, length 1240',
  ].join('\n');
  const { packets, issues } = parseTcpdumpText(text);
  assert.deepEqual(issues, []);
  assert.equal(packets.length, 3);
  const frag = layer(packets[0]!, 'icmp');
  assert.equal(frag.type, 'unreachable');
  assert.equal(frag.code, 4);
  assert.equal(frag.mtu, 1450);
  assert.deepEqual(frag.quoted, [
    {
      kind: 'ipv4',
      src: '10.81.0.1',
      dst: '10.82.0.1',
      ttl: 64,
      id: 0,
      length: 1500,
      proto: 1,
      df: true,
      tos: 0,
    },
    { kind: 'icmp', type: 'echo request', id: 16330, seq: 1, length: 1480 },
  ]);
  // The packet's own innermost header stays the error's, not the quoted one.
  assert.deepEqual(kinds(packets[0]!), ['ipv4', 'icmp']);
  assert.equal(layer(packets[1]!, 'icmp').quoted, undefined);
  assert.equal(layer(packets[2]!, 'icmp6').mtu, 1450);
});

test('with -t, a margin line after an ICMP error is the next packet, not its quote', () => {
  const text = [
    'IP 10.81.0.2 > 10.81.0.1: ICMP time exceeded in-transit, length 92',
    'IP 10.81.0.1 > 10.82.0.1: ICMP echo request, id 16331, seq 2, length 64',
  ].join('\n');
  const { packets } = parseTcpdumpText(text);
  assert.equal(packets.length, 2);
  assert.equal(layer(packets[0]!, 'icmp').quoted, undefined);
  assert.equal(layer(packets[1]!, 'icmp').seq, 2);
});

test('GRE key, and NSH over VXLAN-GPE on one line and over -vv lines', () => {
  const gre = parseTcpdumpText(
    '    1  12:00:00.000000 IP 10.81.0.1 > 10.82.0.1: GREv0, key=0x2a, length 90: IP 10.90.1.1 > 10.90.1.2: ICMP echo request, id 4660, seq 1, length 62',
  ).packets[0]!;
  assert.deepEqual(layer(gre, 'gre'), { kind: 'gre', key: 42 });
  assert.deepEqual(kinds(gre), ['ipv4', 'gre', 'ipv4', 'icmp']);
  for (const name of ['nsh-over-vxlan-gpe.out', 'nsh-over-vxlan-gpe-vvv.out']) {
    const { packets } = parseTcpdumpText(readFileSync(join(SUITE, name), 'utf8'));
    assert.equal(packets.length, 1, name);
    const p = packets[0]!;
    assert.deepEqual(kinds(p), ['ipv4', 'udp', 'vxlan', 'nsh', 'ipv4', 'udp'], name);
    assert.equal(layer(p, 'vxlan').gpe, true);
    assert.equal(layer(p, 'nsh').spi, 0xffffff);
    assert.equal(layer(p, 'nsh').si, 0xff);
    assert.equal(layer(p, 'udp', 1).dstPort, 20000);
  }
});

test('time stamps are read for what they are: -tt, -ttt, -tttt, -ttttt and the default', () => {
  const dir = join(__dirname, '..', 'fixtures', 'decoder-gaps');
  const pcap = decodePcap(new Uint8Array(readFileSync(join(dir, 'icmp-errors.pcap')))).packets;
  const first = pcap[0]!.ts!;
  const micros = (v: number | undefined): number => Math.round((v ?? NaN) * 1e6);
  const cases: [string, string, (ts: number) => number][] = [
    ['icmp-errors.out', 'time-of-day', (ts) => ts % 86400],
    ['icmp-errors-tt.out', 'epoch', (ts) => ts],
    ['icmp-errors-tttt.out', 'date', (ts) => ts],
    ['icmp-errors-ttt.out', 'delta', (ts) => ts - first],
    ['icmp-errors-ttt-unnumbered.out', 'delta', (ts) => ts - first],
    ['icmp-errors-ttttt.out', 'since-first', (ts) => ts - first],
  ];
  for (const [file, kind, expect] of cases) {
    const text = readFileSync(join(dir, file), 'utf8');
    const variants = [text];
    // Pasted text often loses its leading spaces (the sign column of deltas with it).
    if (file.includes('unnumbered')) variants.push(text.replace(/^ /gm, ''));
    for (const variant of variants) {
      const { packets } = parseTcpdumpText(variant);
      assert.equal(packets.length, pcap.length, file);
      packets.forEach((p, i) => {
        assert.equal(p.tsKind, kind, `${file} #${i + 1}`);
        assert.ok(
          Math.abs(micros(p.ts) - micros(expect(pcap[i]!.ts!))) <= 1,
          `${file} #${i + 1}: ${p.ts} vs ${expect(pcap[i]!.ts!)}`,
        );
      });
    }
  }
  // A capture that starts just after midnight is still a time of day.
  const night = parseTcpdumpText(
    '00:00:01.500000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64',
  );
  assert.equal(night.packets[0]!.tsKind, 'time-of-day');
  assert.equal(night.packets[0]!.ts, 1.5);
  // A few -ttttt stamps that never go down are read as since the first packet.
  const few = parseTcpdumpText(
    [
      ' 00:00:00.000000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64',
      ' 00:00:01.000100 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 64',
      ' 00:00:02.000200 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 3, length 64',
    ].join('\n'),
  ).packets;
  assert.deepEqual(
    few.map((p) => [p.tsKind, p.ts]),
    [
      ['since-first', 0],
      ['since-first', 1.0001],
      ['since-first', 2.0002],
    ],
  );
  // Once a delta goes down the capture is -ttt: earlier packets are summed too.
  const ttt = parseTcpdumpText(
    [
      ' 00:00:00.000000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64',
      ' 00:00:01.000000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 64',
      ' 00:00:01.000000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 3, length 64',
      ' 00:00:00.500000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 4, length 64',
    ].join('\n'),
  ).packets;
  assert.deepEqual(
    ttt.map((p) => [p.tsKind, p.ts]),
    [
      ['delta', 0],
      ['delta', 1],
      ['delta', 2],
      ['delta', 2.5],
    ],
  );
});

test('commentary glued to a command, prompts and ping output are noise, never packets', () => {
  // Seed 001 §7 as pasted: a step's commentary glued to its command, then the capture.
  const text = [
    '6. 在主机 1 上的 POD 中 ping 主机 2 POD 的 IP$ kubectl exec -it test-7999578869-k4bn8 -- sh',
    '/ # ping 10.244.1.34 -c2',
    'PING 10.244.1.34 (10.244.1.34): 56 data bytes',
    '64 bytes from 10.244.1.34: seq=0 ttl=62 time=0.657 ms',
    '--- 10.244.1.34 ping statistics ---',
    '2 packets transmitted, 2 packets received, 0% packet loss',
    'round-trip min/avg/max = 0.657/0.758/0.859 ms',
    '7. 查看第 5 步骤的输出$ sudo tcpdump -nei ens33 port 8472',
    'tcpdump: verbose output suppressed, use -v or -vv for full protocol decode',
    'listening on ens33, link-type EN10MB (Ethernet), capture size 262144 bytes',
    '19:59:38.867705 00:0c:29:10:a9:6c > 00:0c:29:2f:33:85, ethertype IPv4 (0x0800), length 148: 10.1.10.9.36389 > 10.1.10.10.8472: OTV, flags [I] (0x08), overlay 0, instance 1',
    '16:e0:b5:75:8c:4b > 0e:46:36:ac:f6:d6, ethertype IPv4 (0x0800), length 98: 10.244.0.12 > 10.244.1.34: ICMP echo request, id 8448, seq 0, length 64',
    '19:59:38.867967 00:0c:29:2f:33:85 > 00:0c:29:10:a9:6c, ethertype IPv4 (0x0800), length 148: 10.1.10.10.58430 > 10.1.10.9.8472: OTV, flags [I] (0x08), overlay 0, instance 1',
    '0e:46:36:ac:f6:d6 > 16:e0:b5:75:8c:4b, ethertype IPv4 (0x0800), length 98: 10.244.1.34 > 10.244.0.12: ICMP echo reply, id 8448, seq 0, length 64',
    '^C',
    '$',
    '[root@ubuntu2204 ~]#',
    'sudo tcpdump -nei cni0 icmp',
  ].join('\n');
  const { packets, issues, noise } = parseTcpdumpText(text);
  assert.deepEqual(issues, []);
  assert.equal(packets.length, 2);
  for (const p of packets) {
    assert.deepEqual(kinds(p), ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'icmp']);
  }
  // Every line that is not a packet is kept, verbatim, as noise.
  const kept = noise.map((n) => n.text);
  assert.ok(kept.includes('7. 查看第 5 步骤的输出$ sudo tcpdump -nei ens33 port 8472'));
  assert.ok(kept.includes('/ # ping 10.244.1.34 -c2'));
  assert.ok(kept.includes('$'));
  assert.ok(kept.includes('[root@ubuntu2204 ~]#'));
  assert.ok(kept.includes('64 bytes from 10.244.1.34: seq=0 ttl=62 time=0.657 ms'));
  assert.equal(noise.find((n) => n.text.startsWith('7. '))?.at, 8);
  assert.equal(noise.length + 4, text.split('\n').length, 'each line is a packet line or noise');
});

test('with -t, unknown protocol lines stay raw packets: only commentary is noise', () => {
  const { packets, noise } = parseTcpdumpText(
    [
      'STP 802.1d, Config, Flags [none], bridge-id 8001.aa:bb:cc:00:03:00.8002, length 42',
      '三个接口都可以抓取到数据包',
      'IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64',
    ].join('\n'),
  );
  assert.deepEqual(
    packets.map((p) => p.layers[0]!.kind),
    ['raw', 'ipv4'],
  );
  assert.deepEqual(
    noise.map((n) => n.text),
    ['三个接口都可以抓取到数据包'],
  );
});
