import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { explainServices } from '../../src/core/kubeproxy/explainService';
import { buildServiceDiagram } from '../../src/core/kubeproxy/serviceDiagram';
import { readServiceSpecs } from '../../src/core/kubeproxy/serviceSpec';
import { serviceExplanationView } from '../../src/ui/panel/panelViews';

const FIX = join(__dirname, '..', 'fixtures');

test('the panel view of an explained Service: diagram, endpoints with shares, masquerade, findings', () => {
  const rules = readFileSync(join(FIX, 'workspace', 'rules', 'web-iptables-save.txt'), 'utf8');
  const specs = readServiceSpecs(
    readFileSync(join(FIX, 'workspace', 'manifests', 'service.yaml'), 'utf8'),
  ).services;
  const e = explainServices(rules, { specs, service: 'default/web' });
  const { view } = serviceExplanationView(e, e.services[0]!, 'web-iptables-save.txt');
  assert.equal(view.kind, 'service');
  assert.equal(view.title, 'Service default/web · port http/TCP');
  assert.match(view.subtitle, /iptables rules from web-iptables-save\.txt/);
  assert.ok(
    view.notes.includes(
      'Endpoint 10.244.1.5:80: 50% of new connections (KUBE-SEP-THCUGE4PYEGQIHCR), 5 packets counted.',
    ),
  );
  assert.ok(view.notes.some((n) => n.startsWith('Masquerade — node port 30080')));
  assert.deepEqual(view.findings, [
    'Every way in (cluster IP 10.96.120.7, node port 30080) reaches the endpoints.',
  ]);
  const d = view.diagram!;
  assert.match(d, /^flowchart LR/);
  assert.match(d, /svc -->\|"50% · DNAT · 5 pkts"\| ep0/);
  assert.match(d, /in1\(\["node port ‹node›:30080"\]\)/);
  assert.match(d, /in0 -->\|"node, outside · SNAT"\| svc/);
  assert.match(d, /in1 -->\|"pod, node, outside · SNAT"\| svc/);
});

test('the diagram draws drops, rejects and Local-only endpoints as their own edges', () => {
  const rules = readFileSync(
    join(FIX, 'kubeproxy', '01_TestOverallIPTablesRules_recent.restore.txt'),
    'utf8',
  );
  const e = explainServices(rules);
  const svc2 = buildServiceDiagram(e.services.find((s) => s.name === 'svc2')!);
  assert.match(svc2, /-\.->\|"outside"\| end0/);
  assert.match(svc2, /end0\[\/"dropped: ns2\/svc2:p80 has no local endpoints"\/\]/);
  const svc6 = buildServiceDiagram(e.services.find((s) => s.name === 'svc6')!);
  assert.match(svc6, /rejected: ns6\/svc6:p80 has no endpoints/);
  // Names from the rules cannot break out of their labels.
  const hostile = explainServices(
    '*nat\n-A KUBE-SERVICES -d 10.0.0.1/32 -p tcp -m comment --comment "x/y:p\\"]) --> evil" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA\n-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-BBBBBBBBBBBBBBBB\n-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -j DNAT --to-destination 10.1.1.1:80\nCOMMIT\n',
  );
  for (const s of hostile.services) {
    const d = buildServiceDiagram(s);
    for (const line of d.split('\n').slice(1))
      assert.doesNotMatch(line.replace(/"[^"]*"/g, ''), /evil/);
  }
});
