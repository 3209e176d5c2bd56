import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FAULTS, LABS, expectedMissingHop, findLab } from '../../src/core/labs/catalog';
import type { LabDefinition } from '../../src/core/labs/catalog';
import { meshProtocolName, renderBirdConfig } from '../../src/core/labs/birdConfig';
import { dockerMac, stableHex, stableMac } from '../../src/core/labs/stableMac';
import { buildDatapathPlan, defaultPlanInput } from '../../src/core/datapath/plans';
import { parseIpAddr } from '../../src/core/netstate/ipLink';

const FIX = path.join(__dirname, '..', 'fixtures', 'netns');
const fixture = (...parts: string[]): string => readFileSync(path.join(FIX, ...parts), 'utf8');

function lab(id: string): LabDefinition {
  const l = findLab(id);
  assert.ok(l, `lab ${id}`);
  return l;
}

test('the catalog has every mode and its same-node variant, with unique ids and namespaces', () => {
  const modes = ['flannel-vxlan', 'flannel-host-gw', 'calico-bgp', 'calico-vxlan', 'calico-ipip'];
  assert.deepEqual(
    LABS.map((l) => l.id).sort(),
    [
      ...modes.flatMap((m) => [m, `${m}-same-node`]),
      'service-affinity',
      'service-clusterip',
      'service-local',
      'service-nodeport',
    ].sort(),
  );
  assert.equal(new Set(LABS.map((l) => l.network.short)).size, LABS.length);
  assert.equal(findLab('nope'), undefined);
  for (const l of LABS) {
    assert.equal(l.sameNode, l.id.endsWith('-same-node'));
    assert.equal(l.planInput.mode, l.mode);
    assert.ok(l.requires.tools.includes('ip') && l.requires.tools.includes('tcpdump'));
    assert.equal(l.requires.tools.includes('bird'), l.mode === 'calico-bgp', l.id);
  }
  assert.deepEqual(lab('calico-ipip').requires.linkKinds, ['veth', 'bridge', 'ipip']);
});

test('every interface name fits IFNAMSIZ and every MAC is a valid unicast MAC', () => {
  const mac = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
  for (const l of LABS) {
    const n = l.network;
    const names = [
      n.underlay.bridge,
      ...n.nodes.flatMap((x) => [x.underlayPort, x.bridge?.name, x.tunnel?.device]),
      ...n.pods.map((p) => p.hostInterface),
    ].filter((x): x is string => x !== undefined);
    for (const name of names) assert.ok(name.length <= 15, `${l.id}: ${name}`);
    const macs = [
      n.underlay.mac,
      ...n.nodes.flatMap((x) => [x.mac, x.underlayPortMac, x.bridge?.mac, x.tunnel?.mac]),
      ...n.pods.flatMap((p) => [p.mac, p.hostMac]),
    ].filter((x): x is string => x !== undefined);
    for (const m of macs) {
      assert.match(m, mac, `${l.id}: ${m}`);
      assert.equal(parseInt(m.slice(0, 2), 16) & 1, 0, `${l.id}: ${m} is multicast`);
    }
    for (const p of n.pods)
      assert.equal(p.hostInterface.startsWith(l.mode.startsWith('calico') ? 'cali' : 'veth'), true);
  }
});

test('derived MACs and names are stable and locally administered', () => {
  assert.equal(stableMac('flannel/podB/nodeA/eth0'), stableMac('flannel/podB/nodeA/eth0'));
  assert.notEqual(stableMac('a'), stableMac('b'));
  assert.equal(parseInt(stableMac('x').slice(0, 2), 16) & 3, 2);
  assert.match(stableHex('calico/podB/nodeA', 11), /^[0-9a-f]{11}$/);
  assert.equal(dockerMac('172.18.0.5'), '02:42:ac:12:00:05');
});

test("the Flannel and Calico labs use the reference captures' addresses and MACs", () => {
  for (const [id, fixtureLab] of [
    ['flannel-vxlan', 'flannel-vxlan'],
    ['flannel-host-gw', 'flannel-host-gw'],
    ['calico-bgp', 'calico-bgp'],
  ] as const) {
    const l = lab(id);
    for (const role of ['nodeA', 'nodeB', 'podA', 'podB']) {
      const ifaces = parseIpAddr(fixture(fixtureLab, 'state', `${role}.ip-addr.txt`));
      for (const iface of ifaces.filter((i) => i.name !== 'lo')) {
        const v4 = iface.addresses.find((a) => a.family === 'inet');
        let expected: { mac: string; ip?: string; mtu: number } | undefined;
        const node = l.network.nodes.find((n) => n.name === role);
        const pod = l.network.pods.find((p) => p.name === role);
        if (pod && iface.name === 'eth0')
          expected = { mac: pod.mac, ip: `${pod.ip}/${pod.prefixLength}`, mtu: pod.mtu };
        if (node && iface.name === 'eth0')
          expected = { mac: node.mac, ip: `${node.ip}/24`, mtu: 1500 };
        if (node?.bridge && iface.name === 'cni0')
          expected = {
            mac: node.bridge.mac,
            ip: `${node.bridge.address}/24`,
            mtu: node.bridge.mtu,
          };
        if (node?.tunnel && iface.name === node.tunnel.device)
          expected = {
            mac: node.tunnel.mac ?? '',
            ip: `${node.tunnel.address}/32`,
            mtu: node.tunnel.mtu,
          };
        const hostSide = l.network.pods.find(
          (p) => p.node === role && p.hostInterface === iface.name,
        );
        if (hostSide) expected = { mac: hostSide.hostMac, mtu: hostSide.mtu };
        assert.ok(expected, `${id} ${role} ${iface.name} is not in the lab definition`);
        assert.equal(iface.mac, expected.mac, `${id} ${role} ${iface.name} MAC`);
        assert.equal(iface.mtu, expected.mtu, `${id} ${role} ${iface.name} MTU`);
        assert.equal(
          v4 ? `${v4.address}/${v4.prefixLength}` : undefined,
          expected.ip,
          `${id} ${role} ${iface.name} IP`,
        );
      }
    }
  }
});

test("each lab's plan input agrees with the datapath plans' defaults and plans cleanly", () => {
  for (const l of LABS) {
    const d = defaultPlanInput(l.mode, { sameNode: l.sameNode });
    assert.equal(l.planInput.source.ip, d.source.ip, l.id);
    assert.equal(l.planInput.destination.ip, d.destination.ip, l.id);
    assert.equal(l.planInput.destination.node, d.destination.node, l.id);
    for (const [mine, theirs] of [
      [l.planInput.source, d.source],
      [l.planInput.destination, d.destination],
    ] as const) {
      if (theirs.hostInterface !== undefined)
        assert.equal(mine.hostInterface, theirs.hostInterface, l.id);
      if (theirs.mac !== undefined) assert.equal(mine.mac, theirs.mac, l.id);
    }
    assert.deepEqual(l.planInput.nodes, d.nodes, l.id);
    const plan = buildDatapathPlan(l.planInput);
    assert.equal(plan.sameNode, l.sameNode, l.id);
  }
});

test('expectedMissingHop names the plan hop where each fault stops the probe', () => {
  const table: Record<string, Record<string, string>> = {};
  for (const l of LABS) {
    if (l.faults.length === 0) continue;
    table[l.id] = Object.fromEntries(l.faults.map((f) => [f, expectedMissingHop(l, f)]));
  }
  assert.deepEqual(table, {
    'flannel-vxlan': {
      'missing-fdb': '04-nodeA-eth0',
      'missing-route': '03-nodeA-flannel.1',
      'mtu-mismatch': '03-nodeA-flannel.1',
      blackhole: '03-nodeA-flannel.1',
    },
    'flannel-host-gw': { 'missing-route': '04-nodeB-eth0', blackhole: '03-nodeA-eth0' },
    'calico-bgp': { 'missing-route': '04-nodeB-eth0', blackhole: '03-nodeA-eth0' },
    'calico-bgp-same-node': {
      'missing-route': '03-nodeA-cali5e9b0d3a7c2',
      blackhole: '03-nodeA-cali5e9b0d3a7c2',
    },
    'calico-vxlan': {
      'missing-fdb': '04-nodeA-eth0',
      'missing-route': '03-nodeA-vxlan.calico',
      'mtu-mismatch': '03-nodeA-vxlan.calico',
      blackhole: '03-nodeA-vxlan.calico',
    },
    'calico-vxlan-same-node': {
      'missing-route': '03-nodeA-cali5e9b0d3a7c2',
      blackhole: '03-nodeA-cali5e9b0d3a7c2',
    },
    'calico-ipip': {
      'missing-route': '03-nodeA-tunl0',
      'mtu-mismatch': '03-nodeA-tunl0',
      blackhole: '03-nodeA-tunl0',
    },
    'calico-ipip-same-node': {
      'missing-route': '03-nodeA-cali5e9b0d3a7c2',
      blackhole: '03-nodeA-cali5e9b0d3a7c2',
    },
  });
  assert.throws(() => expectedMissingHop(lab('flannel-host-gw'), 'missing-fdb'), /does not apply/);
});

test('faults are all defined, and the MTU fault says which probe shows it', () => {
  assert.deepEqual(FAULTS.map((f) => f.kind).sort(), [
    'blackhole',
    'missing-fdb',
    'missing-route',
    'mtu-mismatch',
  ]);
  const mtu = FAULTS.find((f) => f.kind === 'mtu-mismatch');
  assert.deepEqual(mtu?.probe, { payloadBytes: 1472, dontFragment: true });
  // 1472 B of ICMP payload + 8 ICMP + 20 IP = 1500: over every tunnel MTU, within the pod's mis-set 1500
  for (const l of LABS.filter((x) => x.faults.includes('mtu-mismatch'))) {
    const t = l.network.nodes[0]?.tunnel;
    assert.ok(t && 1472 + 28 > t.mtu && 1472 + 28 <= 1500, l.id);
  }
  for (const l of LABS) for (const f of l.faults) assert.ok(FAULTS.some((d) => d.kind === f));
});

test('renderBirdConfig reproduces the reference BIRD configurations', () => {
  const l = lab('calico-bgp');
  for (const node of l.network.nodes) {
    const peers = l.network.nodes.filter((n) => n !== node).map((n) => ({ ip: n.ip }));
    const text = renderBirdConfig({
      node: node.name,
      routerId: node.ip,
      sourceAddress: node.ip,
      asn: l.network.bgpAsn ?? 0,
      block: node.podCidr,
      pool: l.network.clusterCidr,
      peers,
      logPath: `/run/pp-lab/${node.name}.bird.log`,
    });
    assert.equal(text, fixture('calico-bgp', 'bgp', `${node.name}.bird.conf`));
  }
  assert.equal(meshProtocolName('172.18.0.6'), 'Mesh_172_18_0_6');
  const faulty = renderBirdConfig({
    node: 'nodeA',
    routerId: '172.18.0.5',
    sourceAddress: '172.18.0.5',
    asn: 64512,
    block: '192.168.49.64/26',
    pool: '192.168.0.0/16',
    peers: [{ ip: '172.18.0.6' }],
    logPath: '/run/pp-lab/x.log',
    connectDelaySeconds: 1,
    rejectFromPeers: ['192.168.231.128/26'],
    ignoreKernelRoutes: ['192.168.231.131/32'],
  });
  assert.match(faulty, /connect delay time 1;/);
  assert.match(faulty, /import where !\(net = 192\.168\.231\.128\/26\);/);
  assert.match(faulty, /import where !\(net = 192\.168\.231\.131\/32\);/);
});

test('Service labs: flannel-vxlan underneath, endpoints on the pods they name, the client and target they need', () => {
  const svc = LABS.filter((l) => l.service);
  assert.deepEqual(
    svc.map((l) => [l.id, l.mode, l.service!.client.kind, l.service!.target.port]),
    [
      ['service-clusterip', 'flannel-vxlan', 'pod', 80],
      ['service-nodeport', 'flannel-vxlan', 'outside', 30080],
      ['service-affinity', 'flannel-vxlan', 'pod', 80],
      ['service-local', 'flannel-vxlan', 'outside', 30080],
    ],
  );
  for (const l of svc) {
    const s = l.service!;
    for (const e of s.endpoints) {
      const pod = l.network.pods.find((p) => p.name === e.pod);
      assert.ok(pod, `${l.id}: ${e.pod}`);
      assert.equal(pod.ip, e.ip);
      assert.equal(pod.node, e.node);
    }
    assert.ok(l.requires.tools.includes('python3') && l.requires.tools.includes('conntrack'));
    // an outside client is its own namespace on the underlay, off the pod network
    assert.equal((l.network.clients ?? []).length, s.client.kind === 'outside' ? 1 : 0);
  }
  // endpoints on both nodes where the lab is about spreading; one on node B for NodePort
  assert.deepEqual(
    lab('service-clusterip').service!.endpoints.map((e) => e.node),
    ['nodeB', 'nodeA', 'nodeB'],
  );
  assert.deepEqual(
    lab('service-nodeport').service!.endpoints.map((e) => e.node),
    ['nodeB'],
  );
  assert.equal(lab('service-affinity').service!.spec.affinitySeconds, 10800);
  assert.equal(lab('service-local').service!.spec.externalTrafficPolicy, 'Local');
});
