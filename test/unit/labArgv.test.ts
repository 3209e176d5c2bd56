// The lab build as argv lists (src/core/labs/labArgv.ts): every lab and fault, checked
// without root and without touching the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABS, findLab } from '../../src/core/labs/catalog';
import type { FaultKind, LabDefinition } from '../../src/core/labs/catalog';
import {
  birdConfigFor,
  expectedBgpRoutes,
  faultCommands,
  labNamespace,
  labNamespaces,
  nodeCommands,
  podCommands,
  underlayCommands,
  underlayPortCommands,
} from '../../src/core/labs/labArgv';
import { fillPlanInput, toInterfaces } from '../../src/core/labs/labInventory';
import { linkCreatedBy } from '../../src/core/labs/runRecord';

function lab(id: string): LabDefinition {
  const l = findLab(id);
  assert.ok(l, id);
  return l;
}

function allCommands(l: LabDefinition, fault?: FaultKind): string[][] {
  return [
    ...underlayCommands(l),
    ...l.network.nodes.flatMap((n) => underlayPortCommands(l, n)),
    ...l.network.nodes.flatMap((n) => nodeCommands(l, n, fault)),
    ...l.network.pods.flatMap((p) => podCommands(l, p, fault)),
    ...faultCommands(l, fault),
  ];
}

/** The namespace an argv works in: `ip -n NS`, `bridge -n NS`, `ip netns exec NS`. */
function namespaceOf(argv: readonly string[]): string | undefined {
  if (argv[1] === '-n') return argv[2];
  if (argv[1] === 'netns' && argv[2] === 'exec') return argv[3];
  return undefined;
}

test('every lab has five pp-<short>- namespaces: underlay, two nodes, two pods', () => {
  assert.deepEqual(labNamespaces(lab('flannel-vxlan')), [
    'pp-fv-ul',
    'pp-fv-nodeA',
    'pp-fv-nodeB',
    'pp-fv-podA',
    'pp-fv-podB',
  ]);
  const all = LABS.flatMap(labNamespaces);
  assert.equal(new Set(all).size, all.length, 'no two labs share a namespace name');
});

for (const l of LABS) {
  for (const fault of [undefined, ...l.faults]) {
    test(`${l.id}${fault ? ` +${fault}` : ''}: every command stays in the lab's namespaces, every link is recordable`, () => {
      const own = new Set(labNamespaces(l));
      for (const argv of allCommands(l, fault)) {
        assert.ok(['ip', 'bridge'].includes(argv[0] ?? ''), argv.join(' '));
        const ns = namespaceOf(argv);
        assert.ok(ns !== undefined && own.has(ns), `outside the lab: ${argv.join(' ')}`);
        assert.ok(
          argv.every((a) => a.length > 0),
          `empty argument: ${argv.join(' ')}`,
        );
        const link = linkCreatedBy(argv);
        if (argv[0] === 'ip' && argv[3] === 'link' && argv[4] === 'add')
          assert.ok(link && own.has(link.namespace ?? ''), `link in the lab: ${argv.join(' ')}`);
        // IFNAMSIZ: the kernel refuses longer names
        if (link) assert.ok(link.name.length <= 15, link.name);
      }
    });
  }
}

test('flannel-vxlan nodeA: flannel.1 with VNI 1 on UDP 8472, its peer in the FDB, the route onlink', () => {
  const l = lab('flannel-vxlan');
  const nodeA = l.network.nodes[0]!;
  const cmds = nodeCommands(l, nodeA, undefined).map((a) => a.join(' '));
  assert.ok(
    cmds.some((c) =>
      /^ip -n pp-fv-nodeA link add flannel\.1 address \S+ mtu 1450 type vxlan id 1 local 172\.18\.0\.\d+ dev eth0 dstport 8472 nolearning$/.test(
        c,
      ),
    ),
    cmds.join('\n'),
  );
  assert.ok(
    cmds.some((c) =>
      /^bridge -n pp-fv-nodeA fdb append \S+ dev flannel\.1 dst \S+ self permanent$/.test(c),
    ),
  );
  assert.ok(
    cmds.some((c) =>
      /^ip -n pp-fv-nodeA route add 10\.244\.1\.0\/24 via 10\.244\.1\.0 dev flannel\.1 onlink$/.test(
        c,
      ),
    ),
    cmds.join('\n'),
  );
  // missing-fdb drops exactly the FDB entry on nodeA
  const broken = nodeCommands(l, nodeA, 'missing-fdb').map((a) => a.join(' '));
  assert.deepEqual(
    cmds.filter((c) => !broken.includes(c)).map((c) => c.split(' ').slice(3, 5).join(' ')),
    ['fdb append'],
  );
});

test('faults change the commands they name and nothing else', () => {
  const fv = lab('flannel-vxlan');
  const podA = fv.network.pods[0]!;
  assert.ok(podCommands(fv, podA, 'mtu-mismatch')[0]!.join(' ').includes('mtu 1500'));
  assert.ok(!podCommands(fv, podA, undefined)[0]!.join(' ').includes('mtu 1500'));
  assert.deepEqual(faultCommands(fv, 'blackhole'), [
    ['ip', '-n', 'pp-fv-nodeA', 'route', 'add', 'blackhole', `${fv.network.pods[1]!.ip}/32`],
  ]);
  assert.deepEqual(faultCommands(fv, 'missing-route'), []);
  const fvNodeA = fv.network.nodes[0]!;
  assert.ok(
    !nodeCommands(fv, fvNodeA, 'missing-route').some((a) => a.includes('10.244.1.0/24')),
    'no route to the peer block',
  );
});

test('calico pods get proxy ARP host interfaces, no bridge, and a 169.254.1.1 gateway', () => {
  const cb = lab('calico-bgp');
  const pod = cb.network.pods[0]!;
  const cmds = podCommands(cb, pod, undefined).map((a) => a.join(' '));
  assert.ok(cmds.some((c) => c.includes(`net.ipv4.conf.${pod.hostInterface}.proxy_arp=1`)));
  assert.ok(cmds.some((c) => c.includes(`net.ipv4.neigh.${pod.hostInterface}.proxy_delay=0`)));
  assert.ok(
    cmds.includes(`ip -n ${labNamespace(cb, 'podA')} route add default via 169.254.1.1 dev eth0`),
  );
  assert.ok(!cmds.some((c) => c.includes(' master ')));
});

test('BIRD config per node: peers are the other nodes; missing-route makes nodeA refuse them', () => {
  const cb = lab('calico-bgp');
  const [nodeA, nodeB] = cb.network.nodes as [
    (typeof cb.network.nodes)[0],
    (typeof cb.network.nodes)[0],
  ];
  const a = birdConfigFor(cb, nodeA, undefined, '/run/pp-lab/x.log');
  assert.deepEqual(a.peers, [{ ip: nodeB.ip }]);
  assert.equal(a.block, nodeA.podCidr);
  assert.equal(a.rejectFromPeers, undefined);
  assert.deepEqual(birdConfigFor(cb, nodeA, 'missing-route', '/l').rejectFromPeers, [
    nodeB.podCidr,
  ]);
  assert.equal(birdConfigFor(cb, nodeB, 'missing-route', '/l').rejectFromPeers, undefined);
  assert.deepEqual(expectedBgpRoutes(cb, nodeA, 'missing-route'), []);
  assert.deepEqual(expectedBgpRoutes(cb, nodeB, 'missing-route'), [nodeA.podCidr]);
  assert.deepEqual(birdConfigFor(cb, nodeA, 'blackhole', '/l').ignoreKernelRoutes, [
    `${cb.network.pods[1]!.ip}/32`,
  ]);
});

test('the inventory reads interfaces from ip -d addr and fills the plan with the real MACs', () => {
  const text = readFileSync(
    join(__dirname, '..', 'fixtures', 'netns', 'flannel-vxlan', 'state', 'nodeA.ip-addr.txt'),
    'utf8',
  );
  const ifaces = toInterfaces(text);
  assert.ok(!ifaces.some((i) => i.name === 'lo'));
  const eth0 = ifaces.find((i) => i.name === 'eth0');
  assert.ok(
    eth0 && /^[0-9a-f:]{17}$/.test(eth0.mac) && eth0.ipv4?.startsWith('172.18.0.'),
    JSON.stringify(eth0),
  );
  const fv = lab('flannel-vxlan');
  const filled = fillPlanInput(fv.planInput, {
    nodes: [{ name: 'nodeA', namespace: 'pp-fv-nodeA', interfaces: ifaces }],
    pods: [
      {
        name: fv.planInput.source.name,
        node: 'nodeA',
        namespace: 'pp-fv-podA',
        interfaces: [{ name: 'eth0', mac: '0a:00:00:00:00:01', mtu: 1450, kind: 'veth' }],
      },
    ],
  });
  assert.equal(filled.source.mac, '0a:00:00:00:00:01');
  assert.equal(filled.nodes.find((n) => n.name === 'nodeA')?.mac, eth0.mac);
  assert.equal(
    filled.destination.mac,
    fv.planInput.destination.mac,
    'unknown pods keep the catalogue MAC',
  );
});
