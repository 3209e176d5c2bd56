import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { natSteps } from '../../src/core/hops/natSteps';

test('a DNAT and a MASQUERADE between hops are said with their rules', () => {
  const steps = natSteps(
    [
      { hop: '01-client-eth0', src: '172.18.0.100', dst: '172.18.0.5', sport: 40000, dport: 30080 },
      {
        hop: '02-nodeA-eth0-in',
        src: '172.18.0.100',
        dst: '172.18.0.5',
        sport: 40000,
        dport: 30080,
      },
      {
        hop: '03-nodeA-flannel.1',
        src: '10.244.0.0',
        dst: '10.244.1.4',
        sport: 40000,
        dport: 8080,
      },
      { hop: '04-nodeB-eth0', src: '10.244.0.0', dst: '10.244.1.4', sport: 40000, dport: 8080 },
    ],
    {
      dnatRule: (to) => (to === '10.244.1.4:8080' ? 'KUBE-SEP-ABC' : undefined),
      snatRule: 'MASQUERADE',
    },
  );
  assert.deepEqual(
    steps.map((s) => s.sentence),
    [
      'destination 172.18.0.5:30080 → 10.244.1.4:8080 between 02-nodeA-eth0-in and 03-nodeA-flannel.1 (DNAT, KUBE-SEP-ABC).',
      'source 172.18.0.100:40000 → 10.244.0.0:40000 between 02-nodeA-eth0-in and 03-nodeA-flannel.1 (MASQUERADE).',
    ],
  );
});

test('no rewrite, no step; unknown rules are plain DNAT/SNAT', () => {
  assert.deepEqual(
    natSteps([
      { hop: 'a', src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2 },
      { hop: 'b', src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2 },
    ]),
    [],
  );
  const [d] = natSteps([
    { hop: 'a', src: '1.1.1.1', dst: '2.2.2.2', sport: null, dport: null },
    { hop: 'b', src: '1.1.1.1', dst: '3.3.3.3', sport: null, dport: null },
  ]);
  assert.equal(d?.sentence, 'destination 2.2.2.2 → 3.3.3.3 between a and b (DNAT).');
});
