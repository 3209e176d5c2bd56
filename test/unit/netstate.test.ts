import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseIpAddr, parseIpLink, vxlanSettings } from '../../src/core/netstate/ipLink';
import { formatRoute, parseIpRoute } from '../../src/core/netstate/ipRoute';
import { parseIpNeigh } from '../../src/core/netstate/ipNeigh';
import { parseBridgeFdb } from '../../src/core/netstate/bridgeFdb';
import { bgpEstablished, parseBirdProtocols, parseBirdRoutes } from '../../src/core/netstate/bird';

const FIX = path.join(__dirname, '..', 'fixtures', 'netns');
const state = (lab: string, file: string): string =>
  readFileSync(path.join(FIX, lab, 'state', file), 'utf8');

test('parseIpLink reads ip -d link of a Flannel VXLAN node', () => {
  const links = parseIpLink(state('flannel-vxlan', 'nodeA.ip-d-link.txt'));
  assert.deepEqual(
    links.map((l) => [l.index, l.name, l.kind ?? '', l.mtu]),
    [
      [1, 'lo', '', 65536],
      [2, 'eth0', 'veth', 1500],
      [3, 'cni0', 'bridge', 1450],
      [4, 'veth6f3d2a91', 'veth', 1450],
      [5, 'flannel.1', 'vxlan', 1450],
    ],
  );
  const eth0 = links[1];
  assert.equal(eth0?.peerIndex, 3);
  assert.equal(eth0?.mac, '02:42:ac:12:00:05');
  assert.equal(eth0?.linkNetnsId, 0);
  const port = links[3];
  assert.equal(port?.master, 'cni0');
  assert.equal(port?.linkNetns, 'spk-podA');
  assert.equal(port?.slaveKind, 'bridge_slave');
  assert.equal(port?.slaveAttributes.hairpin, 'on');
  assert.equal(port?.slaveAttributes.state, 'forwarding');
  assert.deepEqual(port?.flags, ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP']);
  const cni0 = links[2];
  assert.equal(cni0?.kindAttributes.stp_state, '0');
  assert.equal(cni0?.kindAttributes.hello_timer, '0.00');
  const vx = links[4];
  assert.ok(vx);
  assert.deepEqual(vxlanSettings(vx), {
    id: 1,
    local: '172.18.0.5',
    dev: 'eth0',
    dstport: 8472,
    learning: false,
  });
  assert.equal(vx.kindAttributes.srcport, '0 0');
  assert.ok(vx.kindFlags.includes('udpcsum'));
  assert.equal(vx.state, 'UNKNOWN');
});

test('parseIpAddr reads addresses, scopes and link-netns of a Calico node and pod', () => {
  const node = parseIpAddr(state('calico-bgp', 'nodeA.ip-addr.txt'));
  const cali = node.find((l) => l.name === 'cali1f5c8e2a9b3');
  assert.equal(cali?.mac, 'ee:ee:ee:ee:ee:ee');
  assert.equal(cali?.peerIndex, 2);
  assert.equal(cali?.linkNetns, 'spk-podA');
  assert.deepEqual(
    cali?.addresses.map((a) => `${a.family} ${a.address}/${a.prefixLength} ${a.scope}`),
    ['inet6 fe80::ecee:eeff:feee:eeee/64 link'],
  );
  const eth0 = node.find((l) => l.name === 'eth0');
  assert.deepEqual(eth0?.addresses[0], {
    family: 'inet',
    address: '172.18.0.5',
    prefixLength: 24,
    scope: 'global',
    label: 'eth0',
    flags: [],
  });
  const pod = parseIpAddr(state('calico-bgp', 'podA.ip-addr.txt'));
  assert.deepEqual(
    pod.map((l) => [
      l.name,
      l.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefixLength}`),
    ]),
    [
      ['lo', ['127.0.0.1/8']],
      ['eth0', ['192.168.49.66/32']],
    ],
  );
  // the -d form carries no addresses but still parses
  assert.equal(parseIpAddr(state('calico-bgp', 'podA.ip-d-link.txt')).length, 2);
});

test('parseIpRoute reads onlink, blackhole, proto bird and kernel routes', () => {
  const fv = parseIpRoute(state('flannel-vxlan', 'nodeA.ip-route.txt'));
  assert.deepEqual(fv.map(formatRoute), [
    'default via 172.18.0.1 dev eth0',
    '10.244.0.0/24 dev cni0 proto kernel scope link src 10.244.0.1',
    '10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink',
    '172.18.0.0/24 dev eth0 proto kernel scope link src 172.18.0.5',
  ]);
  assert.deepEqual(fv[2]?.flags, ['onlink']);
  const cb = parseIpRoute(state('calico-bgp', 'nodeA.ip-route.txt'));
  const bh = cb.find((r) => r.type === 'blackhole');
  assert.equal(bh?.destination, '192.168.49.64/26');
  assert.equal(bh?.proto, 'bird');
  const peer = cb.find((r) => r.destination === '192.168.231.128/26');
  assert.deepEqual([peer?.via, peer?.dev, peer?.proto], ['172.18.0.6', 'eth0', 'bird']);
  const pod = cb.find((r) => r.destination === '192.168.49.66');
  assert.deepEqual([pod?.dev, pod?.scope, pod?.proto], ['cali1f5c8e2a9b3', 'link', undefined]);
  const multi = parseIpRoute(
    'default proto bird metric 20\n\tnexthop via 10.0.0.1 dev eth0 weight 1\n\tnexthop via 10.0.0.2 dev eth1 weight 1 onlink\n',
  );
  assert.equal(multi.length, 1);
  assert.deepEqual(multi[0]?.nexthops, [
    { via: '10.0.0.1', dev: 'eth0', weight: 1, onlink: false },
    { via: '10.0.0.2', dev: 'eth1', weight: 1, onlink: true },
  ]);
});

test('parseIpNeigh reads permanent and dynamic entries', () => {
  const n = parseIpNeigh(state('flannel-vxlan', 'nodeA.ip-neigh.txt'));
  assert.deepEqual(n[1], {
    address: '10.244.1.0',
    dev: 'flannel.1',
    lladdr: '3e:a5:91:07:bc:22',
    states: ['PERMANENT'],
    router: false,
    proxy: false,
  });
  assert.deepEqual(
    n.map((e) => e.states[0]),
    ['REACHABLE', 'PERMANENT', 'REACHABLE'],
  );
  const pod = parseIpNeigh(state('calico-bgp', 'podA.ip-neigh.txt'));
  assert.deepEqual(
    pod.map((e) => [e.address, e.lladdr]),
    [
      ['169.254.1.1', 'ee:ee:ee:ee:ee:ee'],
      ['172.18.0.5', 'ee:ee:ee:ee:ee:ee'],
    ],
  );
});

test('parseBridgeFdb reads VXLAN remotes and bridge entries', () => {
  const vx = parseBridgeFdb(state('flannel-vxlan', 'nodeA.bridge-fdb-show-dev-flannel.1.txt'));
  assert.equal(vx.length, 1);
  assert.deepEqual(
    [vx[0]?.mac, vx[0]?.dst, vx[0]?.self, vx[0]?.permanent],
    ['3e:a5:91:07:bc:22', '172.18.0.6', true, true],
  );
  const br = parseBridgeFdb(state('flannel-vxlan', 'nodeA.bridge-fdb-show-br-cni0.txt'));
  assert.equal(br.length, 11);
  const learned = br.filter((e) => e.master === 'cni0' && !e.permanent);
  assert.deepEqual(
    learned.map((e) => [e.mac, e.dev]),
    [['8a:d1:5c:e2:47:0b', 'veth6f3d2a91']],
  );
});

test('BIRD parsers read protocols and routes', () => {
  const protocols = parseBirdProtocols(state('calico-bgp', 'nodeA.birdc-show-protocols.txt'));
  assert.deepEqual(
    protocols.map((p) => p.name),
    ['kernel1', 'device1', 'direct1', 'static1', 'Mesh_172_18_0_6'],
  );
  assert.equal(protocols[4]?.info, 'Established');
  assert.equal(bgpEstablished(protocols), true);
  assert.equal(
    bgpEstablished(
      parseBirdProtocols('Mesh_x BGP --- start 05:00:00.000 Active Socket: Connection refused\n'),
    ),
    false,
  );
  const routes = parseBirdRoutes(state('calico-bgp', 'nodeA.birdc-show-route.txt'));
  assert.deepEqual(
    routes.map((r) => [r.prefix, r.type, r.protocol, r.via ?? '', r.dev ?? '']),
    [
      ['0.0.0.0/0', 'unicast', 'kernel1', '172.18.0.1', 'eth0'],
      ['172.18.0.0/24', 'unicast', 'direct1', '', 'eth0'],
      ['192.168.49.66/32', 'unicast', 'kernel1', '', 'cali1f5c8e2a9b3'],
      ['192.168.49.64/26', 'blackhole', 'static1', '', ''],
      ['192.168.231.128/26', 'unicast', 'Mesh_172_18_0_6', '172.18.0.6', 'eth0'],
    ],
  );
  assert.equal(routes[4]?.origin, 'i');
  const all = parseBirdRoutes(state('calico-bgp', 'nodeA.birdc-show-route-all.txt'));
  assert.equal(
    all.find((r) => r.protocol.startsWith('Mesh'))?.attributes['BGP.next_hop'],
    '172.18.0.6',
  );
});
