// A UDP probe through a Service's NAT: DNAT'd (ClusterIP:53 → endpoint:5353) and
// MASQUERADEd, then carried in VXLAN. Hand-built frames go through the pcap frame decoder,
// so the keys are built from real bytes, the way a lab's captures are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeHops } from '../../src/core/hops/analyzeHops';
import { correlateRecords } from '../../src/core/hops/correlation';
import { HopRecords } from '../../src/core/hops/hopRecords';
import { natSteps } from '../../src/core/hops/natSteps';
import { decodeFrame } from '../../src/core/packets/frameDecoder';
import type { Packet } from '../../src/core/packets/model';

const ETHERNET = 1;

function ip4(a: string): number[] {
  return a.split('.').map(Number);
}

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

interface Datagram {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  id: number;
  payload: number[];
}

/** IPv4 + UDP bytes (checksums zero: the decoder does not check them, NAT would redo them). */
function ipUdp(d: Datagram): number[] {
  const udpLen = 8 + d.payload.length;
  const ipLen = 20 + udpLen;
  return [
    0x45,
    0,
    ...u16(ipLen),
    ...u16(d.id),
    0x40,
    0,
    64,
    17,
    0,
    0,
    ...ip4(d.src),
    ...ip4(d.dst),
    ...u16(d.sport),
    ...u16(d.dport),
    ...u16(udpLen),
    0,
    0,
    ...d.payload,
  ];
}

function ether(inner: number[]): number[] {
  return [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00, ...inner];
}

/** The datagram inside Flannel's VXLAN between two node addresses. */
function vxlan(d: Datagram): number[] {
  const inner = ether(ipUdp(d));
  const outer: Datagram = {
    src: '172.18.0.2',
    dst: '172.18.0.3',
    sport: 41000,
    dport: 8472,
    id: 999,
    payload: [0x08, 0, 0, 0, 0, 0, 1, 0, ...inner],
  };
  return ether(ipUdp(outer));
}

function packet(bytes: number[], ts: number): Packet {
  return { ts, frameLength: bytes.length, layers: decodeFrame(ETHERNET, new Uint8Array(bytes)) };
}

function hop(name: string, packets: Packet[]): HopRecords {
  const r = new HopRecords(name);
  packets.forEach((p, i) => r.add(p, i * 100));
  return r;
}

/** A DNS-like query: a transaction id up front, so two queries differ in their first bytes. */
function query(txid: number): number[] {
  return [...u16(txid), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, ...Buffer.from('example'), 0, 0, 1, 0, 1];
}

const CLIENT = { src: '10.244.0.5', sport: 40123 };
const SERVICE = { dst: '10.96.0.10', dport: 53 };
const ENDPOINT = { dst: '10.244.1.4', dport: 5353 };
// MASQUERADE to node A's flannel.1 address, and a new source port (--random-fully).
const MASQ = { src: '10.244.0.0', sport: 61001 };

function pathHops(id: number, txid: number): HopRecords[] {
  const payload = query(txid);
  const sent: Datagram = { ...CLIENT, ...SERVICE, id, payload };
  const natted: Datagram = { ...MASQ, ...ENDPOINT, id, payload };
  return [
    hop('01-client-eth0', [packet(ether(ipUdp(sent)), 1)]),
    hop('02-nodeA-flannel.1', [packet(ether(ipUdp(natted)), 1.001)]),
    hop('03-nodeB-eth0', [packet(vxlan(natted), 1.002)]),
    hop('04-endpoint-eth0', [packet(ether(ipUdp(natted)), 1.003)]),
  ];
}

test('a UDP probe DNATed and MASQUERADEd is the same packet at every hop, VXLAN included', () => {
  const hops = pathHops(0, 0x1234); // IP id 0: Linux's unconnected UDP with DF
  const c = correlateRecords(hops);
  assert.equal(c.probes?.protocol, 'udp');
  assert.deepEqual(
    c.hops.map((m) => [m.match, m.probesSeen]),
    [
      ['packet', 1],
      ['packet', 1],
      ['packet', 1],
      ['packet', 1],
    ],
  );
  const seen = c.hops.map((m, i) => {
    const r = hops[i]!;
    const f = r.flows[r.flow(m.record)]!;
    return { hop: r.name, src: f.src, dst: f.dst, sport: f.srcPort, dport: f.dstPort };
  });
  assert.deepEqual(
    natSteps(seen, { dnatRule: () => 'KUBE-SEP-DNS', snatRule: 'MASQUERADE' }).map(
      (s) => s.sentence,
    ),
    [
      'destination 10.96.0.10:53 → 10.244.1.4:5353 between 01-client-eth0 and 02-nodeA-flannel.1 (DNAT, KUBE-SEP-DNS).',
      'source 10.244.0.5:40123 → 10.244.0.0:61001 between 01-client-eth0 and 02-nodeA-flannel.1 (MASQUERADE).',
    ],
  );
});

test('analyzeHops reports the NATed UDP probe as seen after the NAT', () => {
  const hops = pathHops(4242, 0xbeef);
  const packets = (i: number) => {
    const payload = query(0xbeef);
    const sent: Datagram = { ...CLIENT, ...SERVICE, id: 4242, payload };
    const natted: Datagram = { ...MASQ, ...ENDPOINT, id: 4242, payload };
    return [
      packet(ether(ipUdp(sent)), 1),
      packet(ether(ipUdp(natted)), 1.001),
      packet(vxlan(natted), 1.002),
    ][i]!;
  };
  const report = analyzeHops(
    [0, 1, 2].map((i) => ({ name: hops[i]!.name, packets: [packets(i)] })),
  );
  assert.deepEqual(
    report.hops.map((h) => [h.seen, h.probesSeen]),
    [
      [true, 1],
      [true, 1],
      [true, 1],
    ],
  );
  assert.equal(report.firstMissingHop, null);
});

test('two different datagrams with the same ports, addresses and IP id are not the same packet', () => {
  const a: Datagram = { ...CLIENT, ...SERVICE, id: 0, payload: query(1) };
  const b: Datagram = { ...a, payload: query(2) };
  const hops = [
    hop('01-client-eth0', [packet(ether(ipUdp(a)), 1)]),
    hop('02-node', [packet(ether(ipUdp(b)), 2)]),
  ];
  const c = correlateRecords(hops);
  assert.notEqual(hops[0]!.key(0), hops[1]!.key(0));
  // Its flow is there, the probe packet is not.
  assert.equal(c.hops[1]?.match, 'flow');
  assert.equal(c.hops[1]?.probesSeen, 0);
});

test('an echo reply that repeats its request byte for byte is not the request', () => {
  const req: Datagram = { ...MASQ, ...ENDPOINT, id: 0, payload: query(7) };
  const reply: Datagram = {
    src: req.dst,
    dst: req.src,
    sport: req.dport,
    dport: req.sport,
    id: 0,
    payload: req.payload,
  };
  const hops = [
    hop('01-client-eth0', [packet(ether(ipUdp(req)), 1)]),
    hop('02-return-only', [packet(ether(ipUdp(reply)), 2)]),
  ];
  assert.notEqual(hops[0]!.key(0), hops[1]!.key(0));
  assert.equal(correlateRecords(hops).hops[1]?.match, null);
});

test('a payload the snap length cut short keeps the address key (no hash of a part)', () => {
  const d: Datagram = { ...CLIENT, ...SERVICE, id: 5, payload: query(3) };
  const bytes = ether(ipUdp(d)).slice(0, 14 + 20 + 8 + 10);
  const [, udp] = decodeFrame(ETHERNET, new Uint8Array(bytes)).filter(
    (l) => l.kind === 'udp' || l.kind === 'ipv4',
  );
  assert.equal(udp?.kind, 'udp');
  assert.equal(udp?.kind === 'udp' ? udp.payloadHash : 0, undefined);
  const full = decodeFrame(ETHERNET, new Uint8Array(ether(ipUdp(d)))).find((l) => l.kind === 'udp');
  assert.equal(typeof (full?.kind === 'udp' ? full.payloadHash : undefined), 'number');
});

test('a port unreachable quoting the NATed datagram is tied to the probe packet', () => {
  const payload = query(0x4444);
  const sent: Datagram = { ...CLIENT, ...SERVICE, id: 0, payload };
  const natted: Datagram = { ...MASQ, ...ENDPOINT, id: 0, payload };
  const quoted = ipUdp(natted);
  // ICMP type 3 code 3 from the endpoint back to the masqueraded source, quoting it all.
  const icmp = [3, 3, 0, 0, 0, 0, 0, 0, ...quoted];
  const ipLen = 20 + icmp.length;
  const error = ether([
    0x45,
    0,
    ...u16(ipLen),
    0,
    1,
    0,
    0,
    64,
    1,
    0,
    0,
    ...ip4(ENDPOINT.dst),
    ...ip4(MASQ.src),
    ...icmp,
  ]);
  const hops = [
    hop('01-client-eth0', [packet(ether(ipUdp(sent)), 1)]),
    hop('02-endpoint-eth0', [packet(ether(ipUdp(natted)), 1.001), packet(error, 1.002)]),
  ];
  const c = correlateRecords(hops);
  assert.equal(c.hops[1]?.match, 'packet');
  assert.deepEqual(
    c.hops[1]?.icmpErrors.map((e) => [e.type, e.code, e.about]),
    [['unreachable', 3, 'packet']],
  );
});
