// Live datapath plans built from the state dumps of the offline labs
// (test/fixtures/netns/<lab>/state, see SOURCES.md there): the plan must be the
// lab's static plan, with the real names, and contradicting state must be named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLivePlan, routeFor } from '../../src/core/datapath/livePlan';
import type { LivePlanInput, NodeStateDump } from '../../src/core/datapath/livePlan';
import { buildDatapathPlan } from '../../src/core/datapath/plans';
import { findLab } from '../../src/core/labs/catalog';
import { parseIpRoute } from '../../src/core/netstate/ipRoute';

const FIXTURES = join(__dirname, '..', 'fixtures', 'netns');

function stateFile(lab: string, name: string): string {
  const path = join(FIXTURES, lab, 'state', name);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function nodeDump(lab: string, node: string): NodeStateDump {
  const dir = join(FIXTURES, lab, 'state');
  // The shared dumps hold `bridge fdb show br cni0` and `… dev flannel.1` apart; together they are `bridge fdb show`.
  const fdb = readdirSync(dir)
    .filter((f) => f.startsWith(`${node}.bridge-fdb-show`))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      // `bridge fdb show dev X` leaves out `dev X` on every line; put it back.
      const dev = /bridge-fdb-show-dev-(.+)\.txt$/.exec(f)?.[1];
      return dev === undefined ? text : text.replace(/^(\S+) /gm, `$1 dev ${dev} `);
    })
    .join('');
  return {
    link: stateFile(lab, `${node}.ip-d-link.txt`),
    addr: stateFile(lab, `${node}.ip-addr.txt`),
    route: stateFile(lab, `${node}.ip-route.txt`),
    neigh: stateFile(lab, `${node}.ip-neigh.txt`),
    fdb,
  };
}

function liveInput(labId: string): LivePlanInput {
  const lab = findLab(labId);
  assert.ok(lab, labId);
  const [podA, podB] = lab.network.pods;
  assert.ok(podA && podB);
  return {
    mode: lab.mode,
    source: {
      name: 'podA',
      node: 'nodeA',
      ip: podA.ip,
      link: stateFile(labId, 'podA.ip-d-link.txt'),
    },
    destination: {
      name: 'podB',
      node: 'nodeB',
      ip: podB.ip,
      link: stateFile(labId, 'podB.ip-d-link.txt'),
    },
    nodes: { nodeA: nodeDump(labId, 'nodeA'), nodeB: nodeDump(labId, 'nodeB') },
  };
}

for (const labId of ['flannel-vxlan', 'flannel-host-gw', 'calico-bgp', 'calico-vxlan']) {
  test(`${labId}: the plan built from the lab's state dumps is the lab's static plan`, () => {
    const lab = findLab(labId);
    assert.ok(lab);
    const live = buildLivePlan(liveInput(labId));
    assert.deepEqual(live.problems, []);
    assert.deepEqual(live.plan, buildDatapathPlan(lab.planInput));
    // the names came from the state: the pods' host veths by iflink
    const ifaces = live.plan?.hops.map((h) => h.interface) ?? [];
    assert.ok(
      ifaces.includes(lab.network.pods[0]?.hostInterface ?? '?') || ifaces.includes('cni0'),
    );
    assert.equal(live.input?.source.hostInterface, lab.network.pods[0]?.hostInterface);
    assert.equal(live.input?.destination.hostInterface, lab.network.pods[1]?.hostInterface);
  });
}

function edit(
  input: LivePlanInput,
  node: 'nodeA' | 'nodeB',
  field: keyof NodeStateDump,
  f: (s: string) => string,
): LivePlanInput {
  const nodes = { ...input.nodes };
  const dump = nodes[node];
  assert.ok(dump);
  nodes[node] = { ...dump, [field]: f(dump[field]) };
  return { ...input, nodes };
}

function withoutLinesMatching(re: RegExp): (s: string) => string {
  return (s) =>
    s
      .split('\n')
      .filter((l) => !re.test(l))
      .join('\n');
}

/** Drops one `ip link` block (header and its indented lines). */
function withoutLink(name: string): (s: string) => string {
  return (s) => {
    const out: string[] = [];
    let skipping = false;
    for (const line of s.split('\n')) {
      if (!/^\s/.test(line))
        skipping = new RegExp(`^\\d+: ${name.replace('.', '\\.')}[:@]`).test(line);
      if (!skipping) out.push(line);
    }
    return out.join('\n');
  };
}

test('flannel-vxlan: a VNI other than 1 names the device flannel.<VNI> at both tunnel hops', () => {
  let input = liveInput('flannel-vxlan');
  for (const node of ['nodeA', 'nodeB'] as const) {
    input = edit(input, node, 'link', (s) =>
      s.replace(/flannel\.1/g, 'flannel.7').replace('vxlan id 1 ', 'vxlan id 7 '),
    );
    input = edit(input, node, 'addr', (s) => s.replace(/flannel\.1/g, 'flannel.7'));
    input = edit(input, node, 'route', (s) => s.replace(/flannel\.1/g, 'flannel.7'));
    input = edit(input, node, 'neigh', (s) => s.replace(/flannel\.1/g, 'flannel.7'));
    input = edit(input, node, 'fdb', (s) => s.replace(/flannel\.1/g, 'flannel.7'));
  }
  const live = buildLivePlan(input);
  assert.deepEqual(live.problems, []);
  assert.deepEqual(
    live.plan?.hops.map((h) => h.name),
    [
      '01-podA-eth0',
      '02-nodeA-cni0',
      '03-nodeA-flannel.7',
      '04-nodeA-eth0',
      '05-nodeB-eth0',
      '06-nodeB-flannel.7',
      '07-nodeB-cni0',
      '08-podB-eth0',
    ],
  );
  assert.equal(live.plan?.hops[3]?.encapsulation?.vni, 7);
  assert.equal(live.plan?.hops[3]?.encapsulation?.dstPort, 8472);
  assert.ok(!live.plan?.notes.join(' ').includes('flannel.1'));
});

test('flannel-vxlan: no flannel.1 on node A is a problem before anything is captured', () => {
  const input = edit(liveInput('flannel-vxlan'), 'nodeA', 'link', withoutLink('flannel.1'));
  const live = buildLivePlan(edit(input, 'nodeA', 'addr', withoutLink('flannel.1')));
  assert.ok(
    live.problems.some(
      (p) =>
        p ===
        'nodeA has no flannel.<VNI> device, which flannel-vxlan sends cross-node traffic through.',
    ),
    live.problems.join('\n'),
  );
});

test('flannel-vxlan: a missing FDB entry for the peer VTEP is named', () => {
  const live = buildLivePlan(
    edit(liveInput('flannel-vxlan'), 'nodeA', 'fdb', withoutLinesMatching(/dst 172\.18\.0\.6/)),
  );
  assert.deepEqual(live.problems, [
    'nodeA has no FDB entry for 3e:a5:91:07:bc:22 on flannel.1: it does not know which node to send the encapsulated frame to.',
  ]);
  assert.equal(live.plan?.hops.length, 8);
});

test('flannel-vxlan: a missing neighbour entry and a missing route are named', () => {
  const noNeigh = buildLivePlan(
    edit(liveInput('flannel-vxlan'), 'nodeA', 'neigh', withoutLinesMatching(/flannel\.1/)),
  );
  assert.deepEqual(noNeigh.problems, [
    "nodeA has no neighbour entry for 10.244.1.0 on flannel.1: the VXLAN device cannot address the peer's VTEP.",
  ]);
  const noRoute = buildLivePlan(
    edit(liveInput('flannel-vxlan'), 'nodeA', 'route', withoutLinesMatching(/^10\.244\.1\.0/)),
  );
  assert.deepEqual(noRoute.problems, [
    "nodeA has no route for 10.244.1.4's pod network: the probe would follow the default route out of eth0.",
  ]);
});

test('flannel-vxlan: a pod MTU larger than the tunnel is named', () => {
  const input = liveInput('flannel-vxlan');
  const live = buildLivePlan({
    ...input,
    source: {
      ...input.source,
      link: input.source.link.replace(
        'eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450',
        'eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500',
      ),
    },
  });
  assert.deepEqual(live.problems, [
    "podA's eth0 has MTU 1500 but nodeA's flannel.1 only 1450: full-size packets are dropped going into the tunnel.",
  ]);
  assert.equal(live.plan?.hops[0]?.mtu, 1500);
});

test('calico-bgp: a blackhole route and a route via the wrong node are named', () => {
  const blackhole = buildLivePlan(
    edit(
      liveInput('calico-bgp'),
      'nodeA',
      'route',
      (s) => `${s}blackhole 192.168.231.131 proto static\n`,
    ),
  );
  assert.deepEqual(blackhole.problems, [
    'nodeA routes 192.168.231.131 by `blackhole 192.168.231.131 proto static`: a blackhole route drops the probe.',
  ]);
  const wrong = buildLivePlan(
    edit(liveInput('calico-bgp'), 'nodeA', 'route', (s) =>
      s.replace('via 172.18.0.6', 'via 172.18.0.9'),
    ),
  );
  assert.equal(wrong.problems.length, 1);
  assert.match(wrong.problems[0] ?? '', /not via nodeB \(172\.18\.0\.6\) as calico-bgp does/);
});

test('a pod whose iflink names no interface on its node is a problem, and the plan says the name is unknown', () => {
  const input = liveInput('calico-bgp');
  const live = buildLivePlan({
    ...input,
    source: { ...input.source, link: input.source.link.replace('eth0@if3', 'eth0@if42') },
  });
  assert.deepEqual(live.problems, [
    "nodeA has no interface with ifindex 42 (the iflink of podA's eth0): the pod's host-side veth is missing.",
  ]);
  assert.ok(live.plan?.notes.some((n) => n.includes("The host side of podA's veth is unknown")));
});

test('no state for a node gives no plan and says which node', () => {
  const input = liveInput('flannel-vxlan');
  const live = buildLivePlan({ ...input, nodes: { nodeA: input.nodes.nodeA as NodeStateDump } });
  assert.equal(live.plan, null);
  assert.deepEqual(live.problems, ['No state was read from node nodeB, where podB runs.']);
});

test('routeFor picks the longest prefix, and the default route last', () => {
  const routes = parseIpRoute(stateFile('flannel-vxlan', 'nodeA.ip-route.txt'));
  assert.equal(routeFor(routes, '10.244.1.4')?.dev, 'flannel.1');
  assert.equal(routeFor(routes, '10.244.0.5')?.dev, 'cni0');
  assert.equal(routeFor(routes, '8.8.8.8')?.destination, 'default');
});
