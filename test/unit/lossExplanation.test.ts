// Why a probe was lost, from recorded lab runs: the pcaps of every hop and the state
// dumps (`ip route`, `ip neigh`, `bridge fdb`, `ip -d addr`) the lab runner read, for
// each fault the offline labs inject. Recorded with `podpath lab run LAB --fault F`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDatapathPlan } from '../../src/core/datapath/plans';
import {
  checkNotesAgainstState,
  explainLoss,
  icmpErrorsIn,
  lossHeadline,
} from '../../src/core/hops/findings';
import { faultDescription, findLab, FAULTS } from '../../src/core/labs/catalog';
import type { FaultKind } from '../../src/core/labs/catalog';
import { lookupRoute, parseNodeState } from '../../src/core/netstate/nodeState';
import type { NodeState, NodeStateDumps } from '../../src/core/netstate/nodeState';
import type { Packet } from '../../src/core/packets/model';
import { analyzeCaptureFiles } from '../../src/platform/capture/analyzeFiles';

const root = join(__dirname, '..', 'fixtures', 'faults');

function readState(dir: string): NodeState[] {
  const byName = new Map<string, NodeStateDumps>();
  for (const file of readdirSync(join(dir, 'state')).sort()) {
    const [name, what] = file.split('.') as [string, 'route' | 'neigh' | 'fdb' | 'addr'];
    const kind = name.startsWith('pod') ? 'pod' : 'node';
    const dumps = byName.get(name) ?? { name, kind };
    dumps[what] = readFileSync(join(dir, 'state', file), 'utf8');
    byName.set(name, dumps);
  }
  return [...byName.values()].map(parseNodeState);
}

async function recorded(labId: string, fault: FaultKind) {
  const lab = findLab(labId)!;
  const dir = join(root, `${labId}--${fault}`);
  const plan = buildDatapathPlan(lab.planInput);
  const pcaps = readdirSync(dir)
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((f) => join(dir, f));
  const { report, captures } = await analyzeCaptureFiles(pcaps, { plan });
  const state = readState(dir);
  return { lab, plan, report, captures, state };
}

test('Calico BGP, peer route removed: the MAC of the underlay gateway, not node B, and the default route', async () => {
  const { plan, report, state } = await recorded('calico-bgp', 'missing-route');
  assert.equal(lossHeadline(report), 'lost between 03-nodeA-eth0 and 04-nodeB-eth0');
  const why = explainLoss({ report, plan, state });
  assert.equal(why.length, 1);
  assert.equal(
    why[0],
    "Probe sent to the wrong next hop, between 03-nodeA-eth0 and 04-nodeB-eth0: at 03-nodeA-eth0 its destination MAC is 02:42:3b:7e:51:0a (172.18.0.1, node A's default gateway), not node B's 02:42:ac:12:00:06. Node A has no route to 192.168.231.128/26, so it followed its default route `default via 172.18.0.1 dev eth0`; 172.18.0.1 does not route pod addresses, so node B never sees the probe. Expected `192.168.231.128/26 via 172.18.0.6 dev eth0`, written by node B's BIRD, over the iBGP session (`proto bird`): check the BGP session (`birdc show protocols`, `calicoctl node status`) and whether the route was accepted (`birdc show route all`).",
  );
  assert.doesNotMatch(why[0]!, /overlay/, 'Calico BGP has no overlay');
});

test('Calico BGP, peer route removed: the note that says the route was learned over BGP is marked, the others stand', async () => {
  const { plan, state } = await recorded('calico-bgp', 'missing-route');
  const notes = checkNotesAgainstState(plan.notes, state);
  assert.equal(notes.length, plan.notes.length);
  const bgp = notes.find((n) => n.includes('was learned over BGP'));
  assert.equal(
    bgp,
    "Not so in this run: `192.168.231.128/26 via 172.18.0.6 dev eth0 proto bird` was learned over BGP from nodeB's BIRD (iBGP, AS 64512, TCP 179); `proto bird` marks routes BIRD put in the kernel. (node A has no `192.168.231.128/26 via 172.18.0.6 dev eth0 proto bird`; for 192.168.231.128 it uses `default via 172.18.0.1 dev eth0`).",
  );
  // The /32 on node B is there: that note is left as it is.
  const pod = plan.notes.find((n) => n.includes('/32 route per local pod'))!;
  assert.ok(notes.includes(pod));
  assert.equal(notes.filter((n) => n.startsWith('Not so')).length, 1);
});

test('a healthy-state note check leaves every note alone', async () => {
  const { plan, state } = await recorded('flannel-vxlan', 'mtu-mismatch');
  // The MTU fault changes no route or forwarding entry.
  assert.deepEqual(checkNotesAgainstState(plan.notes, state), plan.notes);
});

test('Flannel VXLAN without the FDB entry: seen on flannel.1, no entry for node B’s VTEP MAC, never on eth0', async () => {
  const { plan, report, state } = await recorded('flannel-vxlan', 'missing-fdb');
  assert.equal(lossHeadline(report), 'lost between 03-nodeA-flannel.1 and 04-nodeA-eth0');
  const [why] = explainLoss({ report, plan, state });
  assert.equal(
    why,
    "Probe lost in flannel.1 on node A, between 03-nodeA-flannel.1 and 04-nodeA-eth0: node A routes it `10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink` and 10.244.1.0 is at 3e:a5:91:07:bc:22, but flannel.1's forwarding table has no entry for 3e:a5:91:07:bc:22 (`bridge fdb show dev flannel.1`), so the kernel does not know which node to send the VXLAN packet to and drops it: no encapsulated packet leaves node A's eth0. flanneld on node A writes it from the peer's VTEP (by hand: `bridge fdb append 3e:a5:91:07:bc:22 dev flannel.1 dst 172.18.0.6 self permanent`).",
  );
  const notes = checkNotesAgainstState(plan.notes, state);
  assert.match(
    notes.find((n) => n.includes('FDB entry'))!,
    /^Not so in this run: .*no node has a forwarding entry with dst 172\.18\.0\.6/,
  );
});

test('an FDB entry that points at the wrong node is a wrong VTEP', async () => {
  const { plan, report, state } = await recorded('flannel-vxlan', 'missing-fdb');
  const nodeA = state.find((s) => s.name === 'nodeA')!;
  const wrong = {
    ...nodeA,
    fdb: [
      ...nodeA.fdb,
      {
        mac: '3e:a5:91:07:bc:22',
        dev: 'flannel.1',
        dst: '172.18.0.9',
        self: true,
        permanent: true,
        static: false,
        flags: [],
        attributes: {},
      },
    ],
  };
  const [why] = explainLoss({
    report,
    plan,
    state: state.map((s) => (s === nodeA ? wrong : s)),
  });
  assert.match(
    why ?? '',
    /^Probe sent to the wrong VTEP, between 03-nodeA-flannel\.1 and 04-nodeA-eth0: flannel\.1's forwarding entry for 3e:a5:91:07:bc:22 says `dst 172\.18\.0\.9`, but node B is 172\.18\.0\.6/,
  );
});

test('Flannel VXLAN without the peer route: default route out of eth0 instead of into flannel.1', async () => {
  const { plan, report, state } = await recorded('flannel-vxlan', 'missing-route');
  const [why] = explainLoss({ report, plan, state });
  assert.match(
    why ?? '',
    /^Probe routed away from the datapath, between 02-nodeA-cni0 and 03-nodeA-flannel\.1\. Node A has no route to 10\.244\.1\.0\/24, so it followed its default route `default via 172\.18\.0\.1 dev eth0` out of eth0 unencapsulated instead of into flannel\.1 \(the overlay\)/,
  );
  assert.match(why ?? '', /written by flanneld on node A/);
});

test('Flannel host-gw without the peer route: the gateway MAC at node A eth0', async () => {
  const { plan, report, state } = await recorded('flannel-host-gw', 'missing-route');
  const [why] = explainLoss({ report, plan, state });
  assert.match(
    why ?? '',
    /destination MAC is 02:42:3b:7e:51:0a \(172\.18\.0\.1, node A's default gateway\), not node B's 02:42:ac:12:00:06\. Node A has no route to 10\.244\.1\.0\/24/,
  );
  assert.match(why ?? '', /Expected `10\.244\.1\.0\/24 via 172\.18\.0\.6 dev eth0`/);
  assert.doesNotMatch(why ?? '', /overlay/);
});

test('blackhole route: the probe dies on node A, and the route is named', async () => {
  const { plan, report, state } = await recorded('calico-bgp', 'blackhole');
  assert.equal(lossHeadline(report), 'lost between 02-nodeA-cali1f5c8e2a9b3 and 03-nodeA-eth0');
  const [why] = explainLoss({ report, plan, state });
  assert.equal(
    why,
    "Probe dies on node A, between 02-nodeA-cali1f5c8e2a9b3 and 03-nodeA-eth0: node A's route for 192.168.231.131 is `blackhole 192.168.231.131`, so the routing decision discards it silently (no ICMP error). Calico blackholes only the blocks a node owns, so a blackhole for a single pod address is left by hand or by another agent. Fix: remove it (`ip route del blackhole 192.168.231.131` on node A) and find who added it.",
  );
});

test('Calico same node without the pod route: the lookup falls to the block blackhole', async () => {
  const { plan, report, state } = await recorded('calico-bgp-same-node', 'missing-route');
  const [why] = explainLoss({ report, plan, state });
  assert.match(
    why ?? '',
    /^Probe dies on node A, between 02-nodeA-cali1f5c8e2a9b3 and 03-nodeA-cali5e9b0d3a7c2: node A has no route for 192\.168\.49\.67 more specific than `blackhole 192\.168\.49\.64\/26 proto bird`.* Pod B's own \/32 route \(`192\.168\.49\.67 dev cali5e9b0d3a7c2 scope link`\) is missing/,
  );
});

test('MTU mismatch: the large probe stops at the tunnel, the small one passes, and the MTUs are named', async () => {
  const { plan, report, state, captures } = await recorded('calico-vxlan', 'mtu-mismatch');
  const icmpErrors = captures.flatMap((c) => c.icmpErrors);
  const [why] = explainLoss({
    report,
    plan,
    state,
    icmpErrors,
    smallProbe: { ipLength: 84, sent: 2, received: 2 },
  });
  assert.equal(
    why,
    "Probe too big, between 02-nodeA-cali1f5c8e2a9b3 and 03-nodeA-vxlan.calico: it is 1500 bytes (IP length) at 02-nodeA-cali1f5c8e2a9b3, larger than the MTU 1450 of vxlan.calico, where node A sends it; Linux sends ping and TCP with Don't Fragment set, so node A drops it instead of fragmenting it. Pod A's eth0 has MTU 1500, above the 1450 that vxlan.calico carries. A small probe (84 bytes) passes: 2 of 2 answered, so the path works and only the size is wrong. Fix: give pods the MTU of vxlan.calico (1450): Calico's `veth_mtu` in the calico-config ConfigMap (or the Installation's MTU), then recreate the pods.",
  );
});

test('MTU mismatch: the "fragmentation needed" node A sent is captured and tied to the probe it quotes', async () => {
  // Recorded with the capture filters that keep ICMP errors about the probe.
  const { plan, report, state, captures } = await recorded('flannel-vxlan', 'mtu-mismatch');
  assert.deepEqual(
    report.hops.map((h) => h.icmpErrors?.map((e) => `${e.from} ${e.about} ${e.meaning}`)),
    [
      ['10.244.0.1 packet fragmentation needed, next-hop MTU 1450'],
      ['10.244.0.1 packet fragmentation needed, next-hop MTU 1450'],
      ...Array<undefined>(6).fill(undefined),
    ],
  );
  assert.equal(captures[0]?.icmpErrors.length, 1);
  const [why] = explainLoss({
    report,
    plan,
    state,
    smallProbe: { ipLength: 84, sent: 2, received: 2 },
  });
  assert.match(
    why ?? '',
    /^Probe too big, between 02-nodeA-cni0 and 03-nodeA-flannel\.1: it is 1500 bytes .* Node A answered ICMP "fragmentation needed" \(next-hop MTU 1450\) from 10\.244\.0\.1 to 10\.244\.0\.5, seen at 01-podA-eth0 \(it quotes the probe itself\)\. .*A small probe \(84 bytes\) passes/,
  );
});

test('MTU mismatch: an ICMP "fragmentation needed" in the captures is the answer, with its next-hop MTU when decoded', async () => {
  const recordedRun = await recorded('flannel-vxlan', 'mtu-mismatch');
  const { plan, state } = recordedRun;
  // Errors not tied to the probe by correlation (no quoted datagram): the lab runner's list.
  const report = {
    ...recordedRun.report,
    hops: recordedRun.report.hops.map(({ icmpErrors: _tied, ...h }) => h),
  };
  const fragNeeded = (mtu?: number): Packet => ({
    ts: 1,
    layers: [
      { kind: 'ipv4', src: '10.244.0.1', dst: '10.244.0.5' },
      // `mtu` is what a decoder that reads the quoted header adds; absent, none is named.
      { kind: 'icmp', type: 'unreachable', code: 4, ...(mtu ? { mtu } : {}) },
    ],
  });
  const withMtu = icmpErrorsIn('01-podA-eth0', [fragNeeded(1450)]);
  assert.deepEqual(withMtu, [
    {
      hop: '01-podA-eth0',
      src: '10.244.0.1',
      dst: '10.244.0.5',
      type: 'unreachable',
      code: 4,
      mtu: 1450,
    },
  ]);
  const [why] = explainLoss({ report, plan, state, icmpErrors: withMtu });
  assert.match(
    why ?? '',
    /Node A answered ICMP "fragmentation needed" \(next-hop MTU 1450\) from 10\.244\.0\.1 to 10\.244\.0\.5, seen at 01-podA-eth0\./,
  );
  assert.match(why ?? '', /Fix: give pods the MTU of flannel\.1 \(1450\); Flannel writes it/);
  const [plain] = explainLoss({
    report,
    plan,
    state,
    icmpErrors: icmpErrorsIn('01-podA-eth0', [fragNeeded()]),
  });
  assert.match(plain ?? '', /answered ICMP "fragmentation needed" from 10\.244\.0\.1/);
});

test('without node state the MTU is still judged from the plan; nothing else is guessed', async () => {
  const mtu = await recorded('calico-vxlan', 'mtu-mismatch');
  assert.match(
    explainLoss({ report: mtu.report, plan: mtu.plan })[0] ?? '',
    /MTU 1450 of vxlan\.calico/,
  );
  const route = await recorded('calico-bgp', 'missing-route');
  assert.deepEqual(explainLoss({ report: route.report, plan: route.plan }), []);
});

test('route lookup: longest prefix wins, default last', () => {
  const nodeA = parseNodeState({
    name: 'nodeA',
    kind: 'node',
    route:
      'default via 172.18.0.1 dev eth0\nblackhole 192.168.49.64/26 proto bird\n192.168.49.66 dev cali1f5c8e2a9b3 scope link\n',
  });
  assert.equal(lookupRoute(nodeA.routes, '192.168.49.66')?.dev, 'cali1f5c8e2a9b3');
  assert.equal(lookupRoute(nodeA.routes, '192.168.49.67')?.type, 'blackhole');
  assert.equal(lookupRoute(nodeA.routes, '10.0.0.1')?.destination, 'default');
});

test('fault descriptions fit the lab: no overlay where there is none, the tunnel device where there is one', () => {
  const bgp = findLab('calico-bgp')!;
  assert.doesNotMatch(faultDescription(bgp, 'missing-route'), /overlay/);
  assert.match(faultDescription(bgp, 'missing-route'), /default route to the underlay gateway/);
  assert.match(
    faultDescription(findLab('calico-vxlan')!, 'missing-route'),
    /into vxlan\.calico \(the overlay\)/,
  );
  assert.match(faultDescription(findLab('flannel-vxlan')!, 'missing-fdb'), /^flannel\.1 on node A/);
  assert.match(faultDescription(findLab('calico-ipip')!, 'mtu-mismatch'), /tunl0 takes 1480/);
  assert.match(
    faultDescription(findLab('calico-vxlan-same-node')!, 'missing-route'),
    /no \/32 route for pod B/,
  );
  for (const f of FAULTS) assert.ok(f.description.length > 0);
});
