import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeHops } from '../../src/core/hops/analyzeHops';
import { lossHeadline } from '../../src/core/hops/findings';
import { buildDatapathPlan, defaultPlanInput } from '../../src/core/datapath/plans';
import type { CniMode, DatapathPlan, PlanHop } from '../../src/core/datapath/types';
import { decodePcap } from '../../src/core/packets/pcapDecoder';
import { parseTcpdumpText } from '../../src/core/packets/tcpdumpText';
import type { HopCapture } from '../../src/core/hops/types';
import type { Layer, Packet } from '../../src/core/packets/model';

// ---------------------------------------------------------------------------------------
// Synthetic packets, built the way the parser and decoder would build them.

interface IcmpSpec {
  src?: string;
  dst?: string;
  type?: string;
  id?: number;
  seq: number;
  ttl?: number;
  ts?: number;
  macs?: [string, string];
  vxlan?: { vni: number; port: number };
  ipip?: boolean;
}

const POD_A = '10.244.0.5';
const POD_B = '10.244.1.4';

function icmp(s: IcmpSpec): Packet {
  const inner: Layer[] = [];
  if (s.macs) inner.push({ kind: 'ethernet', src: s.macs[0], dst: s.macs[1], ethertype: 0x0800 });
  inner.push({
    kind: 'ipv4',
    src: s.src ?? POD_A,
    dst: s.dst ?? POD_B,
    length: 84,
    proto: 1,
    ...(s.ttl !== undefined ? { ttl: s.ttl } : {}),
  });
  inner.push({
    kind: 'icmp',
    type: s.type ?? 'echo request',
    id: s.id ?? 7,
    seq: s.seq,
    length: 64,
  });
  let layers = inner;
  if (s.vxlan) {
    layers = [
      { kind: 'ethernet', src: '02:42:ac:12:00:05', dst: '02:42:ac:12:00:06', ethertype: 0x0800 },
      { kind: 'ipv4', src: '172.18.0.5', dst: '172.18.0.6', ttl: 64, length: 134, proto: 17 },
      { kind: 'udp', srcPort: 49890, dstPort: s.vxlan.port },
      { kind: 'vxlan', vni: s.vxlan.vni, flags: 8 },
      ...inner,
    ];
  } else if (s.ipip) {
    layers = [
      { kind: 'ipv4', src: '172.18.0.5', dst: '172.18.0.6', ttl: 64, length: 104, proto: 4 },
      { kind: 'ipip' },
      ...inner,
    ];
  }
  return { layers, ...(s.ts !== undefined ? { ts: s.ts } : {}) };
}

const arp: Packet = {
  layers: [{ kind: 'arp', op: 'request', senderIp: POD_A, targetIp: '10.244.0.1' }],
};

const MAC_POD = ['8a:d1:5c:e2:47:0b', 'fa:4b:2c:19:8e:70'] as [string, string];
const MAC_VTEP = ['b2:8f:4e:6a:1d:c3', '3e:a5:91:07:bc:22'] as [string, string];
const MAC_POD_B = ['d6:33:7a:5e:0f:91', 'ca:7e:03:b9:6d:14'] as [string, string];

/** An 8-hop Flannel VXLAN path, three pings with replies, ts in epoch seconds. */
function flannelLike(seqs = [1, 2, 3]): HopCapture[] {
  const hops: { name: string; ttl: number; macs: [string, string]; vxlan?: boolean }[] = [
    { name: '01-podA-eth0', ttl: 64, macs: MAC_POD },
    { name: '02-nodeA-cni0', ttl: 64, macs: MAC_POD },
    { name: '03-nodeA-flannel.1', ttl: 63, macs: MAC_VTEP },
    { name: '04-nodeA-eth0', ttl: 63, macs: MAC_VTEP, vxlan: true },
    { name: '05-nodeB-eth0', ttl: 63, macs: MAC_VTEP, vxlan: true },
    { name: '06-nodeB-flannel.1', ttl: 63, macs: MAC_VTEP },
    { name: '07-nodeB-cni0', ttl: 62, macs: MAC_POD_B },
    { name: '08-podB-eth0', ttl: 62, macs: MAC_POD_B },
  ];
  return hops.map((h, i) => ({
    name: h.name,
    packets: seqs.flatMap((seq) => [
      icmp({
        seq,
        ttl: h.ttl,
        macs: h.macs,
        ts: 1_795_237_400 + seq + i * 0.00001,
        ...(h.vxlan ? { vxlan: { vni: 1, port: 8472 } } : {}),
      }),
      icmp({
        seq,
        src: POD_B,
        dst: POD_A,
        type: 'echo reply',
        ttl: 62,
        macs: [h.macs[1], h.macs[0]],
        ts: 1_795_237_400.0005 + seq,
        ...(h.vxlan ? { vxlan: { vni: 1, port: 8472 } } : {}),
      }),
    ]),
  }));
}

function planHop(name: string, expectedTtl: number, vxlan: boolean): PlanHop {
  const [, node = '', iface = ''] = /^\d+-([^-]+)-(.+)$/.exec(name) ?? [];
  return {
    name,
    location: { kind: node.startsWith('pod') ? 'pod' : 'node', name: node },
    interface: iface,
    action: 'routed',
    description: '',
    label: '',
    expectedTtl,
    encapsulation: vxlan ? { type: 'vxlan', overheadBytes: 50, vni: 1, dstPort: 8472 } : null,
    mtu: vxlan ? 1500 : 1450,
    filter: 'icmp',
  };
}

/** A hand-built Flannel VXLAN plan, so these tests do not depend on plans.ts. */
function syntheticPlan(): DatapathPlan {
  const ttls = [64, 64, 63, 63, 63, 63, 62, 62];
  const names = flannelLike().map((c) => c.name);
  return {
    mode: 'flannel-vxlan',
    title: 'Flannel VXLAN, cross-node',
    sameNode: false,
    source: { kind: 'pod', name: 'podA', node: 'nodeA', ip: POD_A },
    destination: { kind: 'pod', name: 'podB', node: 'nodeB', ip: POD_B },
    hops: names.map((n, i) => planHop(n, ttls[i]!, i === 3 || i === 4)),
    initialTtl: 64,
    notes: [],
  };
}

const noPlanMismatch = (findings: string[]) => findings.filter((f) => f.includes('differs from'));

// ---------------------------------------------------------------------------------------

test('synthetic Flannel VXLAN path: every hop seen, TTL, overhead, encapsulation, MACs', () => {
  const report = analyzeHops(flannelLike());
  assert.equal(report.firstMissingHop, null);
  assert.deepEqual(
    report.hops.map((h) => [h.seen, h.probesSeen, h.packets, h.ttl]),
    [64, 64, 63, 63, 63, 63, 62, 62].map((ttl) => [true, 3, 6, ttl]),
  );
  assert.deepEqual(
    report.hops.map((h) => h.overheadBytes),
    [null, null, null, 50, 50, null, null, null],
  );
  assert.deepEqual(report.hops[3]!.encapsulation, { type: 'vxlan', vni: 1, dstPort: 8472 });
  assert.equal(report.hops[3]!.outerLength, 134);
  assert.equal(report.hops[3]!.innerLength, 84);
  assert.equal(report.hops[2]!.encapsulation, null);
  assert.equal(report.hops[2]!.outerLength, null);
  // The innermost Ethernet header under VXLAN is the VTEPs', not the nodes'.
  assert.equal(report.hops[3]!.srcMac, MAC_VTEP[0]);
  assert.equal(report.hops[0]!.timeOffsetMs, 0);
  assert.equal(report.hops[7]!.timeOffsetMs, 0.07);
  assert.equal(report.hops[0]!.src, POD_A);
  assert.equal(report.hops[0]!.dst, POD_B);
  const f = report.findings;
  assert.ok(
    f.includes('TTL 64→63 between 02-nodeA-cni0 and 03-nodeA-flannel.1: routed.'),
    f.join('\n'),
  );
  assert.ok(f.includes('TTL 63→62 between 06-nodeB-flannel.1 and 07-nodeB-cni0: routed.'));
  assert.ok(f.includes('VXLAN added at 04-nodeA-eth0: +50 bytes, UDP 8472, VNI 1.'));
  assert.ok(f.includes('VXLAN removed at 06-nodeB-flannel.1: -50 bytes.'));
  assert.ok(
    f.includes(
      `MACs rewritten between 02-nodeA-cni0 and 03-nodeA-flannel.1: source ${MAC_POD[0]} → ${MAC_VTEP[0]}, destination ${MAC_POD[1]} → ${MAC_VTEP[1]}.`,
    ),
  );
  assert.equal(f.filter((s) => s.startsWith('TTL ')).length, 2);
  assert.equal(f.filter((s) => s.includes('NAT')).length, 0);
  assert.equal(typeof report.diagram, 'string');
});

test('synthetic path against a matching plan has no plan-mismatch findings', () => {
  const report = analyzeHops(flannelLike(), { plan: syntheticPlan() });
  assert.deepEqual(noPlanMismatch(report.findings), []);
});

test('plan mismatches: TTL, overhead, port and VNI are called out', () => {
  const plan = syntheticPlan();
  plan.hops[2]!.expectedTtl = 64; // a plan that thinks flannel.1 is bridged
  plan.hops[3]!.encapsulation = { type: 'vxlan', overheadBytes: 70, vni: 4096, dstPort: 4789 };
  const report = analyzeHops(flannelLike(), { plan });
  const mismatches = noPlanMismatch(report.findings);
  assert.ok(
    mismatches.includes(
      'TTL at 03-nodeA-flannel.1 differs from the Flannel VXLAN plan: expected 64, saw 63.',
    ),
    mismatches.join('\n'),
  );
  assert.ok(
    mismatches.includes(
      'Overhead at 04-nodeA-eth0 differs from the Flannel VXLAN plan: expected 70 bytes, saw 50 bytes.',
    ),
  );
  assert.ok(
    mismatches.includes(
      'UDP port at 04-nodeA-eth0 differs from the Flannel VXLAN plan: expected 4789, saw 8472.',
    ),
  );
  assert.ok(
    mismatches.includes(
      'VNI at 04-nodeA-eth0 differs from the Flannel VXLAN plan: expected 4096, saw 1.',
    ),
  );
  // Only the hop whose plan TTL was changed differs.
  assert.equal(mismatches.filter((m) => m.startsWith('TTL at')).length, 1);
});

test('plan TTLs are compared as changes when the source sent another initial TTL', () => {
  const caps = flannelLike();
  const shifted = caps.map((c) => ({
    name: c.name,
    packets: [...c.packets].map((p) => ({
      ...p,
      layers: p.layers.map((l) =>
        l.kind === 'ipv4' && l.ttl !== undefined && l.src.startsWith('10.')
          ? { ...l, ttl: l.ttl + 64 }
          : l,
      ),
    })),
  }));
  const report = analyzeHops(shifted, { plan: syntheticPlan() });
  assert.equal(report.hops[0]!.ttl, 128);
  assert.deepEqual(noPlanMismatch(report.findings), []);
  assert.ok(
    report.findings.some((f) => f.includes('TTLs are compared as changes from 01-podA-eth0')),
  );

  const plan = syntheticPlan();
  plan.hops[6]!.expectedTtl = 63;
  plan.hops[7]!.expectedTtl = 63;
  const bad = noPlanMismatch(analyzeHops(shifted, { plan }).findings);
  assert.deepEqual(bad, [
    'TTL change from 01-podA-eth0 to 07-nodeB-cni0 differs from the Flannel VXLAN plan: expected -1, saw -2.',
    'TTL change from 01-podA-eth0 to 08-podB-eth0 differs from the Flannel VXLAN plan: expected -1, saw -2.',
  ]);
});

test('plan hop count and unplanned hops are reported', () => {
  const plan = syntheticPlan();
  plan.hops = plan.hops.filter((h) => !h.name.includes('flannel.1'));
  const report = analyzeHops(flannelLike(), { plan });
  assert.ok(
    report.findings.includes(
      'Hop count differs from the Flannel VXLAN plan: expected 6 hops, saw 8 captures.',
    ),
  );
  assert.ok(
    report.findings.includes(
      '03-nodeA-flannel.1 is not a hop of the Flannel VXLAN plan, so it is not compared with it.',
    ),
  );
});

test('an empty capture at each hop in turn is the first missing hop', () => {
  for (let i = 1; i < 8; i++) {
    const caps = flannelLike();
    caps[i] = { name: caps[i]!.name, packets: [] };
    const report = analyzeHops(caps);
    assert.equal(report.firstMissingHop, caps[i]!.name);
    assert.equal(report.hops[i]!.seen, false);
    assert.equal(report.hops[i]!.ttl, null);
    const sentence = report.findings.find((f) => f.includes(`not seen at ${caps[i]!.name}`));
    assert.ok(sentence, report.findings.join('\n'));
    assert.match(sentence, /nothing was captured there/);
    if (i < 7) assert.match(sentence, /yet seen again at /);
    else assert.match(sentence, /^Probe lost between 07-nodeB-cni0 and 08-podB-eth0: /);
    assert.equal(
      lossHeadline(report),
      i < 7
        ? `not captured at ${caps[i]!.name} (seen again at ${caps[i + 1]!.name})`
        : 'lost between 07-nodeB-cni0 and 08-podB-eth0',
    );
  }
});

test('a drop: the probe stops at one hop and is never seen again', () => {
  const caps = flannelLike();
  for (let i = 4; i < 8; i++) caps[i] = { name: caps[i]!.name, packets: [arp] };
  const report = analyzeHops(caps);
  assert.equal(report.firstMissingHop, '05-nodeB-eth0');
  assert.ok(
    report.findings.includes(
      'Probe lost between 04-nodeA-eth0 and 05-nodeB-eth0: last seen at 04-nodeA-eth0, not seen at 05-nodeB-eth0 (1 packet captured there, none of them the probe).',
    ),
    report.findings.join('\n'),
  );
  assert.equal(lossHeadline(report), 'lost between 04-nodeA-eth0 and 05-nodeB-eth0');
  assert.equal(report.hops[4]!.packets, 1);
});

test('partial loss: 2 of 3 probe requests', () => {
  const caps = flannelLike();
  caps[4] = { name: caps[4]!.name, packets: [...caps[4]!.packets].filter((_, i) => i !== 2) };
  const report = analyzeHops(caps);
  assert.equal(report.firstMissingHop, null);
  assert.equal(report.hops[4]!.probesSeen, 2);
  assert.equal(report.hops[4]!.seen, true);
  assert.ok(report.findings.includes('2 of 3 probe requests seen at 05-nodeB-eth0.'));
});

test('NAT: a Service address rewritten to a pod (DNAT) and a masqueraded source (SNAT)', () => {
  const caps: HopCapture[] = [
    { name: '01-client', packets: [icmp({ seq: 1, dst: '10.96.0.10', ttl: 64 })] },
    { name: '02-node', packets: [icmp({ seq: 1, dst: POD_B, ttl: 63 })] },
    { name: '03-wire', packets: [icmp({ seq: 1, src: '172.18.0.5', dst: POD_B, ttl: 62 })] },
  ];
  const report = analyzeHops(caps);
  assert.equal(report.firstMissingHop, null);
  assert.deepEqual(
    report.hops.map((h) => [h.src, h.dst]),
    [
      [POD_A, '10.96.0.10'],
      [POD_A, POD_B],
      ['172.18.0.5', POD_B],
    ],
  );
  assert.ok(
    report.findings.includes(
      `destination 10.96.0.10 → ${POD_B} between 01-client and 02-node: DNAT.`,
    ),
  );
  assert.ok(
    report.findings.includes(`source ${POD_A} → 172.18.0.5 between 02-node and 03-wire: SNAT.`),
  );
});

test('captures taken at different times: same flow, none of the same probes', () => {
  const caps = flannelLike();
  // Hop 3 holds another ping run (another ICMP id) between the same pods.
  caps[2] = {
    name: caps[2]!.name,
    packets: [1, 2].map((seq) => icmp({ seq, id: 99, ttl: 63, ts: 1_795_237_900 + seq })),
  };
  const report = analyzeHops(caps);
  assert.equal(report.firstMissingHop, '03-nodeA-flannel.1');
  const sentence = report.findings.find((f) => f.includes('not seen at 03-nodeA-flannel.1'));
  assert.ok(sentence);
  assert.match(
    sentence,
    /2 packets of the same flow \(ICMP echo requests 10\.244\.0\.5 → 10\.244\.1\.4\)/,
  );
  assert.match(sentence, /none of the 3 probe requests seen at 01-podA-eth0/);
  assert.match(sentence, /taken at different times/);
});

test('only the replies pass a hop: said so', () => {
  const caps = flannelLike();
  caps[4] = {
    name: caps[4]!.name,
    packets: [...caps[4]!.packets].filter((p) =>
      p.layers.some((l) => l.kind === 'icmp' && l.type === 'echo reply'),
    ),
  };
  const report = analyzeHops(caps);
  assert.equal(report.firstMissingHop, '05-nodeB-eth0');
  assert.ok(report.findings.some((f) => f.includes('only 3 replies to the probe passed there')));
});

test('first hop without IP: it is the first missing hop and the probe comes from the next', () => {
  const caps = flannelLike();
  caps[0] = { name: caps[0]!.name, packets: [arp, arp] };
  const report = analyzeHops(caps);
  assert.equal(report.firstMissingHop, '01-podA-eth0');
  assert.equal(report.hops[0]!.packets, 2);
  assert.equal(report.hops[0]!.seen, false);
  assert.equal(report.hops[1]!.seen, true);
  assert.equal(report.hops[1]!.timeOffsetMs, 0);
  assert.equal(
    report.findings[0],
    'No probe at 01-podA-eth0: 2 packets captured, none of them IP; following the ICMP echo requests 10.244.0.5 → 10.244.1.4 first seen at 02-nodeA-cni0 instead.',
  );
});

test('no IP anywhere, and no captures at all', () => {
  const report = analyzeHops([
    { name: 'a', packets: [arp] },
    {
      name: 'b',
      packets: [
        { ts: 1, layers: [{ kind: 'raw', text: 'garbage' }] },
        // A line of text without a time and nothing understood is noise, not a packet.
        {
          layers: [
            { kind: 'raw', text: '7. 查看第 5 步骤的输出$ sudo tcpdump -nei ens33 port 8472' },
          ],
        },
      ],
    },
  ]);
  assert.equal(report.firstMissingHop, 'a');
  assert.equal(report.matchedBy, null);
  assert.deepEqual(
    report.hops.map((h) => [h.packets, h.seen, h.probesSeen, h.match]),
    [
      [1, false, 0, null],
      [1, false, 0, null],
    ],
  );
  assert.match(report.findings.join('\n'), /No IP packets in any capture \(2 packets in all\)/);

  const empty = analyzeHops([]);
  assert.deepEqual(empty.hops, []);
  assert.equal(empty.firstMissingHop, null);
  assert.deepEqual(empty.findings, ['No captures were given: there is nothing to follow.']);
  assert.equal(typeof empty.diagram, 'string');
});

test('read issues are carried into the findings in hop order', () => {
  const caps = flannelLike();
  caps[1]!.issues = [{ at: 7, message: 'unreadable line' }];
  caps[5]!.issues = [{ at: 3, message: 'record truncated', fatal: true }];
  const f = analyzeHops(caps).findings;
  const a = f.indexOf('02-nodeA-cni0: could not read at 7: unreadable line');
  const b = f.indexOf('06-nodeB-flannel.1: reading stopped at 3: record truncated');
  assert.ok(a >= 0 && b > a, f.join('\n'));
});

test('time offsets only between captures on the same clock (time of day vs epoch)', () => {
  const caps: HopCapture[] = [
    { name: 'text1', packets: [icmp({ seq: 1, ts: 18193.91807 })] },
    { name: 'pcap', packets: [icmp({ seq: 1, ts: 1_795_237_402.813056 })] },
    { name: 'text2', packets: [icmp({ seq: 1, ts: 18193.918154 })] },
    { name: 'no-ts', packets: [icmp({ seq: 1 })] },
  ];
  const report = analyzeHops(caps);
  assert.deepEqual(
    report.hops.map((h) => h.timeOffsetMs),
    [0, null, 0.084, null],
  );
});

test('TCP: the client side of the first SYN is the probe; ports may change (NAT)', () => {
  const seg = (
    src: string,
    dst: string,
    sp: number,
    dp: number,
    flags: string,
    seq: number | undefined,
    ack: number | undefined,
  ): Packet => ({
    layers: [
      { kind: 'ipv4', src, dst, ttl: 64, length: 60, proto: 6 },
      {
        kind: 'tcp',
        srcPort: sp,
        dstPort: dp,
        flags,
        ...(seq !== undefined ? { seq } : {}),
        ...(ack !== undefined ? { ack } : {}),
        length: 0,
      },
    ],
  });
  // A stray server→client segment comes first; the SYN still decides the direction.
  const hop1 = [
    seg('10.0.0.2', '10.0.0.1', 80, 40000, '.', undefined, 5),
    seg('10.0.0.1', '10.96.0.1', 40000, 80, 'S', 1000, undefined),
    seg('10.96.0.1', '10.0.0.1', 80, 40000, 'S.', 5000, 1001),
    seg('10.0.0.1', '10.96.0.1', 40000, 80, '.', undefined, 5001),
  ];
  const hop2 = [
    seg('10.0.0.1', '10.0.0.2', 40000, 8080, 'S', 1000, undefined),
    seg('10.0.0.2', '10.0.0.1', 8080, 40000, 'S.', 5000, 1001),
    seg('10.0.0.1', '10.0.0.2', 40000, 8080, '.', undefined, 5001),
  ];
  const report = analyzeHops([
    { name: 'client', packets: hop1 },
    { name: 'server', packets: hop2 },
  ]);
  assert.deepEqual(
    report.hops.map((h) => [h.probesSeen, h.dst]),
    [
      [2, '10.96.0.1'],
      [2, '10.0.0.2'],
    ],
  );
  assert.ok(report.findings.includes('Following 2 TCP segments 10.0.0.1 → 10.96.0.1 from client.'));
  assert.ok(
    report.findings.includes('destination 10.96.0.1 → 10.0.0.2 between client and server: DNAT.'),
  );
});

test('UDP: IP id + addresses + ports; IPIP encapsulation is recognised', () => {
  const dgram = (id: number, ipip: boolean): Packet => {
    const inner: Layer[] = [
      { kind: 'ipv4', src: '192.168.1.2', dst: '192.168.2.3', ttl: 63, id, length: 40, proto: 17 },
      { kind: 'udp', srcPort: 5000, dstPort: 53, length: 12 },
    ];
    return {
      layers: ipip
        ? [
            { kind: 'ipv4', src: '172.18.0.5', dst: '172.18.0.6', ttl: 64, length: 60, proto: 4 },
            { kind: 'ipip' },
            ...inner,
          ]
        : inner,
    };
  };
  const report = analyzeHops([
    { name: 'pod', packets: [dgram(1, false), dgram(2, false), dgram(3, false)] },
    { name: 'wire', packets: [dgram(1, true), dgram(3, true), dgram(4, true)] },
  ]);
  assert.equal(report.hops[1]!.probesSeen, 2);
  assert.deepEqual(report.hops[1]!.encapsulation, { type: 'ipip', vni: null, dstPort: null });
  assert.equal(report.hops[1]!.overheadBytes, 20);
  assert.ok(report.findings.includes('IPIP added at wire: +20 bytes.'));
  assert.ok(report.findings.includes('2 of 3 probe requests seen at wire.'));
});

test('encapsulation without outer lengths (tcpdump text without -v): overhead unknown, not guessed', () => {
  const strip = (p: Packet): Packet => ({
    layers: p.layers.map((l) => (l.kind === 'ipv4' ? { kind: 'ipv4', src: l.src, dst: l.dst } : l)),
  });
  const caps = flannelLike().map((c) => ({ name: c.name, packets: [...c.packets].map(strip) }));
  const report = analyzeHops(caps);
  assert.deepEqual(report.hops[3]!.encapsulation, { type: 'vxlan', vni: 1, dstPort: 8472 });
  assert.equal(report.hops[3]!.outerLength, null);
  assert.equal(report.hops[3]!.overheadBytes, null);
  assert.equal(report.hops[3]!.ttl, null);
  assert.ok(
    report.findings.includes(
      'VXLAN added at 04-nodeA-eth0: UDP 8472, VNI 1, overhead unknown (no outer IP length in the capture).',
    ),
    report.findings.join('\n'),
  );
  assert.deepEqual(
    noPlanMismatch(
      analyzeHops(
        caps.map((c) => ({ ...c, packets: [...c.packets] })),
        { plan: syntheticPlan() },
      ).findings,
    ),
    [],
  );
});

test('packets are iterated once, from any iterable', () => {
  let iterations = 0;
  const once: Iterable<Packet> = {
    [Symbol.iterator]() {
      iterations++;
      return flannelLike()[0]!.packets[Symbol.iterator]();
    },
  };
  const report = analyzeHops([{ name: 'gen', packets: once }, ...flannelLike().slice(1)]);
  assert.equal(iterations, 1);
  assert.equal(report.hops[0]!.packets, 6);
});

test('performance: 8 hops × 100,000 packets correlate in well under a second', () => {
  const N = 100_000;
  const caps: HopCapture[] = [];
  for (let h = 0; h < 8; h++) {
    // Headers that do not change from packet to packet are shared, as a decoder's string
    // table would share them: this keeps the test's own heap (and its GC pauses) small.
    const request = icmp({
      seq: 0,
      ttl: 64 - (h >> 1),
      macs: MAC_POD,
      ...(h === 3 || h === 4 ? { vxlan: { vni: 1, port: 8472 } } : {}),
    });
    const reply = icmp({
      seq: 0,
      type: 'echo reply',
      src: POD_B,
      dst: POD_A,
      ttl: 62,
      macs: MAC_POD,
    });
    const packets: Packet[] = new Array<Packet>(N);
    for (let i = 0; i < N; i++) {
      const seq = i >> 1;
      const base = i % 2 === 0 ? request : reply;
      const layers = base.layers.slice();
      const last = layers.length - 1;
      layers[last] = {
        kind: 'icmp',
        type: i % 2 === 0 ? 'echo request' : 'echo reply',
        id: 1000 + (seq >> 16),
        seq: seq & 0xffff,
        length: 64,
      };
      packets[i] = { ts: 1_795_237_400 + i / 1000 + h * 1e-5, layers };
    }
    caps.push({ name: `hop${h}`, packets });
  }
  // Three runs, the best asserted: the machine is shared, and a neighbour's burst of CPU
  // or a GC of this test's own 800,000 packets should not fail the build.
  const times: number[] = [];
  let report = analyzeHops([]);
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    report = analyzeHops(caps);
    times.push(performance.now() - start);
  }
  const best = Math.min(...times);
  console.log(`analyzeHops 8 × ${N} packets: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  assert.equal(report.firstMissingHop, null);
  assert.ok(report.hops.every((h) => h.probesSeen === N / 2 && h.packets === N));
  assert.deepEqual(report.hops[3]!.encapsulation, { type: 'vxlan', vni: 1, dstPort: 8472 });
  assert.ok(best < 1000, `took ${times.join(', ')} ms`);
});

// ---------------------------------------------------------------------------------------
// Real captures from the netns lab (test/fixtures/netns/<mode>/commands.txt).

const FIXTURES = join(__dirname, '..', 'fixtures', 'netns');

/** The numbered hop files of a fixture set whose name ends with `suffix` exactly. */
function hopFiles(mode: CniMode, suffix: '.pcap' | '.txt'): string[] {
  const dir = join(FIXTURES, mode);
  // `01-podA-eth0.txt`, `03-nodeA-flannel.1.txt`, not `04-nodeA-eth0.vv.txt`.
  const re = suffix === '.pcap' ? /^\d\d-[^.]+(\.\d+)?\.pcap$/ : /^\d\d-[^.]+(\.\d+)?\.txt$/;
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

function hopName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1).replace(/\.[^.]+$/, '');
}

function pcapCapture(file: string): HopCapture {
  const { packets, issues } = decodePcap(new Uint8Array(readFileSync(file)));
  return { name: hopName(file), packets, issues };
}

const plans: Record<string, DatapathPlan> = {};
function planFor(mode: CniMode): DatapathPlan {
  return (plans[mode] ??= buildDatapathPlan(defaultPlanInput(mode)));
}

interface FixtureExpectation {
  mode: CniMode;
  hops: number;
  ttl: number[];
  vxlanHops: number[];
  findings: string[];
}

const EXPECTED: FixtureExpectation[] = [
  {
    mode: 'flannel-vxlan',
    hops: 8,
    ttl: [64, 64, 63, 63, 63, 63, 62, 62],
    vxlanHops: [3, 4],
    findings: [
      'TTL 64→63 between 02-nodeA-cni0 and 03-nodeA-flannel.1: routed.',
      'VXLAN added at 04-nodeA-eth0: +50 bytes, UDP 8472, VNI 1.',
      'VXLAN removed at 06-nodeB-flannel.1: -50 bytes.',
      'TTL 63→62 between 06-nodeB-flannel.1 and 07-nodeB-cni0: routed.',
    ],
  },
  {
    mode: 'flannel-host-gw',
    hops: 6,
    ttl: [64, 64, 63, 63, 62, 62],
    vxlanHops: [],
    findings: [
      'TTL 64→63 between 02-nodeA-cni0 and 03-nodeA-eth0: routed.',
      'TTL 63→62 between 04-nodeB-eth0 and 05-nodeB-cni0: routed.',
    ],
  },
  {
    mode: 'calico-bgp',
    hops: 6,
    ttl: [64, 64, 63, 63, 62, 62],
    vxlanHops: [],
    findings: [
      'TTL 64→63 between 02-nodeA-cali1f5c8e2a9b3 and 03-nodeA-eth0: routed.',
      'TTL 63→62 between 04-nodeB-eth0 and 05-nodeB-cali7d04b6e1c52: routed.',
    ],
  },
];

for (const want of EXPECTED) {
  test(`${want.mode} pcaps against the ${want.mode} plan: every hop seen, as planned`, () => {
    const files = hopFiles(want.mode, '.pcap');
    assert.equal(files.length, want.hops);
    const plan = planFor(want.mode);
    assert.equal(plan.hops.length, want.hops);
    const report = analyzeHops(files.map(pcapCapture), { plan });
    assert.equal(report.firstMissingHop, null);
    assert.deepEqual(
      report.hops.map((h) => h.name),
      plan.hops.map((h) => h.name),
    );
    assert.deepEqual(
      report.hops.map((h) => [h.packets, h.seen, h.probesSeen]),
      report.hops.map(() => [6, true, 3]),
    );
    assert.deepEqual(
      report.hops.map((h) => h.ttl),
      want.ttl,
    );
    report.hops.forEach((h, i) => {
      const vxlan = want.vxlanHops.includes(i);
      assert.equal(h.innerLength, 84, h.name);
      assert.equal(h.overheadBytes, vxlan ? 50 : null, h.name);
      assert.equal(h.outerLength, vxlan ? 134 : null, h.name);
      assert.deepEqual(h.encapsulation, vxlan ? { type: 'vxlan', vni: 1, dstPort: 8472 } : null);
      // Same clock (pcap epoch), same ping: small, non-negative offsets.
      assert.ok(h.timeOffsetMs !== null && h.timeOffsetMs >= 0 && h.timeOffsetMs < 5, h.name);
    });
    assert.equal(report.hops[0]!.timeOffsetMs, 0);
    assert.deepEqual(noPlanMismatch(report.findings), []);
    for (const f of want.findings)
      assert.ok(report.findings.includes(f), `${f}\n${report.findings.join('\n')}`);
    assert.equal(report.findings.filter((f) => f.startsWith('TTL ')).length, 2);
    assert.ok(report.diagram.startsWith('sequenceDiagram'));
  });

  test(`${want.mode} pcaps: an empty capture at hop 2..${want.hops} is the first missing hop`, () => {
    const files = hopFiles(want.mode, '.pcap');
    for (let i = 1; i < files.length; i++) {
      const caps = files.map(pcapCapture);
      caps[i] = { name: caps[i]!.name, packets: [] };
      const report = analyzeHops(caps, { plan: planFor(want.mode) });
      assert.equal(report.firstMissingHop, caps[i]!.name);
      assert.equal(report.hops.filter((h) => !h.seen).length, 1);
      assert.ok(report.findings.some((f) => f.includes(`not seen at ${caps[i]!.name}`)));
    }
  });
}

test('Flannel VXLAN pcaps against the host-gw plan: the encapsulation differs', () => {
  const report = analyzeHops(hopFiles('flannel-vxlan', '.pcap').map(pcapCapture), {
    plan: planFor('flannel-host-gw'),
  });
  const mismatches = noPlanMismatch(report.findings);
  assert.deepEqual(mismatches, [
    'Hop count differs from the Flannel host-gw plan: expected 6 hops, saw 8 captures.',
    'Encapsulation at 04-nodeA-eth0 differs from the Flannel host-gw plan: expected none, saw VXLAN +50 bytes, UDP 8472, VNI 1.',
    'Encapsulation at 05-nodeB-eth0 differs from the Flannel host-gw plan: expected none, saw VXLAN +50 bytes, UDP 8472, VNI 1.',
  ]);
  assert.ok(
    report.findings.includes(
      '03-nodeA-flannel.1 is not a hop of the Flannel host-gw plan, so it is not compared with it.',
    ),
  );
});

test('host-gw pcaps against the Flannel VXLAN plan: missing encapsulation is called out', () => {
  const report = analyzeHops(hopFiles('flannel-host-gw', '.pcap').map(pcapCapture), {
    plan: planFor('flannel-vxlan'),
  });
  const mismatches = noPlanMismatch(report.findings);
  assert.ok(
    mismatches.includes(
      'Encapsulation at 03-nodeA-eth0 differs from the Flannel VXLAN plan: expected VXLAN +50 bytes, UDP 8472, VNI 1, saw none.',
    ),
    mismatches.join('\n'),
  );
  assert.ok(
    mismatches.includes(
      'Hop count differs from the Flannel VXLAN plan: expected 8 hops, saw 6 captures.',
    ),
  );
});

// ---------------------------------------------------------------------------------------
// The same fixture sets as tcpdump text (what people paste).

function textCapture(file: string): HopCapture {
  const { packets, issues } = parseTcpdumpText(readFileSync(file, 'utf8'));
  return { name: hopName(file), packets, issues };
}

interface TextExpectation {
  mode: CniMode;
  /** Hops captured with -v: the only ones whose text carries TTLs and IP lengths. */
  verbose: number[];
  vxlanHops: number[];
}

const TEXT_EXPECTED: TextExpectation[] = [
  { mode: 'flannel-vxlan', verbose: [3, 4], vxlanHops: [3, 4] },
  { mode: 'flannel-host-gw', verbose: [2, 3], vxlanHops: [] },
  { mode: 'calico-bgp', verbose: [2, 3], vxlanHops: [] },
];

for (const want of TEXT_EXPECTED) {
  test(`${want.mode} plain -nn text: every hop seen; TTL only where tcpdump ran with -v`, () => {
    const files = hopFiles(want.mode, '.txt');
    const plan = planFor(want.mode);
    assert.equal(files.length, plan.hops.length);
    const report = analyzeHops(files.map(textCapture), { plan });
    assert.equal(report.firstMissingHop, null);
    // -c 3: request, reply, request.
    assert.deepEqual(
      report.hops.map((h) => [h.packets, h.seen, h.probesSeen]),
      report.hops.map(() => [3, true, 2]),
    );
    report.hops.forEach((h, i) => {
      const verbose = want.verbose.includes(i);
      const vxlan = want.vxlanHops.includes(i);
      // Without -v tcpdump prints neither TTL nor IP length: null, not a guess.
      assert.equal(h.ttl, verbose ? 63 : null, h.name);
      assert.equal(h.innerLength, verbose ? 84 : null, h.name);
      assert.equal(h.overheadBytes, vxlan ? 50 : null, h.name);
      assert.deepEqual(h.encapsulation, vxlan ? { type: 'vxlan', vni: 1, dstPort: 8472 } : null);
      // All text, all time of day on one machine: offsets are comparable.
      assert.ok(h.timeOffsetMs !== null && h.timeOffsetMs >= 0 && h.timeOffsetMs < 5, h.name);
    });
    assert.deepEqual(noPlanMismatch(report.findings), []);
    // Only two hops carry a TTL and both say 63: no TTL change can honestly be reported.
    assert.equal(report.findings.filter((f) => f.startsWith('TTL ')).length, 0);
    if (want.vxlanHops.length > 0) {
      assert.ok(
        report.findings.includes('VXLAN added at 04-nodeA-eth0: +50 bytes, UDP 8472, VNI 1.'),
      );
      assert.ok(report.findings.includes('VXLAN removed at 06-nodeB-flannel.1: -50 bytes.'));
    }
  });

  test(`${want.mode} plain -nn text: an empty capture at each later hop is the first missing hop`, () => {
    const files = hopFiles(want.mode, '.txt');
    for (let i = 1; i < files.length; i++) {
      const caps = files.map(textCapture);
      caps[i] = { name: caps[i]!.name, packets: parseTcpdumpText('').packets };
      const report = analyzeHops(caps, { plan: planFor(want.mode) });
      assert.equal(report.firstMissingHop, caps[i]!.name);
    }
  });
}

test('Flannel VXLAN -e text: MAC rewrites at the two routing steps', () => {
  const files = hopFiles('flannel-vxlan', '.txt').map((f) => f.replace(/\.txt$/, '.e.txt'));
  const report = analyzeHops(files.map(textCapture), { plan: planFor('flannel-vxlan') });
  assert.equal(report.firstMissingHop, null);
  assert.deepEqual(
    report.hops.map((h) => h.name),
    hopFiles('flannel-vxlan', '.pcap')
      .map(hopName)
      .map((n) => `${n}.e`),
  );
  assert.deepEqual(
    report.findings.filter((f) => f.startsWith('MACs rewritten')).map((f) => f.split(':')[0]),
    [
      'MACs rewritten between 02-nodeA-cni0.e and 03-nodeA-flannel.1.e',
      'MACs rewritten between 06-nodeB-flannel.1.e and 07-nodeB-cni0.e',
    ],
  );
  assert.equal(report.hops[3]!.srcMac, 'b2:8f:4e:6a:1d:c3');
  // `03-nodeA-flannel.1.e` is matched to the plan's `03-nodeA-flannel.1` by name.
  assert.deepEqual(noPlanMismatch(report.findings), []);
  assert.ok(!report.findings.some((f) => f.includes('is not a hop of')));
});

test('Flannel VXLAN TCP text (iperf3): the client side is followed through VXLAN', () => {
  const files = hopFiles('flannel-vxlan', '.txt').map((f) => f.replace(/\.txt$/, '.tcp.txt'));
  const report = analyzeHops(files.map(textCapture));
  assert.equal(report.firstMissingHop, null);
  // SYN and the handshake's last ACK come from the client; the SYN-ACK does not count.
  assert.deepEqual(
    report.hops.map((h) => h.probesSeen),
    [2, 2, 2, 2, 2, 2, 2, 2],
  );
  assert.deepEqual(
    report.hops.map((h) => h.ttl),
    [64, 64, 63, 63, 63, 63, 62, 62],
  );
  assert.deepEqual(
    report.hops.map((h) => h.overheadBytes),
    [null, null, null, 50, 50, null, null, null],
  );
  assert.equal(report.hops[3]!.outerLength, 110);
  assert.ok(
    report.findings.includes(
      'Following 2 TCP segments 10.244.0.5 → 10.244.1.4 from 01-podA-eth0.tcp.',
    ),
  );
});

test('mixed pcap and text captures of the same pings: all seen, time offsets only within a clock', () => {
  const pcaps = hopFiles('flannel-vxlan', '.pcap').slice(0, 4).map(pcapCapture);
  const mixedDir = join(__dirname, '..', 'fixtures', 'hops', 'flannel-vxlan-mixed');
  const texts = readdirSync(mixedDir)
    .filter((f) => /^\d\d-.*\.txt$/.test(f))
    .sort()
    .map((f) => textCapture(join(mixedDir, f)));
  assert.equal(texts.length, 4);
  const report = analyzeHops([...pcaps, ...texts], { plan: planFor('flannel-vxlan') });
  assert.equal(report.firstMissingHop, null);
  assert.deepEqual(
    report.hops.map((h) => h.ttl),
    [64, 64, 63, 63, 63, 63, 62, 62],
  );
  assert.deepEqual(
    report.hops.map((h) => h.overheadBytes),
    [null, null, null, 50, 50, null, null, null],
  );
  // pcap timestamps are epoch seconds, text ones time of day: no offset across the two.
  assert.deepEqual(
    report.hops.slice(4).map((h) => h.timeOffsetMs),
    [null, null, null, null],
  );
  assert.ok(report.hops.slice(0, 4).every((h) => h.timeOffsetMs !== null));
  assert.deepEqual(noPlanMismatch(report.findings), []);
  assert.ok(
    report.findings.includes('TTL 63→62 between 06-nodeB-flannel.1 and 07-nodeB-cni0: routed.'),
  );
});

test('captures from different rounds: the same flow, none of the same pings', () => {
  const dir = join(FIXTURES, 'flannel-vxlan');
  // Hop 1 from the -e round (ping id 16398), hop 2 from the plain round (id 16149).
  const report = analyzeHops([
    textCapture(join(dir, '01-podA-eth0.e.txt')),
    textCapture(join(dir, '02-nodeA-cni0.txt')),
  ]);
  assert.equal(report.firstMissingHop, '02-nodeA-cni0');
  const sentence = report.findings.find((f) => f.includes('not seen at 02-nodeA-cni0'));
  assert.ok(sentence, report.findings.join('\n'));
  assert.match(sentence, /3 packets of the same flow/);
  assert.match(sentence, /taken at different times/);
});

test('non-verbose VXLAN text against the host-gw plan: encapsulation differs, overhead unknown', () => {
  const files = hopFiles('flannel-vxlan', '.txt').map((f) =>
    /0[45]-node[AB]-eth0\.txt$/.test(f) ? f.replace(/\.txt$/, '.nonverbose.txt') : f,
  );
  const report = analyzeHops(files.map(textCapture), { plan: planFor('flannel-host-gw') });
  assert.equal(report.firstMissingHop, null);
  assert.equal(report.hops[3]!.name, '04-nodeA-eth0.nonverbose');
  assert.deepEqual(report.hops[3]!.encapsulation, { type: 'vxlan', vni: 1, dstPort: 8472 });
  assert.equal(report.hops[3]!.overheadBytes, null);
  assert.deepEqual(noPlanMismatch(report.findings), [
    'Hop count differs from the Flannel host-gw plan: expected 6 hops, saw 8 captures.',
    'Encapsulation at 04-nodeA-eth0.nonverbose differs from the Flannel host-gw plan: expected none, saw VXLAN, UDP 8472, VNI 1, overhead unknown (no outer IP length in the capture).',
    'Encapsulation at 05-nodeB-eth0.nonverbose differs from the Flannel host-gw plan: expected none, saw VXLAN, UDP 8472, VNI 1, overhead unknown (no outer IP length in the capture).',
  ]);
});
