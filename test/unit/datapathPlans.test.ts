import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  CNI_MODES,
  buildDatapathPlan,
  defaultPlanInput,
  isCniMode,
} from '../../src/core/datapath/plans';
import { parseHopName } from '../../src/core/datapath/hopName';
import { PlanInputError } from '../../src/core/datapath/planInput';
import { flannelVxlanPlan } from '../../src/core/datapath/flannelVxlan';
import { calicoCrossSubnetPlan } from '../../src/core/datapath/calicoCrossSubnet';
import type { CniMode, DatapathPlan, PlanInput } from '../../src/core/datapath/types';

const FIXTURES = join(__dirname, '..', 'fixtures', 'netns');

function plan(mode: CniMode, options: Parameters<typeof defaultPlanInput>[1] = {}): DatapathPlan {
  return buildDatapathPlan(defaultPlanInput(mode, options));
}

const field = <K extends keyof DatapathPlan['hops'][number]>(p: DatapathPlan, k: K) =>
  p.hops.map((h) => h[k]);

test('every mode builds cross-node and same-node with the expected hop counts', () => {
  const expected: Record<CniMode, [number, number]> = {
    'flannel-vxlan': [8, 3],
    'flannel-host-gw': [6, 3],
    'calico-bgp': [6, 4],
    'calico-ipip': [8, 4],
    'calico-vxlan': [8, 4],
    'calico-crosssubnet': [6, 4],
    kubenet: [6, 3],
  };
  assert.deepEqual(
    CNI_MODES.map((m) => m.mode),
    Object.keys(expected),
  );
  for (const { mode } of CNI_MODES) {
    const [cross, same] = expected[mode];
    const c = plan(mode);
    const s = plan(mode, { sameNode: true });
    assert.equal(c.hops.length, cross, `${mode} cross-node`);
    assert.equal(s.hops.length, same, `${mode} same-node`);
    assert.equal(c.sameNode, false);
    assert.equal(s.sameNode, true);
    assert.equal(c.mode, mode);
    assert.match(c.title, /cross-node$/);
    assert.match(s.title, /same-node$/);
    assert.equal(c.hops[0]?.action, 'origin');
    assert.equal(c.hops.at(-1)?.action, 'delivered');
    assert.ok(c.notes.length > 0, `${mode} has notes`);
    // Names are numbered 01.. in order and parse back to their own location and interface.
    for (const p of [c, s]) {
      p.hops.forEach((h, i) => {
        const parsed = parseHopName(h.name);
        assert.equal(parsed.index, i + 1, h.name);
        assert.equal(parsed.location.name, h.location.name, h.name);
        assert.equal(parsed.location.kind, h.location.kind, h.name);
        assert.equal(parsed.interface, h.interface, h.name);
      });
    }
  }
  assert.equal(plan('calico-crosssubnet', { crossSubnet: true }).hops.length, 8);
});

test('hop names equal the fixture capture names of the three lab datapaths', () => {
  for (const [lab, mode] of [
    ['flannel-vxlan', 'flannel-vxlan'],
    ['flannel-host-gw', 'flannel-host-gw'],
    ['calico-bgp', 'calico-bgp'],
  ] as const) {
    const names = readdirSync(join(FIXTURES, lab))
      .filter((f) => /^\d\d-.*\.pcap$/.test(f))
      .map((f) => f.replace(/\.pcap$/, ''))
      .sort();
    assert.ok(names.length >= 6, `${lab} fixtures present`);
    assert.deepEqual(field(plan(mode), 'name'), names, lab);
  }
  assert.deepEqual(field(plan('flannel-host-gw'), 'name'), [
    '01-podA-eth0',
    '02-nodeA-cni0',
    '03-nodeA-eth0',
    '04-nodeB-eth0',
    '05-nodeB-cni0',
    '06-podB-eth0',
  ]);
});

test('TTLs per hop: once less per routing step, never for bridging or tunnelling', () => {
  const cases: [CniMode, Parameters<typeof defaultPlanInput>[1], number[]][] = [
    ['flannel-vxlan', {}, [64, 64, 63, 63, 63, 63, 62, 62]],
    ['flannel-host-gw', {}, [64, 64, 63, 63, 62, 62]],
    ['calico-bgp', {}, [64, 64, 63, 63, 62, 62]],
    ['calico-ipip', {}, [64, 64, 63, 63, 63, 63, 62, 62]],
    ['calico-vxlan', {}, [64, 64, 63, 63, 63, 63, 62, 62]],
    ['calico-crosssubnet', {}, [64, 64, 63, 63, 62, 62]],
    ['calico-crosssubnet', { crossSubnet: true }, [64, 64, 63, 63, 63, 63, 62, 62]],
    ['kubenet', {}, [64, 64, 63, 63, 62, 62]],
    ['flannel-vxlan', { sameNode: true }, [64, 64, 64]],
    ['flannel-host-gw', { sameNode: true }, [64, 64, 64]],
    ['kubenet', { sameNode: true }, [64, 64, 64]],
    ['calico-bgp', { sameNode: true }, [64, 64, 63, 63]],
    ['calico-ipip', { sameNode: true }, [64, 64, 63, 63]],
    ['calico-vxlan', { sameNode: true }, [64, 64, 63, 63]],
    ['calico-crosssubnet', { sameNode: true }, [64, 64, 63, 63]],
  ];
  for (const [mode, options, ttls] of cases) {
    assert.deepEqual(
      field(plan(mode, options), 'expectedTtl'),
      ttls,
      `${mode} ${JSON.stringify(options)}`,
    );
  }
  const low = buildDatapathPlan({ ...defaultPlanInput('flannel-vxlan'), initialTtl: 10 });
  assert.deepEqual(field(low, 'expectedTtl'), [10, 10, 9, 9, 9, 9, 8, 8]);
  assert.equal(low.hops[2]?.label, 'routed TTL 10→9');
});

test('actions, labels and encapsulation of the Flannel VXLAN plan', () => {
  const p = plan('flannel-vxlan');
  assert.deepEqual(field(p, 'action'), [
    'origin',
    'bridged',
    'routed',
    'encapsulated',
    'wire',
    'decapsulated',
    'routed',
    'delivered',
  ]);
  assert.deepEqual(field(p, 'label').slice(1, 7), [
    'bridged (cni0)',
    'routed TTL 64→63',
    'VXLAN encap +50 B, UDP 8472, VNI 1',
    'wire, outer 172.18.0.5 → 172.18.0.6',
    'decap, inner TTL 63',
    'routed TTL 63→62',
  ]);
  const encap = {
    type: 'vxlan',
    overheadBytes: 50,
    vni: 1,
    dstPort: 8472,
    outerSrc: '172.18.0.5',
    outerDst: '172.18.0.6',
  };
  assert.deepEqual(field(p, 'encapsulation'), [null, null, null, encap, encap, null, null, null]);
  assert.deepEqual(field(p, 'mtu'), [1450, 1450, 1450, 1500, 1500, 1450, 1450, 1450]);
  assert.ok(p.notes.some((n) => n.includes('10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink')));
  assert.ok(p.notes.some((n) => n.includes('dst 172.18.0.6')));
  assert.ok(p.notes.some((n) => n.includes('1450 = 1500 − 50')));
});

test('VNI and port overrides reach the encapsulated hops and their filters', () => {
  const p = flannelVxlanPlan({ ...defaultPlanInput('flannel-vxlan'), vni: 7, vxlanPort: 4789 });
  assert.equal(p.hops[3]?.label, 'VXLAN encap +50 B, UDP 4789, VNI 7');
  assert.equal(p.hops[3]?.encapsulation?.vni, 7);
  assert.equal(
    p.hops[4]?.filter,
    '(udp port 4789 and host 172.18.0.5 and host 172.18.0.6) or (icmp and dst host 172.18.0.5 and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed) and icmp[24:4] == 0xac120006)',
  );
});

test('Calico: VXLAN 4789/4096 +50 B MTU 1450, IPIP +20 B MTU 1480, BGP plain 1500', () => {
  const vx = plan('calico-vxlan');
  assert.deepEqual(field(vx, 'name').slice(2, 6), [
    '03-nodeA-vxlan.calico',
    '04-nodeA-eth0',
    '05-nodeB-eth0',
    '06-nodeB-vxlan.calico',
  ]);
  assert.equal(vx.hops[3]?.label, 'VXLAN encap +50 B, UDP 4789, VNI 4096');
  assert.equal(vx.hops[3]?.encapsulation?.overheadBytes, 50);
  assert.equal(
    vx.hops[4]?.filter,
    '(udp port 4789 and host 172.18.0.5 and host 172.18.0.6) or (icmp and dst host 172.18.0.5 and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed) and icmp[24:4] == 0xac120006)',
  );
  assert.deepEqual(field(vx, 'mtu'), [1450, 1450, 1450, 1500, 1500, 1450, 1450, 1450]);

  const ipip = plan('calico-ipip');
  assert.deepEqual(field(ipip, 'name'), [
    '01-podA-eth0',
    '02-nodeA-cali1f5c8e2a9b3',
    '03-nodeA-tunl0',
    '04-nodeA-eth0',
    '05-nodeB-eth0',
    '06-nodeB-tunl0',
    '07-nodeB-cali7d04b6e1c52',
    '08-podB-eth0',
  ]);
  assert.deepEqual(ipip.hops[3]?.encapsulation, {
    type: 'ipip',
    overheadBytes: 20,
    outerSrc: '172.18.0.5',
    outerDst: '172.18.0.6',
  });
  assert.equal(
    ipip.hops[3]?.filter,
    '(ip proto 4 and host 172.18.0.5 and host 172.18.0.6) or (icmp and dst host 172.18.0.5 and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed) and icmp[24:4] == 0xac120006)',
  );
  assert.deepEqual(field(ipip, 'mtu'), [1480, 1480, 1480, 1500, 1500, 1480, 1480, 1480]);

  const bgp = plan('calico-bgp');
  assert.deepEqual(field(bgp, 'action'), [
    'origin',
    'veth',
    'routed',
    'wire',
    'routed',
    'delivered',
  ]);
  assert.ok(bgp.hops.every((h) => h.encapsulation === null && h.mtu === 1500));
  assert.ok(
    bgp.notes.some((n) => n.includes('192.168.231.128/26 via 172.18.0.6 dev eth0 proto bird')),
  );
  assert.ok(bgp.notes.some((n) => n.includes('169.254.1.1')));
  assert.equal(bgp.destination.ip, '192.168.231.131');

  const same = plan('calico-bgp', { sameNode: true });
  assert.deepEqual(field(same, 'action'), ['origin', 'veth', 'routed', 'delivered']);
  assert.equal(same.hops[2]?.location.name, 'nodeA');
});

test('CrossSubnet decides by the node subnets', () => {
  const base = defaultPlanInput('calico-crosssubnet');
  const sameSubnet = calicoCrossSubnetPlan(base);
  assert.ok(sameSubnet.hops.every((h) => h.encapsulation === null));
  assert.equal(sameSubnet.hops[2]?.name, '03-nodeA-eth0');
  const across = plan('calico-crosssubnet', { crossSubnet: true });
  assert.equal(across.hops[3]?.encapsulation?.type, 'ipip');
  assert.equal(
    across.hops[3]?.filter,
    '(ip proto 4 and host 172.18.0.5 and host 172.18.1.6) or (icmp and dst host 172.18.0.5 and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed) and icmp[24:4] == 0xac120106)',
  );
  // Only one side knows its subnet: still decided.
  const oneSided: PlanInput = {
    ...base,
    nodes: [
      { name: 'nodeA', ip: '10.0.0.5', subnet: '10.0.0.0/24' },
      { name: 'nodeB', ip: '10.0.1.6' },
    ],
  };
  assert.equal(calicoCrossSubnetPlan(oneSided).hops.length, 8);
  const unknown: PlanInput = {
    ...oneSided,
    nodes: [
      { name: 'nodeA', ip: '10.0.0.5' },
      { name: 'nodeB', ip: '10.0.1.6' },
    ],
  };
  const assumed = calicoCrossSubnetPlan(unknown);
  assert.equal(assumed.hops.length, 6);
  assert.ok(assumed.notes.some((n) => n.includes('assumed')));
});

test('filters: probe hops filter on the pods, tunnel hops on the nodes, plus ICMP errors about them', () => {
  const filters = new Set<string>();
  const tcp = plan('flannel-vxlan', { probe: { protocol: 'tcp', port: 5201 } });
  assert.equal(
    tcp.hops[0]?.filter,
    '(tcp port 5201 and host 10.244.0.5 and host 10.244.1.4) or (icmp and dst host 10.244.0.5 and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed) and icmp[24:4] == 0x0af40104)',
  );
  assert.equal(
    tcp.hops[3]?.filter,
    '(udp port 8472 and host 172.18.0.5 and host 172.18.0.6) or (icmp and dst host 172.18.0.5 and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed) and icmp[24:4] == 0xac120006)',
  );
  const icmp = plan('calico-bgp');
  assert.equal(
    icmp.hops[2]?.filter,
    '(icmp and host 192.168.49.66 and host 192.168.231.131) or (icmp and dst host 192.168.49.66 and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed) and icmp[24:4] == 0xc0a8e783)',
  );
  for (const { mode } of CNI_MODES) {
    for (const options of [{}, { sameNode: true }, { crossSubnet: true }]) {
      for (const h of plan(mode, options).hops) {
        // tcpdump syntax only: words, numbers, dots, byte offsets, comparisons and grouping;
        // no quotes, ;, |, &, $, backticks, redirections or backslashes.
        assert.match(h.filter, /^[a-z0-9 .:()[\]=-]+$/, `${mode} ${h.name}: ${h.filter}`);
        assert.ok(!/[;|&$`'"<>\\]/.test(h.filter));
        if (h.encapsulation?.type === 'vxlan') {
          assert.match(h.filter, new RegExp(`^\\(udp port ${h.encapsulation.dstPort} and host`));
        }
        if (h.encapsulation?.type === 'ipip') assert.match(h.filter, /^\(ip proto 4 and host/);
        // Every hop also keeps the ICMP errors sent back about what it filters on.
        assert.match(
          h.filter,
          / or \(icmp and dst host \S+ and \(icmp\[icmptype\] == icmp-unreach or icmp\[icmptype\] == icmp-timxceed\) and icmp\[24:4\] == 0x[0-9a-f]{8}\)$/,
        );
        filters.add(h.filter);
      }
    }
  }
  compiledFilters.push(...filters);
});

const compiledFilters: string[] = [];

test('every filter compiles with tcpdump, IPv6 included (reading a pcap: no root needed)', (t) => {
  const pcap = join(__dirname, '..', 'fixtures', 'decoder-gaps', 'gre-tunnels.pcap');
  const probe = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  if (probe.error) return t.skip('tcpdump is not installed here');
  const base = defaultPlanInput('flannel-vxlan');
  const v6 = buildDatapathPlan({
    ...base,
    source: { ...base.source, ip: 'fd00:10:244::5' },
    destination: { ...base.destination, ip: 'fd00:10:244:1::4' },
    nodes: [
      { name: 'nodeA', ip: 'fc00:f853:ccd:e793::5' },
      { name: 'nodeB', ip: 'fc00:f853:ccd:e793::6' },
    ],
  });
  const all = [...new Set([...compiledFilters, ...v6.hops.map((h) => h.filter)])];
  assert.ok(all.length >= 10, `${all.length} filters`);
  for (const filter of all) {
    const r = spawnSync('tcpdump', ['-r', pcap, '-d', filter], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${filter}: ${r.stderr}`);
    // The compiled program compares the quoted datagram's destination (IPv4).
    const quoted = /icmp\[24:4\] == 0x0*([0-9a-f]+)/.exec(filter)?.[1];
    if (quoted) assert.ok(r.stdout.includes(`jeq      #0x${quoted} `), `${filter}\n${r.stdout}`);
    else assert.match(filter, / or \(icmp6 and dst host \S+ and \(icmp6\[0\] == 1 /);
  }
});

test('hostile or broken input is refused with PlanInputError, not quoted into a filter', () => {
  const base = defaultPlanInput('flannel-vxlan');
  const bad: PlanInput[] = [
    { ...base, destination: { ...base.destination, ip: '10.244.1.4 or port 22' } },
    { ...base, source: { ...base.source, name: '../etc' } },
    { ...base, source: { ...base.source, interface: 'eth0; reboot' } },
    { ...base, nodes: [base.nodes[0]!] },
    { ...base, vni: 1 << 24 },
    { ...base, vxlanPort: 0 },
    { ...base, initialTtl: 0 },
    { ...base, probe: { protocol: 'tcp', port: 70000 } },
    { ...base, source: { ...base.source, kind: 'node' } },
  ];
  for (const input of bad) assert.throws(() => buildDatapathPlan(input), PlanInputError);
});

test('missing cali names get a placeholder and a note saying how to find the real one', () => {
  const base = defaultPlanInput('calico-bgp');
  const p = buildDatapathPlan({
    ...base,
    destination: { ...base.destination, hostInterface: undefined },
  });
  assert.equal(p.hops[4]?.name, '05-nodeB-calipodB');
  assert.ok(p.notes.some((n) => n.includes('ip route get 192.168.231.131')));
});

test('isCniMode and CNI_MODES', () => {
  assert.equal(isCniMode('calico-vxlan'), true);
  assert.equal(isCniMode('cilium'), false);
  assert.equal(CNI_MODES.length, 7);
  assert.ok(CNI_MODES.every((m) => m.title && m.description));
});

// --- against what the lab captured ---------------------------------------------------

/** Innermost TTL and IP lengths of the first TCP SYN to port 5201 in a `tcpdump -v` capture. */
function firstSyn(text: string): { ttl: number; innerLength: number; outerLength: number | null } {
  const lines = text.split('\n');
  const syn = lines.findIndex((l) => /\.5201: Flags \[S\],/.test(l));
  assert.ok(syn > 0, 'a SYN in the capture');
  // The record starts at the last timestamped line before the SYN (the outer header under VXLAN).
  let start = syn - 1;
  while (start > 0 && !/^\d\d:\d\d:\d\d\.\d+ IP /.test(lines[start] ?? '')) start--;
  const inRecord = lines
    .slice(start, syn)
    .map((l) => /\bttl (\d+),.* length (\d+)\)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  assert.ok(inRecord.length > 0);
  const inner = inRecord.at(-1)!;
  return {
    ttl: Number(inner[1]),
    innerLength: Number(inner[2]),
    outerLength: inRecord.length > 1 ? Number(inRecord[0]![2]) : null,
  };
}

test('plan TTLs and overheads match the lab captures hop by hop (tcp round, -v)', () => {
  for (const mode of ['flannel-vxlan', 'flannel-host-gw', 'calico-bgp'] as const) {
    const p = plan(mode, { probe: { protocol: 'tcp', port: 5201 } });
    for (const h of p.hops) {
      const file = join(FIXTURES, mode, `${h.name}.tcp.txt`);
      const seen = firstSyn(readFileSync(file, 'utf8'));
      assert.equal(seen.ttl, h.expectedTtl, `${mode} ${h.name} TTL`);
      if (h.encapsulation) {
        assert.equal(seen.outerLength! - seen.innerLength, h.encapsulation.overheadBytes, h.name);
      } else {
        assert.equal(seen.outerLength, null, `${h.name} not encapsulated`);
      }
    }
  }
  const vxlan = readFileSync(join(FIXTURES, 'flannel-vxlan', '04-nodeA-eth0.txt'), 'utf8');
  assert.match(
    vxlan,
    /172\.18\.0\.5\.\d+ > 172\.18\.0\.6\.8472: OTV, flags \[I\] \(0x08\), overlay 0, instance 1/,
  );
});

test('plan MTUs match the interfaces in the lab state dumps', () => {
  let compared = 0;
  for (const mode of ['flannel-vxlan', 'flannel-host-gw', 'calico-bgp'] as const) {
    for (const h of plan(mode).hops) {
      const file = join(FIXTURES, mode, 'state', `${h.location.name}.ip-addr.txt`);
      assert.ok(existsSync(file), file);
      const m = new RegExp(
        `^\\d+: ${h.interface.replace('.', '\\.')}(?:@\\S+)?: <[^>]*> mtu (\\d+)`,
        'm',
      ).exec(readFileSync(file, 'utf8'));
      assert.ok(m, `${h.interface} in ${file}`);
      assert.equal(Number(m[1]), h.mtu, `${mode} ${h.name} MTU`);
      compared++;
    }
  }
  assert.equal(compared, 8 + 6 + 6);
});

test('default addressing is the fixtures’ addressing', () => {
  const read = (lab: string, who: string) =>
    readFileSync(join(FIXTURES, lab, 'state', `${who}.ip-addr.txt`), 'utf8');
  for (const [lab, mode] of [
    ['flannel-vxlan', 'flannel-vxlan'],
    ['calico-bgp', 'calico-bgp'],
  ] as const) {
    const input = defaultPlanInput(mode);
    assert.ok(read(lab, 'podA').includes(`inet ${input.source.ip}/`), `${lab} podA`);
    assert.ok(read(lab, 'podB').includes(`inet ${input.destination.ip}/`), `${lab} podB`);
    assert.ok(read(lab, 'podA').includes(`link/ether ${input.source.mac} `));
    assert.ok(read(lab, 'podB').includes(`link/ether ${input.destination.mac} `));
    for (const n of input.nodes) {
      assert.ok(read(lab, n.name).includes(`inet ${n.ip}/24`), `${lab} ${n.name}`);
      assert.ok(read(lab, n.name).includes(`link/ether ${n.mac} `));
    }
  }
  const calico = read('calico-bgp', 'nodeB');
  assert.match(calico, /cali7d04b6e1c52@/);
  assert.match(read('calico-bgp', 'nodeA'), /cali1f5c8e2a9b3@/);
});

test('IPv6 underlay: VXLAN overhead 70 B and MTU 1430; IPv6 pods filter on icmp6', () => {
  const base = defaultPlanInput('flannel-vxlan');
  const p = buildDatapathPlan({
    ...base,
    source: { ...base.source, ip: 'fd00:10:244::5' },
    destination: { ...base.destination, ip: 'fd00:10:244:1::4' },
    nodes: [
      { name: 'nodeA', ip: 'fc00:f853:ccd:e793::5' },
      { name: 'nodeB', ip: 'fc00:f853:ccd:e793::6' },
    ],
  });
  assert.equal(p.hops[3]?.encapsulation?.overheadBytes, 70);
  assert.equal(p.hops[2]?.mtu, 1430);
  assert.equal(
    p.hops[0]?.filter,
    '(icmp6 and host fd00:10:244::5 and host fd00:10:244:1::4) or (icmp6 and dst host fd00:10:244::5 and (icmp6[0] == 1 or icmp6[0] == 2 or icmp6[0] == 3))',
  );
  assert.throws(
    () =>
      buildDatapathPlan({
        ...defaultPlanInput('calico-ipip'),
        nodes: [
          { name: 'nodeA', ip: 'fc00::5' },
          { name: 'nodeB', ip: 'fc00::6' },
        ],
      }),
    /IPv4 only/,
  );
});
