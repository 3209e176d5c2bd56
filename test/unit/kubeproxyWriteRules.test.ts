import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { explainServices } from '../../src/core/kubeproxy/explainService';
import { readServiceSpecs } from '../../src/core/kubeproxy/serviceSpec';
import type { ExplainedService } from '../../src/core/kubeproxy/types';
import { writeIptablesRestore, writeNftables } from '../../src/core/kubeproxy/writeRules';
import type { RuleService } from '../../src/core/kubeproxy/writeRules';
import { labServices } from '../support/kubeproxyRuleServices';

const FIX = join(__dirname, '..', 'fixtures', 'kubeproxy');
const read = (name: string): string => readFileSync(join(FIX, name), 'utf8');
const overall = readServiceSpecs(read('overall-services.yaml')).services;

/** The Services and EndpointSlices of kube-proxy's TestOverallIPTablesRules. */
function overallInput(): RuleService[] {
  const eps: Record<string, string[]> = {
    svc1: ['10.180.0.1'],
    svc2: ['10.180.0.2'],
    svc3: ['10.180.0.3'],
    svc4: ['10.180.0.5', '10.180.0.4'],
    svc5: ['10.180.0.3'],
    svc6: [],
  };
  return overall.map((spec) => ({
    spec,
    // svc2's only endpoint runs on another node: that is why it has no local endpoints.
    endpoints: (eps[spec.name] ?? []).map((ip) => ({ ip, port: 80, local: spec.name !== 'svc2' })),
    healthCheckNodePort: spec.name === 'svc2' ? 30000 : null,
  }));
}

/** chain → rule lines, per table, from an iptables-restore text (whitespace normalised). */
function restoreChains(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/\s+/g, ' ');
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) out.set(`${table} ${line.slice(1).split(' ')[0]!}`, []);
    else if (line.startsWith('-A ')) out.get(`${table} ${line.split(' ')[1]!}`)!.push(line);
  }
  return out;
}

// Chains whose rules kube-proxy writes Service by Service: only the set of rules means
// something there (apart from the node-ports jump, which must come last).
const UNORDERED = new Set([
  'filter KUBE-SERVICES',
  'filter KUBE-NODEPORTS',
  'filter KUBE-EXTERNAL-SERVICES',
  'filter KUBE-PROXY-FIREWALL',
  'nat KUBE-SERVICES',
  'nat KUBE-NODEPORTS',
]);

function shares(s: ExplainedService | undefined): [string, number][] {
  assert.ok(s, 'service not found');
  return s.endpoints.map((e) => [e.address, Math.round(e.share * 1e6) / 1e6]);
}

test('TestOverallIPTablesRules: the generated restore input is kube-proxy’s, rule for rule', () => {
  const ours = restoreChains(
    writeIptablesRestore(overallInput(), {
      localTrafficCidr: '10.0.0.0/8',
      localhostNodePorts: true,
    }),
  );
  const theirs = restoreChains(read('01_TestOverallIPTablesRules_recent.restore.txt'));
  assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
  let compared = 0;
  for (const [chain, rules] of theirs) {
    const mine = ours.get(chain)!;
    if (UNORDERED.has(chain)) {
      assert.deepEqual([...mine].sort(), [...rules].sort(), chain);
      if (chain === 'nat KUBE-SERVICES') assert.equal(mine.at(-1), rules.at(-1));
    } else assert.deepEqual(mine, rules, chain);
    compared += rules.length;
  }
  assert.equal(compared, 65);
});

test('TestOverallNFTablesRules: the generated nft -f input is kube-proxy’s 1.33 layout, line for line', () => {
  const norm = (text: string): string[] =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .sort();
  const ours = writeNftables(overallInput(), {
    localTrafficCidr: '10.0.0.0/8',
    serviceCidr: '172.30.0.0/16',
    nodeIPs: ['192.168.0.2'],
  });
  const theirs = norm(read('nft-overall-v1.33.nft'));
  assert.deepEqual(norm(ours), theirs);
  assert.equal(theirs.length, 122);
});

test('generated iptables and nftables rules explain to the Services they were written from', () => {
  const services = labServices();
  const opts = { localTrafficCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/16' };
  const ipt = writeIptablesRestore(services, opts);
  assert.match(ipt, /--probability 0\.3333333333 /);
  assert.match(ipt, /--probability 0\.5000000000 /);
  for (const [mode, text] of [
    ['iptables', ipt],
    ['nftables', writeNftables(services, { ...opts, nodeIPs: ['192.168.1.10'] })],
  ] as const) {
    const e = explainServices(text, { specs: services.map((s) => s.spec) });
    assert.equal(e.mode, mode);
    assert.deepEqual(e.unread, [], mode);
    const get = (n: string): ExplainedService | undefined =>
      e.services.find((s) => s.namespace === 'lab' && s.name === n);
    const third = Math.round(1e6 / 3) / 1e6;
    assert.deepEqual(
      shares(get('web')),
      [
        ['10.244.1.7:8080', third],
        ['10.244.1.9:9090', third],
        ['10.244.2.3:8080', third],
      ],
      mode,
    );
    assert.equal(get('web')!.affinitySeconds, null, mode);
    const sticky = get('sticky')!;
    assert.deepEqual(
      shares(sticky),
      [
        ['10.244.1.5:80', 0.5],
        ['10.244.2.5:80', 0.5],
      ],
      mode,
    );
    assert.equal(sticky.affinitySeconds, 600, mode);
    assert.equal(sticky.nodePort, 30081, mode);
    assert.deepEqual(sticky.externalIPs, ['192.0.2.50'], mode);
    // Cluster policy: whoever reaches the node port is masqueraded.
    const np = sticky.paths.find((p) => p.entry === 'node-port' && p.from === 'outside');
    assert.ok(np && np.outcome === 'dnat' && np.masquerade, `${mode}: node port path`);
    const local = get('local')!;
    assert.equal(local.protocol.toLowerCase(), 'udp');
    assert.equal(local.endpoints.length, 4, mode);
    // Local policy: from outside only this node's two endpoints, half each, source kept.
    const ext = local.paths.find((p) => p.entry === 'node-port' && p.from === 'outside');
    assert.ok(ext, `${mode}: local node port path`);
    assert.equal(ext.outcome, 'dnat', mode);
    assert.equal(ext.masquerade, false, mode);
    assert.deepEqual(
      ext.endpoints.map((p) => [p.address, Math.round(p.share * 1e6) / 1e6]),
      [
        ['10.244.1.4:5353', 0.5],
        ['10.244.1.8:5353', 0.5],
      ],
      mode,
    );
    assert.deepEqual(
      local.findings.filter((f) => /mismatch|differ|but/i.test(f)),
      [],
      mode,
    );
    const empty = get('empty');
    assert.ok(empty, `${mode}: the Service with no endpoints is still explained`);
    assert.deepEqual(empty.endpoints, [], mode);
    const cip = empty.paths.find((p) => p.entry === 'cluster-ip');
    assert.equal(cip?.outcome, 'reject', mode);
  }
});

test('nft -f input declares every chain before a rule or element that jumps to it', () => {
  // The kernel resolves jump/goto targets as each rule is added, even inside one
  // transaction; the lab found this when the first order failed with ENOENT.
  const text = writeNftables([...labServices(), ...overallInput()], {
    localTrafficCidr: '10.0.0.0/8',
    serviceCidr: '172.30.0.0/16',
  });
  const declared = new Set<string>();
  let targets = 0;
  for (const line of text.split('\n')) {
    const chain = /^add chain ip kube-proxy (\S+)/.exec(line);
    if (chain) declared.add(chain[1]!);
    for (const m of line.matchAll(/\b(?:jump|goto) (\S+)/g)) {
      targets++;
      assert.ok(declared.has(m[1]!), `${m[1]!} used before it is declared: ${line}`);
    }
  }
  assert.ok(targets > 40, `only ${targets} jumps checked`);
});
