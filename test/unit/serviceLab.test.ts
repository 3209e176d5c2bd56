// The Service labs' pure half (rules per node and mode, expected shares from the
// explainer, capture routes), conntrack -L and the NAT a probe met, on output and
// captures made by the labs themselves (test/fixtures/servicelab/SOURCES.md).
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findLab } from '../../src/core/labs/catalog';
import type { LabDefinition } from '../../src/core/labs/catalog';
import {
  expectedShares,
  labServiceExplained,
  labServicePath,
  requestArgv,
  serviceCaptureRoutes,
  serviceRuleLoads,
  servedByLines,
} from '../../src/core/labs/serviceLab';
import { explainServices } from '../../src/core/kubeproxy/explainService';
import { buildDatapathPlan } from '../../src/core/datapath/plans';
import type { DatapathPlan } from '../../src/core/datapath/types';
import { natOf, parseConntrack, summarizeNat } from '../../src/core/netstate/conntrack';
import { natSteps } from '../../src/core/hops/natSteps';
import { analyzeCaptureFiles } from '../../src/platform/capture/analyzeFiles';
import { probeAddressesAlong } from '../../src/platform/labs/serviceLabRun';

const FIX = join(__dirname, '..', 'fixtures', 'servicelab');

function lab(id: string): LabDefinition {
  const l = findLab(id);
  assert.ok(l, id);
  return l;
}

function sharesOn(id: string, mode: 'iptables' | 'nftables', node = 'nodeA'): Map<string, number> {
  const l = lab(id);
  const text = serviceRuleLoads(l, node, mode)[0]!.input;
  const explained = labServiceExplained(l, explainServices(text, { specs: [l.service!.spec] }));
  assert.ok(explained, `${id} ${mode}: Service not found in the rules`);
  const path = labServicePath(l, explained);
  assert.ok(path, `${id} ${mode}: no path`);
  const shares = expectedShares(l, path);
  return new Map([...shares].map(([k, v]) => [k, Math.round(v * 1e6) / 1e6]));
}

test('the rules written for each lab and mode lead where the lab says, with the shares it expects', () => {
  for (const mode of ['iptables', 'nftables'] as const) {
    const third = Math.round(1e6 / 3) / 1e6;
    assert.deepEqual(
      sharesOn('service-clusterip', mode),
      new Map([
        ['podB', third],
        ['podC', third],
        ['podD', third],
      ]),
      mode,
    );
    assert.deepEqual(sharesOn('service-nodeport', mode), new Map([['podB', 1]]), mode);
    // Local: node A's own endpoint only; from node B's rules, node B's two
    assert.deepEqual(
      sharesOn('service-local', mode),
      new Map([
        ['podB', 0],
        ['podC', 1],
        ['podD', 0],
      ]),
      mode,
    );
    assert.deepEqual(
      sharesOn('service-local', mode, 'nodeB'),
      new Map([
        ['podB', 0.5],
        ['podC', 0],
        ['podD', 0.5],
      ]),
      mode,
    );
  }
});

test('iptables loads the rules then the jumps from the built-in chains; nftables one nft -f', () => {
  const l = lab('service-affinity');
  const ipt = serviceRuleLoads(l, 'nodeA', 'iptables');
  assert.deepEqual(
    ipt.map((x) => x.argv),
    [['iptables-restore'], ['iptables-restore', '--noflush']],
  );
  assert.match(ipt[0]!.input, /--rcheck --seconds 10800 --reap/);
  assert.match(ipt[1]!.input, /-A PREROUTING .* -j KUBE-SERVICES/);
  assert.match(ipt[1]!.input, /-A POSTROUTING .* -j KUBE-POSTROUTING/);
  const nft = serviceRuleLoads(l, 'nodeA', 'nftables');
  assert.deepEqual(
    nft.map((x) => x.argv),
    [['nft', '-f', '-']],
  );
  assert.match(nft[0]!.input, /add element ip kube-proxy nodeport-ips \{ 172\.18\.0\.5 \}/);
  assert.match(nft[0]!.input, /timeout 10800s/);
});

test('the client argv and its answers: one name per request, failures as undefined', () => {
  const argv = requestArgv('10.96.0.10', 80, 200);
  assert.deepEqual(argv.slice(0, 2), ['python3', '-c']);
  assert.deepEqual(argv.slice(3), ['10.96.0.10', '80', '200']);
  assert.deepEqual(servedByLines(lab('service-clusterip'), 'podB\n-\npodC\nstranger\n', 5), [
    'podB',
    undefined,
    'podC',
    undefined,
    undefined,
  ]);
});

function plans(l: LabDefinition): Map<string, DatapathPlan> {
  const m = new Map<string, DatapathPlan>();
  for (const e of l.service!.endpoints) {
    const p = l.network.pods.find((x) => x.name === e.pod)!;
    m.set(
      e.pod,
      buildDatapathPlan({
        ...l.planInput,
        destination: {
          kind: 'pod',
          name: p.name,
          node: p.node,
          ip: p.ip,
          mac: p.mac,
          interface: 'eth0',
          hostInterface: p.hostInterface,
        },
        probe: { protocol: 'tcp', port: e.port },
      }),
    );
  }
  return m;
}

test('capture routes: a pod client follows the plan; an outside client enters at node A eth0', () => {
  const c = lab('service-clusterip');
  const { hops, routes } = serviceCaptureRoutes(c, plans(c));
  assert.equal(new Set(hops.map((h) => h.name)).size, hops.length);
  assert.deepEqual(
    routes.get('podC')!.map((h) => h.name),
    ['podA-eth0', 'nodeA-cni0', 'podC-eth0'],
  );
  const n = lab('service-local');
  const r = serviceCaptureRoutes(n, plans(n)).routes;
  assert.deepEqual(
    r.get('podC')!.map((h) => h.name),
    ['client-eth0', 'nodeA-eth0-in', 'nodeA-cni0', 'podC-eth0'],
  );
  assert.deepEqual(
    r.get('podB')!.map((h) => h.name),
    [
      'client-eth0',
      'nodeA-eth0-in',
      'nodeA-flannel.1',
      'nodeA-eth0',
      'nodeB-eth0',
      'nodeB-flannel.1',
      'nodeB-cni0',
      'podB-eth0',
    ],
  );
  const eth0 = r.get('podB')!.find((h) => h.name === 'nodeA-eth0')!;
  assert.match(eth0.filter, /^\(udp port 8472 and host /);
  assert.equal(r.get('podB')![0]!.filter, 'tcp port 30080 or tcp port 8080');
});

test('conntrack -L: original and reply tuples → DNAT and MASQUERADE, counted, in words', () => {
  const np = parseConntrack(readFileSync(join(FIX, 'conntrack-nodeport-nodeA.txt'), 'utf8'));
  assert.deepEqual(np.unread, []);
  assert.equal(np.entries.length, 4);
  const e = np.entries[0]!;
  assert.deepEqual(
    [e.protocol, e.timeout, e.state, e.flags, e.mark],
    ['tcp', 119, 'TIME_WAIT', ['ASSURED'], 0],
  );
  assert.deepEqual(natOf(e), {
    dnat: { from: '172.18.0.5:30080', to: '10.244.1.4:8080' },
    snat: { from: '172.18.0.100:40522', to: '10.244.0.0:20201' },
  });
  const sum = summarizeNat(np.entries, {
    where: 'nodeA',
    chainFor: (to) => (to === '10.244.1.4:8080' ? 'endpoint-X' : undefined),
  });
  assert.deepEqual(sum.findings, [
    'nodeA: destination 172.18.0.5:30080 → 10.244.1.4:8080 (DNAT, endpoint-X): 4 connections.',
    'nodeA: source 172.18.0.100 → 10.244.0.0 (MASQUERADE): 4 connections.',
  ]);
  const ci = parseConntrack(
    readFileSync(join(FIX, 'conntrack-clusterip.txt'), 'utf8') +
      'conntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.\nrubbish here\n' +
      'ipv4     2 udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=5 dport=53 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=53 dport=5 mark=0 zone=0 use=1\n',
  );
  assert.deepEqual(ci.unread, ['rubbish here']);
  assert.equal(ci.entries.length, 6);
  assert.deepEqual(ci.entries[5]!.flags, ['UNREPLIED']);
  assert.equal(ci.entries[5]!.state, null);
  const s = summarizeNat(ci.entries, { where: 'n' });
  assert.deepEqual(s.dnat, [
    { from: '10.96.0.10:80', to: '10.244.1.5:8080', chain: null, connections: 3 },
  ]);
  assert.deepEqual(s.snat, []);
  assert.equal(s.plain, 3);
});

function fixtureFiles(dir: string): string[] {
  return readdirSync(join(FIX, dir))
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((f) => join(FIX, dir, f));
}

test('a NodePort probe is followed through DNAT and MASQUERADE at every hop (real lab captures)', async () => {
  const { report, captures, correlation } = await analyzeCaptureFiles(
    fixtureFiles('nodeport-nftables'),
  );
  assert.equal(report.firstMissingHop, null);
  assert.ok(report.hops.every((h) => h.seen && h.match === 'packet'));
  const seen = await probeAddressesAlong(captures, correlation);
  assert.equal(seen.length, 8);
  const steps = natSteps(seen, {
    dnatRule: (to) => (to === '10.244.1.4:8080' ? 'endpoint-HNAUQLDV' : undefined),
    snatRule: 'MASQUERADE',
  });
  assert.deepEqual(
    steps.map((s) => [s.kind, s.between, s.from.split(':')[0], s.to.split(':')[0], s.rule]),
    [
      [
        'DNAT',
        ['02-nodeA-eth0-in', '03-nodeA-flannel.1'],
        '172.18.0.5',
        '10.244.1.4',
        'endpoint-HNAUQLDV',
      ],
      [
        'SNAT',
        ['02-nodeA-eth0-in', '03-nodeA-flannel.1'],
        '172.18.0.100',
        '10.244.0.0',
        'MASQUERADE',
      ],
    ],
  );
  assert.equal(steps[0]!.from, '172.18.0.5:30080');
  assert.equal(steps[0]!.to, '10.244.1.4:8080');
});

test('a ClusterIP probe is followed through the DNAT to the endpoint on node B (real lab captures)', async () => {
  const { report, captures, correlation } = await analyzeCaptureFiles(
    fixtureFiles('clusterip-iptables'),
  );
  assert.equal(report.firstMissingHop, null);
  assert.ok(report.hops.every((h) => h.seen));
  assert.equal(report.hops[0]!.dst, '10.96.0.10');
  assert.equal(report.hops.at(-1)!.dst, '10.244.1.4');
  const steps = natSteps(await probeAddressesAlong(captures, correlation));
  assert.deepEqual(
    steps.map((s) => s.sentence),
    ['destination 10.96.0.10:80 → 10.244.1.4:8080 between 01-podA-eth0 and 02-nodeA-cni0 (DNAT).'],
  );
});
