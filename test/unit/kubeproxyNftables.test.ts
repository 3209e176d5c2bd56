import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { explainServices, toExplanationJson } from '../../src/core/kubeproxy/explainService';
import {
  parseNftDuration,
  parseNftJson,
  parseNftList,
  parseNftTransaction,
} from '../../src/core/kubeproxy/nftablesRules';
import { readServiceSpecs } from '../../src/core/kubeproxy/serviceSpec';
import type { ExplainedService } from '../../src/core/kubeproxy/types';

const FIX = join(__dirname, '..', 'fixtures', 'kubeproxy');
const read = (name: string): string => readFileSync(join(FIX, name), 'utf8');
const specs = readServiceSpecs(read('overall-services.yaml')).services;

function shares(s: ExplainedService | undefined): [string, number][] {
  assert.ok(s, 'service not found');
  return s.endpoints.map((e) => [e.address, Math.round(e.share * 1e6) / 1e6]);
}

test('the Go test Services read from YAML', () => {
  assert.equal(specs.length, 6);
  const svc5 = specs.find((s) => s.name === 'svc5')!;
  assert.deepEqual(svc5.loadBalancerIPs, ['5.6.7.8']);
  assert.deepEqual(svc5.loadBalancerSourceRanges, ['203.0.113.0/25']);
  assert.equal(svc5.affinitySeconds, 10800);
  assert.equal(specs.find((s) => s.name === 'svc2')!.externalTrafficPolicy, 'Local');
});

test('nft durations', () => {
  assert.equal(parseNftDuration('10800s'), 10800);
  assert.equal(parseNftDuration('3h'), 10800);
  assert.equal(parseNftDuration('1h30m'), 5400);
  assert.equal(parseNftDuration('2d'), 172800);
  assert.equal(parseNftDuration('soon'), undefined);
});

test('TestOverallNFTablesRules (1.33–1.35 layout): transaction, nft list and nft -j read the same table', () => {
  const tx = parseNftTransaction(read('nft-overall-v1.33.nft'));
  const list = parseNftList(read('nft-overall-v1.33.list.txt'));
  const json = parseNftJson(read('nft-overall-v1.33.json'));
  for (const rs of [tx, list, json]) {
    assert.deepEqual(rs.unread, [], rs.form);
    assert.equal(
      rs.sets.get('affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80')?.timeout,
      10800,
      rs.form,
    );
    assert.equal(rs.sets.get('service-ips')?.elements.length, 9, rs.form);
    const svc4 = rs.chains.get('service-LAUZTJTB-ns4/svc4/tcp/p80')!;
    assert.deepEqual(
      svc4[1]!.numgenVmap?.entries.map((e) => e.verdict.target),
      [
        'endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80',
        'endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80',
      ],
      rs.form,
    );
  }
  const a = toExplanationJson(explainServices(read('nft-overall-v1.33.nft'), { specs }));
  assert.deepEqual(
    toExplanationJson(explainServices(read('nft-overall-v1.33.list.txt'), { specs })),
    a,
  );
  assert.deepEqual(
    toExplanationJson(explainServices(read('nft-overall-v1.33.json'), { specs })),
    a,
  );
});

test('TestOverallNFTablesRules: every Service resolves to what its Service and EndpointSlice imply', () => {
  const e = explainServices(read('nft-overall-v1.33.list.txt'), { specs });
  assert.equal(e.mode, 'nftables');
  const by = (n: string): ExplainedService => e.services.find((s) => s.name === n)!;
  assert.deepEqual(
    e.services.map((s) => `${s.namespace}/${s.name}:${s.port}`),
    [
      'ns1/svc1:p80',
      'ns2/svc2:p80',
      'ns3/svc3:p80',
      'ns4/svc4:p80',
      'ns5/svc5:p80',
      'ns6/svc6:p80',
    ],
  );
  assert.deepEqual(shares(by('svc1')), [['10.180.0.1:80', 1]]);
  assert.deepEqual(shares(by('svc2')), [['10.180.0.2:80', 1]]);
  assert.deepEqual(by('svc2').externalIPs, ['192.168.99.22']);
  assert.deepEqual(by('svc2').loadBalancerIPs, ['1.2.3.4']);
  for (const f of [
    'node port 3001 from outside: dropped',
    'load-balancer IP 1.2.3.4:80 from outside: dropped',
  ])
    assert.ok(
      by('svc2').findings.some((x) => x.startsWith(f) && x.includes('no local endpoints')),
      f,
    );
  assert.deepEqual(shares(by('svc3')), [['10.180.0.3:80', 1]]);
  assert.equal(by('svc3').nodePort, 3003);
  // numgen random mod 2: each endpoint 1/2 directly.
  assert.deepEqual(shares(by('svc4')), [
    ['10.180.0.4:80', 0.5],
    ['10.180.0.5:80', 0.5],
  ]);
  const svc5 = by('svc5');
  assert.equal(svc5.affinitySeconds, 10800);
  assert.deepEqual(shares(svc5), [['10.180.0.3:80', 1]]);
  assert.equal(
    svc5.paths.find((p) => p.entry === 'load-balancer' && p.from === 'pod')?.outcome,
    'drop',
  );
  assert.ok(svc5.findings.some((f) => f.includes('loadBalancerSourceRanges')));
  const svc6 = by('svc6');
  assert.deepEqual(svc6.endpoints, []);
  assert.ok(svc6.findings.some((f) => f.includes('rejected') && f.includes('has no endpoints')));
  // The manifest and the rules agree: no mismatch findings.
  for (const s of e.services)
    assert.ok(!s.findings.some((f) => f.startsWith('the manifest')), s.findings.join());
  assert.ok(e.notes.some((n) => n.includes('fully-random')));
});

test('the same Services through iptables and nftables give the same endpoints, shares and affinity', () => {
  const ipt = explainServices(read('01_TestOverallIPTablesRules_recent.restore.txt'), { specs });
  const nft = explainServices(read('nft-overall-v1.33.json'), { specs });
  const pick = (s: ExplainedService): unknown => [
    s.namespace,
    s.name,
    s.clusterIP,
    s.nodePort,
    s.externalIPs,
    shares(s),
    s.affinitySeconds,
  ];
  assert.deepEqual(nft.services.map(pick), ipt.services.map(pick));
  for (const s of ipt.services)
    assert.ok(!s.findings.some((f) => f.startsWith('the manifest')), s.findings.join());
});

test('the later layout: dnat to numgen map gives 1/N each, inline mark, a single endpoint DNATed directly', () => {
  const a = explainServices(read('nft-later-layout.nft'));
  for (const f of ['nft-later-layout.list.txt', 'nft-later-layout.json'])
    assert.deepEqual(toExplanationJson(explainServices(read(f))), toExplanationJson(a), f);
  const svc4 = a.services.find((s) => s.name === 'svc4')!;
  assert.deepEqual(shares(svc4), [
    ['10.180.0.4:80', 0.333333],
    ['10.180.0.5:80', 0.333333],
    ['10.180.0.6:8080', 0.333333],
  ]);
  assert.equal(svc4.nodePort, 3004);
  const np = svc4.paths.find((p) => p.entry === 'node-port' && p.from === 'outside')!;
  assert.equal(np.masquerade, true);
  const svc1 = a.services.find((s) => s.name === 'svc1')!;
  assert.deepEqual(shares(svc1), [['10.180.0.1:80', 1]]);
  assert.ok(svc1.masquerade.some((m) => m.startsWith('hairpin: when 10.180.0.1')));
  assert.ok(svc1.masquerade.some((m) => m.includes('outside the pod CIDR 10.0.0.0/8')));
  assert.ok(a.notes.some((n) => n.includes('inline')));
});

test('unreadable nft input is reported, not thrown', () => {
  const e = explainServices(
    'table ip kube-proxy {\n\tchain services {\n\t\tfrobnicate @x\n\t\tnumgen random mod two vmap\n\t}\n}\n',
  );
  assert.equal(e.mode, 'nftables');
  assert.equal(e.unread.length, 1);
  const j = explainServices(
    '{"nftables": [ {"rule": {"table": "kube-proxy", "chain": "x", "expr": [{"vmap": {"key": 1, "data": 2}}]}} ]}',
  );
  assert.equal(j.unread.length, 1);
  assert.equal(explainServices('{"nftables": 3').mode, 'nftables');
});
