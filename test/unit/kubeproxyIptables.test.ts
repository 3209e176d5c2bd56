import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  iptablesEndpointChain,
  iptablesServiceChains,
  nftablesEndpointChainBase,
  nftablesServiceChainBase,
} from '../../src/core/kubeproxy/chainNames';
import { explainServices, toExplanationJson } from '../../src/core/kubeproxy/explainService';
import { parseIptablesListing, parseIptablesSave } from '../../src/core/kubeproxy/iptablesRules';
import { sha256, utf8Bytes } from '../../src/core/kubeproxy/sha256';
import { readServiceSpecs } from '../../src/core/kubeproxy/serviceSpec';
import type { ExplainedService } from '../../src/core/kubeproxy/types';

const FIX = join(__dirname, '..', 'fixtures', 'kubeproxy');
const read = (name: string): string => readFileSync(join(FIX, name), 'utf8');

function shares(s: ExplainedService | undefined): [string, number][] {
  assert.ok(s, 'service not found');
  return s.endpoints.map((e) => [e.address, Math.round(e.share * 1e6) / 1e6]);
}
function find(
  services: ExplainedService[],
  ns: string,
  name: string,
): ExplainedService | undefined {
  return services.find((s) => s.namespace === ns && s.name === name);
}

test('sha256 matches node:crypto on short and block-crossing inputs', () => {
  for (const s of [
    '',
    'abc',
    'ns1/svc1:p80tcp',
    'x'.repeat(55),
    'x'.repeat(56),
    'y'.repeat(64),
    'é/ü:日本',
  ]) {
    const ours = Buffer.from(sha256(utf8Bytes(s))).toString('hex');
    assert.equal(ours, createHash('sha256').update(s, 'utf8').digest('hex'), s);
  }
});

test('chain names are computed as kube-proxy computes them (names from its own tests)', () => {
  const key = { namespace: 'ns1', name: 'svc1', portName: 'p80', protocol: 'TCP' };
  assert.equal(iptablesServiceChains(key).svc, 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.equal(iptablesEndpointChain(key, '10.180.0.1:80'), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
  const svc5 = { namespace: 'ns5', name: 'svc5', portName: 'p80', protocol: 'tcp' };
  assert.equal(iptablesServiceChains(svc5).fw, 'KUBE-FW-NUKIZ6OKUXPJNT4C');
  // The walkthrough's unnamed port (v1.20) and an older node's `ns/name:` form.
  const echo = { namespace: 'default', name: 'echoserver', portName: '', protocol: 'tcp' };
  assert.equal(iptablesServiceChains(echo).svc, 'KUBE-SVC-HOYURHXRFA5BUYEO');
  assert.equal(iptablesEndpointChain(echo, '192.168.0.35:8877'), 'KUBE-SEP-7ZRSXHFJXB4D6W3U');
  const nginx = { namespace: 'default', name: 'nginx-svc', portName: '', protocol: 'tcp' };
  assert.equal(iptablesServiceChains(nginx, true).svc, 'KUBE-SVC-R2VK7O5AFVLRAXSH');
  assert.equal(nftablesServiceChainBase(key), 'ULMVA6XW-ns1/svc1/tcp/p80');
  assert.equal(
    nftablesEndpointChainBase(key, '10.180.0.1', 80),
    '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80',
  );
});

test('TestOverallIPTablesRules: every Service resolves to what its Service and EndpointSlice imply', () => {
  const e = explainServices(read('01_TestOverallIPTablesRules_recent.restore.txt'));
  assert.equal(e.mode, 'iptables');
  assert.deepEqual(e.unread, []);
  const byName = (n: string): ExplainedService | undefined =>
    find(e.services, n.replace('svc', 'ns'), n);
  assert.deepEqual(
    e.services.map((s) => `${s.namespace}/${s.name}:${s.port}/${s.protocol}`),
    [
      'ns1/svc1:p80/TCP',
      'ns2/svc2:p80/TCP',
      'ns3/svc3:p80/TCP',
      'ns4/svc4:p80/TCP',
      'ns5/svc5:p80/TCP',
      'ns6/svc6:p80/TCP',
    ],
  );
  // Expectations written from the Go test's inputs (makeTestService / makeTestEndpointSlice).
  const svc1 = byName('svc1')!;
  assert.equal(svc1.clusterIP, '172.30.0.41');
  assert.equal(svc1.nodePort, null);
  assert.deepEqual(shares(svc1), [['10.180.0.1:80', 1]]);

  const svc2 = byName('svc2')!; // LoadBalancer, Local policy, its one endpoint not on this node
  assert.equal(svc2.clusterIP, '172.30.0.42');
  assert.equal(svc2.nodePort, 3001);
  assert.deepEqual(svc2.externalIPs, ['192.168.99.22']);
  assert.deepEqual(svc2.loadBalancerIPs, ['1.2.3.4']);
  assert.deepEqual(shares(svc2), [['10.180.0.2:80', 1]]);
  for (const entry of [
    'external IP 192.168.99.22:80',
    'load-balancer IP 1.2.3.4:80',
    'node port 3001',
  ])
    assert.ok(
      svc2.findings.some(
        (f) => f.startsWith(`${entry} from outside: dropped`) && f.includes('no local endpoints'),
      ),
      `${entry}: ${svc2.findings.join(' | ')}`,
    );
  // Pods and the node itself are short-circuited to all endpoints; the node's traffic is masqueraded.
  const lbFromNode = svc2.paths.find((p) => p.entry === 'load-balancer' && p.from === 'node')!;
  assert.equal(lbFromNode.outcome, 'dnat');
  assert.equal(lbFromNode.masquerade, true);
  const lbFromPod = svc2.paths.find((p) => p.entry === 'load-balancer' && p.from === 'pod')!;
  assert.equal(lbFromPod.masquerade, false);

  const svc3 = byName('svc3')!;
  assert.equal(svc3.nodePort, 3003);
  assert.deepEqual(shares(svc3), [['10.180.0.3:80', 1]]);
  const np = svc3.paths.find((p) => p.entry === 'node-port' && p.from === 'outside')!;
  assert.equal(np.outcome, 'dnat');
  assert.equal(np.masquerade, true, 'node port with Cluster policy is masqueraded');

  const svc4 = byName('svc4')!; // NodePort type without a node port, one external IP, two endpoints
  assert.equal(svc4.nodePort, null);
  assert.deepEqual(svc4.externalIPs, ['192.168.99.33']);
  assert.deepEqual(shares(svc4), [
    ['10.180.0.4:80', 0.5],
    ['10.180.0.5:80', 0.5],
  ]);

  const svc5 = byName('svc5')!; // LB, Cluster policy, source range, ClientIP 10800 s
  assert.equal(svc5.affinitySeconds, 10800);
  assert.equal(svc5.nodePort, 3002);
  assert.deepEqual(svc5.loadBalancerIPs, ['5.6.7.8']);
  assert.deepEqual(shares(svc5), [['10.180.0.3:80', 1]]);
  const allowed = svc5.paths.find(
    (p) =>
      p.entry === 'load-balancer' &&
      p.from === 'outside' &&
      p.conditions.includes('the source is in 203.0.113.0/25'),
  );
  assert.equal(allowed?.outcome, 'dnat');
  assert.equal(allowed?.masquerade, true);
  const blocked = svc5.paths.find(
    (p) =>
      p.entry === 'load-balancer' &&
      p.from === 'outside' &&
      p.conditions.includes('the source is not in 203.0.113.0/25'),
  );
  assert.equal(blocked?.outcome, 'drop');
  assert.equal(
    svc5.paths.find((p) => p.entry === 'load-balancer' && p.from === 'pod')?.outcome,
    'drop',
  );

  const svc6 = byName('svc6')!; // no endpoints
  assert.deepEqual(svc6.endpoints, []);
  assert.equal(svc6.clusterIP, '172.30.0.46');
  assert.ok(
    svc6.findings.some((f) => f.includes('rejected') && f.includes('has no endpoints')),
    svc6.findings.join(),
  );

  assert.ok(e.notes.some((n) => n.includes('mark 0x4000')));
  const json = toExplanationJson(e);
  assert.deepEqual(Object.keys(json.services[0]!), [
    'namespace',
    'name',
    'port',
    'protocol',
    'clusterIP',
    'nodePort',
    'externalIPs',
    'endpoints',
    'affinitySeconds',
    'masquerade',
    'findings',
  ]);
});

test('the canonical iptables-save form with -c counters reads the same rules', () => {
  const text = [
    '# Generated by iptables-save v1.8.7 on Tue Dec  1 07:00:00 2026',
    '*nat',
    ':PREROUTING ACCEPT [12:720]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]',
    ':KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]',
    ':KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    '[3:180] -A KUBE-SERVICES -d 172.30.0.45/32 -p tcp -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C',
    '[0:0] -A KUBE-SVC-NUKIZ6OKUXPJNT4C ! -s 10.0.0.0/8 -d 172.30.0.45/32 -p tcp -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
    '[1:60] -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-I77PXRDZVX7PMWMN --mask 255.255.255.255 --rsource -j KUBE-SEP-I77PXRDZVX7PMWMN',
    '[2:120] -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m statistic --mode random --probability 0.33332999982 -j KUBE-SEP-I77PXRDZVX7PMWMN',
    '[1:60] -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ',
    '[0:0] -A KUBE-SEP-I77PXRDZVX7PMWMN -s 10.180.0.3/32 -m comment --comment ns5/svc5:p80 -j KUBE-MARK-MASQ',
    '[2:120] -A KUBE-SEP-I77PXRDZVX7PMWMN -p tcp -m comment --comment ns5/svc5:p80 -m recent --set --name KUBE-SEP-I77PXRDZVX7PMWMN --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.180.0.3:80',
    '[1:60] -A KUBE-SEP-C6EBXVWJJZMIWKLZ -p tcp -m comment --comment ns5/svc5:p80 -m tcp -j DNAT --to-destination 10.180.0.5:80',
    '[0:0] -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '[3:180] -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '[0:0] -A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '[0:0] -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    'this line is not iptables',
    'COMMIT',
  ].join('\n');
  const rules = parseIptablesSave(text);
  const rule = rules.chains.get('nat/KUBE-SERVICES')!.rules[0]!;
  assert.equal(rule.destination?.address, '172.30.0.45');
  assert.equal(rule.dport, 80);
  assert.deepEqual(rule.counters, { packets: 3, bytes: 180 });
  const e = explainServices(text);
  const s = e.services[0]!;
  assert.deepEqual(shares(s), [
    ['10.180.0.3:80', 0.33333],
    ['10.180.0.5:80', 0.66667],
  ]);
  assert.equal(s.endpoints[0]!.packets, 2);
  assert.equal(s.affinitySeconds, 10800);
  assert.equal(e.unread.length, 1);
  assert.match(e.unread[0]!, /not iptables/);
  assert.ok(
    e.notes.some((n) => n.includes('--random-fully')),
    e.notes.join(),
  );
  assert.ok(
    s.findings.some((f) => f.startsWith('uneven shares')),
    'hand-edited probability is reported',
  );
});

test('walkthrough 001: echoserver with 2, then 3 endpoints', () => {
  const two = explainServices(read('seed001-echoserver-2.txt'), { service: 'default/echoserver' });
  assert.equal(two.services.length, 1);
  const s2 = two.services[0]!;
  assert.equal(s2.clusterIP, '10.106.23.233');
  assert.equal(s2.port, '8877');
  assert.deepEqual(shares(s2), [
    ['192.168.0.33:8877', 0.5],
    ['192.168.0.34:8877', 0.5],
  ]);
  assert.ok(s2.masquerade.some((m) => m.includes('outside the pod CIDR 192.168.0.0/16')));

  const three = explainServices(read('seed001-echoserver-3.txt'), {
    service: 'default/echoserver',
  });
  assert.deepEqual(shares(three.services[0]), [
    ['192.168.0.33:8877', 0.333333],
    ['192.168.0.34:8877', 0.333333],
    ['192.168.0.35:8877', 0.333333],
  ]);
  assert.ok(three.notes.some((n) => n.includes('listed again')));
  // The kubectl output and prose around the listings are kept, not thrown away.
  assert.ok(three.unread.some((u) => u.includes('kubectl get pod')));
});

test('walkthrough 001: test-clientip has ClientIP affinity of 10800 s and counters', () => {
  const e = explainServices(read('seed001-clientip.txt'), { service: 'default/test-clientip' });
  const s = e.services[0]!;
  assert.equal(s.affinitySeconds, 10800);
  assert.deepEqual(shares(s), [
    ['192.168.0.36:9376', 0.5],
    ['192.168.0.37:9376', 0.5],
  ]);
  assert.deepEqual(
    s.endpoints.map((x) => x.packets),
    [0, 8],
  );
});

test('walkthrough 001: test-externalip through the external IP from outside', () => {
  const e = explainServices(read('seed001-externalip.txt'), { service: 'default/test-externalip' });
  const s = e.services[0]!;
  assert.deepEqual(s.externalIPs, ['10.1.10.9']);
  assert.deepEqual(shares(s), [
    ['192.168.0.40:9376', 0.5],
    ['192.168.0.41:9376', 0.5],
  ]);
  const out = s.paths.filter((p) => p.entry === 'external-ip' && p.from === 'outside');
  assert.equal(out.length, 1);
  assert.equal(out[0]!.outcome, 'dnat');
  assert.equal(out[0]!.masquerade, true);
  assert.ok(s.masquerade.some((m) => m.includes('every connection to 10.1.10.9')));
});

test('walkthrough 001: test-nodeport masquerades every node-port connection', () => {
  const e = explainServices(read('seed001-nodeport.txt'), { service: 'default/test-nodeport' });
  const s = e.services[0]!;
  assert.equal(s.nodePort, 32228);
  const np = s.paths.find((p) => p.entry === 'node-port' && p.from === 'outside')!;
  assert.equal(np.outcome, 'dnat');
  assert.equal(np.masquerade, true);
  assert.deepEqual(
    np.endpoints.map((x) => [x.address, x.share]),
    [
      ['192.168.0.42:9376', 0.5],
      ['192.168.0.43:9376', 0.5],
    ],
  );
  assert.ok(e.notes.some((n) => n.includes('KUBE-POSTROUTING masquerades')));
});

test('listings: probabilities are numbers whatever their digits, counters with K suffix', () => {
  const text = [
    'Chain KUBE-SVC-X (1 references)',
    ' pkts bytes target     prot opt in     out     source               destination',
    '  3258  149K KUBE-SEP-A  all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/x */ statistic mode random probability 0.2000000001',
    '     0     0 KUBE-SEP-B  all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/x */ statistic mode random probability 0.25000000000',
    'garbage here',
  ].join('\n');
  const rs = parseIptablesListing(text);
  const rules = rs.chains.get('nat/KUBE-SVC-X')!.rules;
  assert.equal(rules[0]!.probability, 0.2000000001);
  assert.equal(rules[1]!.probability, 0.25);
  assert.deepEqual(rules[0]!.counters, { packets: 3258, bytes: 149000 });
  assert.deepEqual(rs.unread, ['5: garbage here']);
});

test('nonsense input: no throw, everything unread', () => {
  const e = explainServices('hello\nworld\n');
  assert.equal(e.services.length, 0);
  assert.ok(e.notes[0]!.includes('do not look like'));
});

test('the same rules read back from the kernel (iptables-save -c, -vnL + -nL) explain the same', () => {
  const fromRestore = toExplanationJson(
    explainServices(read('01_TestOverallIPTablesRules_recent.restore.txt')),
  );
  const saved = explainServices(read('01_TestOverallIPTablesRules_recent.saved.txt'));
  assert.deepEqual(toExplanationJson(saved), fromRestore);
  const listed = explainServices(
    read('01_TestOverallIPTablesRules_recent.nat-vnL.txt') +
      read('01_TestOverallIPTablesRules_recent.filter-nL.txt'),
  );
  assert.deepEqual(toExplanationJson(listed), fromRestore);
  // Without the filter table the drops cannot be known, and the explainer says so.
  const natOnly = explainServices(read('01_TestOverallIPTablesRules_recent.nat-vnL.txt'), {
    service: 'ns5/svc5',
  });
  assert.ok(
    natOnly.services[0]!.findings.some((f) => f.includes('filter table is not in the dump')),
  );
});

test('externalTrafficPolicy Local with local endpoints (kube-proxy TestTerminatingEndpointsTrafficPolicyLocal)', () => {
  const e = explainServices(read('local-ready.restore.txt'));
  const s = e.services[0]!;
  // The Go test's packet-flow expectations: pod → cluster IP reaches all three, no masquerade.
  assert.deepEqual(shares(s), [
    ['10.0.1.1:80', 0.333333],
    ['10.0.1.2:80', 0.333333],
    ['10.0.1.5:80', 0.333333],
  ]);
  const podToCluster = s.paths.find((p) => p.entry === 'cluster-ip' && p.from === 'pod')!;
  assert.equal(podToCluster.masquerade, false);
  // External → LB reaches only the two local endpoints, source kept.
  const outside = s.paths.find((p) => p.entry === 'load-balancer' && p.from === 'outside')!;
  assert.equal(outside.outcome, 'dnat');
  assert.equal(outside.masquerade, false);
  assert.deepEqual(
    outside.endpoints.map((x) => [x.address, Math.round(x.share * 1e6) / 1e6]),
    [
      ['10.0.1.1:80', 0.5],
      ['10.0.1.2:80', 0.5],
    ],
  );
  assert.ok(
    s.findings.some(
      (f) => f.includes('externalTrafficPolicy Local') && f.includes('client address is kept'),
    ),
  );
  assert.equal(s.affinitySeconds, 10800);
});

test('a manifest that disagrees with the rules is said so (policy, affinity, node port)', () => {
  const specs = readServiceSpecs(
    [
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: svc1, namespace: ns1}',
      'spec: {type: LoadBalancer, clusterIP: 172.30.1.9, externalTrafficPolicy: Cluster,',
      '       ports: [{port: 80, nodePort: 31000}]}',
    ].join('\n'),
  ).services;
  const s = explainServices(read('local-ready.restore.txt'), { specs }).services[0]!;
  for (const want of [
    'the manifest asks for externalTrafficPolicy Cluster, but from outside the rules keep traffic on this node (Local)',
    'the manifest asks for no affinity, the rules have 10800 s',
    "the manifest's node port 31000 has no rule",
    'the manifest says cluster IP 172.30.1.9, the rules use 172.30.1.1',
  ])
    assert.ok(s.findings.includes(want), `${want}\n${s.findings.join('\n')}`);
});
