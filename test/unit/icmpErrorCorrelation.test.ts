// ICMP errors tied to the probe by the datagram they quote: the recorded Flannel VXLAN MTU
// lab (pcaps and the -e -v text tcpdump wrote beside them) and hand-built packets for the
// cases the lab does not produce (an error about the probe's flow only, an unrelated one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeHops } from '../../src/core/hops/analyzeHops';
import { icmpErrorMeaning } from '../../src/core/hops/icmpErrors';
import { HopRecords } from '../../src/core/hops/hopRecords';
import { decodePcap } from '../../src/core/packets/pcapDecoder';
import { parseTcpdumpText } from '../../src/core/packets/tcpdumpText';
import type { HopCapture, HopIcmpError } from '../../src/core/hops/types';
import type { Layer, Packet } from '../../src/core/packets/model';

const DIR = join(__dirname, '..', 'fixtures', 'faults', 'flannel-vxlan--mtu-mismatch');

const FRAG_NEEDED: HopIcmpError = {
  family: 'icmp',
  type: 'unreachable',
  code: 4,
  from: '10.244.0.1',
  to: '10.244.0.5',
  mtu: 1450,
  meaning: 'fragmentation needed, next-hop MTU 1450',
  about: 'packet',
  quoted: '10.244.0.5 → 10.244.1.4',
  count: 1,
};

function pcapHops(): HopCapture[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.pcap$/, ''),
      packets: decodePcap(new Uint8Array(readFileSync(join(DIR, f)))).packets,
    }));
}

test('MTU lab (pcap): the "fragmentation needed" node A sent is tied to the large probe where it was captured', () => {
  const report = analyzeHops(pcapHops());
  const [podA, cni0, flannel] = report.hops;
  // The capture holds the probe and the error: 2 packets, yet one probe request.
  assert.equal(podA?.packets, 2);
  assert.equal(podA?.probesSeen, 1);
  assert.deepEqual(podA?.icmpErrors, [FRAG_NEEDED]);
  assert.deepEqual(cni0?.icmpErrors, [FRAG_NEEDED]);
  assert.equal(flannel?.seen, false);
  assert.equal(flannel?.icmpErrors, undefined);
  assert.equal(report.firstMissingHop, '03-nodeA-flannel.1');
  assert.ok(
    report.findings.includes(
      'At 01-podA-eth0 the probe was answered by ICMP unreachable code 4 from 10.244.0.1: fragmentation needed, next-hop MTU 1450.',
    ),
    report.findings.join('\n'),
  );
  // The error is the probe's answer, not a packet "of the same flow" at a later hop.
  assert.ok(!report.findings.some((f) => /packets? of the same flow/.test(f)));
  // Additive in --json: a hop without errors has no icmpErrors key at all.
  assert.ok(!('icmpErrors' in JSON.parse(JSON.stringify(report.hops[2]))));
});

test('MTU lab (tcpdump -e -v text): the same error, read from the quoted lines under it', () => {
  const hops: HopCapture[] = readdirSync(join(DIR, 'text'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.txt$/, ''),
      packets: parseTcpdumpText(readFileSync(join(DIR, 'text', f), 'utf8')).packets,
    }));
  const report = analyzeHops(hops);
  assert.deepEqual(report.hops[0]?.icmpErrors, [FRAG_NEEDED]);
  assert.deepEqual(report.hops[1]?.icmpErrors, [FRAG_NEEDED]);
  assert.equal(report.firstMissingHop, '03-nodeA-flannel.1');
});

const A = '10.244.0.5';
const B = '10.244.1.4';

function echo(seq: number, id = 7): Layer[] {
  return [
    { kind: 'ipv4', src: A, dst: B, ttl: 64, id: seq, length: 84 },
    { kind: 'icmp', type: 'echo request', code: 0, id, seq, length: 64 },
  ];
}

function error(from: string, quoted: Layer[], type = 'time exceeded', code = 0): Packet {
  return {
    ts: 100,
    layers: [
      { kind: 'ipv4', src: from, dst: A, ttl: 64, length: 112 },
      { kind: 'icmp', type, code, quoted },
    ],
  };
}

test('an error quoting a probe packet is "packet", one quoting only its flow is "flow", others are not tied', () => {
  const first: HopCapture = {
    name: '01-podA-eth0',
    packets: [
      { ts: 1, layers: echo(1) },
      { ts: 2, layers: echo(2) },
      // About seq 1: the probe itself, twice (counted once, count 2).
      error('172.18.0.1', echo(1)),
      error('172.18.0.1', echo(1)),
      // About seq 9: the same ping (id 7), not a probe packet seen here.
      error('172.18.0.1', echo(9)),
      // About another ping (id 8) between the same pods: not the probe's.
      error('172.18.0.1', echo(3, 8)),
      // About a UDP datagram to B: not the probe's either.
      error(
        '10.244.0.1',
        [
          { kind: 'ipv4', src: A, dst: B, ttl: 64, length: 40 },
          { kind: 'udp', srcPort: 5000, dstPort: 53 },
        ],
        'unreachable',
        3,
      ),
    ],
  };
  const report = analyzeHops([first]);
  const errors = report.hops[0]?.icmpErrors ?? [];
  assert.deepEqual(
    errors.map((e) => [e.about, e.count, e.from, e.meaning]),
    [
      ['packet', 2, '172.18.0.1', 'TTL exceeded in transit (a routing loop, or the TTL ran out)'],
      ['flow', 1, '172.18.0.1', 'TTL exceeded in transit (a routing loop, or the TTL ran out)'],
    ],
  );
  const sentence = report.findings.find((f) => f.startsWith('At 01-podA-eth0'));
  assert.equal(
    sentence,
    "At 01-podA-eth0 the probe was answered by ICMP time exceeded from 172.18.0.1 (2 times): TTL exceeded in transit (a routing loop, or the TTL ran out); and by ICMP time exceeded from 172.18.0.1: TTL exceeded in transit (a routing loop, or the TTL ran out) (it quotes a packet of the probe's flow, 10.244.0.5 → 10.244.1.4, not one of the probe packets).",
  );
});

test('an error at a later hop is tied to the probe the reference hop chose, even where the probe was not seen', () => {
  const report = analyzeHops([
    { name: '01-podA-eth0', packets: [{ ts: 1, layers: echo(1) }] },
    { name: '02-nodeA-eth0', packets: [error('172.18.0.1', echo(1), 'unreachable', 1)] },
  ]);
  assert.equal(report.hops[1]?.seen, false);
  assert.equal(report.firstMissingHop, '02-nodeA-eth0');
  assert.equal(report.hops[1]?.icmpErrors?.[0]?.meaning.startsWith('host unreachable'), true);
  assert.ok(
    report.findings.some((f) =>
      f.startsWith(
        'At 02-nodeA-eth0 the probe was answered by ICMP unreachable code 1 from 172.18.0.1',
      ),
    ),
    report.findings.join('\n'),
  );
});

test('records keep at most 64 quoted errors; packets without a quote are not errors of the probe', () => {
  const records = new HopRecords('hop');
  for (let i = 0; i < 100; i++) records.add(error('172.18.0.1', echo(i)), i);
  records.add(
    {
      ts: 1,
      layers: [
        { kind: 'ipv4', src: 'x', dst: A },
        { kind: 'icmp', type: 'unreachable', code: 3 },
      ],
    },
    0,
  );
  assert.equal(records.length, 101);
  assert.equal(records.icmpErrors.length, 64);
});

test('meanings: fragmentation needed with and without MTU, ICMPv6 packet too big and unreachable codes', () => {
  const m = (family: 'icmp' | 'icmp6', type: string, code: number | null, mtu: number | null) =>
    icmpErrorMeaning({ family, type, code, mtu });
  assert.equal(m('icmp', 'unreachable', 4, 1450), 'fragmentation needed, next-hop MTU 1450');
  assert.equal(m('icmp', 'unreachable', 4, null), 'fragmentation needed');
  assert.equal(
    m('icmp', 'unreachable', 13, null),
    'communication administratively prohibited (a firewall rule rejects it)',
  );
  assert.equal(m('icmp6', 'packet too big', 0, 1280), 'packet too big, MTU 1280');
  assert.equal(
    m('icmp6', 'destination unreachable', 3, null),
    'address unreachable (no answer to neighbour discovery)',
  );
  assert.equal(
    m('icmp6', 'time exceeded', 0, null),
    'hop limit exceeded in transit (a routing loop, or the hop limit ran out)',
  );
  assert.equal(m('icmp', 'time exceeded', 1, null), 'fragment reassembly time exceeded');
  assert.equal(m('icmp', 'parameter problem', 0, null), 'parameter problem');
});
