import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { explainServices, toExplanationJson } from '../../src/core/kubeproxy/explainService';
import { parseIpvsState } from '../../src/core/kubeproxy/ipvsRules';
import { readServiceSpecs } from '../../src/core/kubeproxy/serviceSpec';

const FIX = join(__dirname, '..', 'fixtures', 'kubeproxy');
const text = readFileSync(join(FIX, 'ipvs-node.txt'), 'utf8');

test('IPVS: ipvsadm -Ln, ipset list, kube-ipvs0 and iptables-save read from one text', () => {
  const st = parseIpvsState(text);
  assert.deepEqual(st.unread, []);
  assert.equal(st.services.length, 6);
  const affinity = st.services.find((s) => s.address === '10.96.7.7')!;
  assert.equal(affinity.persistentSeconds, 10800);
  assert.deepEqual(st.ipsets.get('KUBE-NODE-PORT-TCP'), ['30080']);
  assert.equal(st.ipsets.get('KUBE-LOOP-BACK')?.length, 1);
  assert.deepEqual([...st.dummyAddresses!].sort(), [
    '10.96.0.1',
    '10.96.0.10',
    '10.96.100.5',
    '10.96.7.7',
  ]);
  assert.equal(st.iptables.chains.get('nat/KUBE-SERVICES')?.rules.length, 3);
});

test('IPVS: shares by weight, persistence as affinity, masquerade from the ipset rules, findings', () => {
  const specs = readServiceSpecs(
    [
      'apiVersion: v1\nkind: Service\nmetadata: {name: test-nodeport, namespace: default}',
      'spec: {type: NodePort, clusterIP: 10.96.100.5, ports: [{port: 80, nodePort: 30080}]}',
    ].join('\n'),
  ).services;
  const e = explainServices(text, { specs });
  assert.equal(e.mode, 'ipvs');
  assert.ok(e.notes.some((n) => n.includes('deprecated since Kubernetes 1.35')));
  const np = e.services.find((s) => s.name === 'test-nodeport')!;
  assert.equal(np.nodePort, 30080);
  assert.deepEqual(
    np.endpoints.map((x) => [x.address, x.share]),
    [
      ['10.244.1.4:8080', 0.5],
      ['10.244.2.5:8080', 0.5],
      ['10.244.2.6:8080', 0],
    ],
  );
  assert.ok(np.findings.some((f) => f.includes('10.244.2.6:8080 has weight 0')));
  const fromOutside = np.paths.find((p) => p.entry === 'node-port' && p.from === 'outside')!;
  assert.equal(fromOutside.outcome, 'dnat');
  assert.equal(fromOutside.masquerade, true);
  const podToCluster = np.paths.find((p) => p.entry === 'cluster-ip' && p.from === 'pod')!;
  assert.equal(podToCluster.masquerade, false);
  assert.equal(
    np.paths.find((p) => p.entry === 'cluster-ip' && p.from === 'node')?.masquerade,
    true,
  );
  assert.ok(np.masquerade.some((m) => m.includes('hairpin: when 10.244.1.4')));

  const dns = e.services.find((s) => s.name === '10.96.0.10:53')!;
  assert.equal(dns.protocol, 'UDP');
  assert.deepEqual(
    dns.endpoints.map((x) => x.share),
    [0.5, 0.5],
  );
  assert.equal(e.services.find((s) => s.name === '10.96.7.7:80')?.affinitySeconds, 10800);
  const empty = e.services.find((s) => s.name === '10.96.9.9:80')!;
  assert.deepEqual(empty.endpoints, []);
  assert.ok(empty.findings.some((f) => f.includes('not on kube-ipvs0')));
  assert.ok(empty.findings.some((f) => f.includes('not in ipset KUBE-CLUSTER-IP')));
  assert.ok(empty.findings.some((f) => f.includes('dropped') && f.includes('no real server')));
  assert.equal(toExplanationJson(e).services.length, 5);
});

test('IPVS: ipvsadm-save -n reads the same virtual servers', () => {
  const save = [
    '-A -t 10.96.7.7:80 -s rr -p 10800',
    '-a -t 10.96.7.7:80 -r 10.244.1.7:9376 -m -w 1',
    '-a -t 10.96.7.7:80 -r 10.244.2.8:9376 -m -w 3',
  ].join('\n');
  const e = explainServices(save);
  assert.equal(e.mode, 'ipvs');
  assert.deepEqual(
    e.services[0]!.endpoints.map((x) => [x.address, x.share]),
    [
      ['10.244.1.7:9376', 0.25],
      ['10.244.2.8:9376', 0.75],
    ],
  );
  assert.equal(e.services[0]!.affinitySeconds, 10800);
});
