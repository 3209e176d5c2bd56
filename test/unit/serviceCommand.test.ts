import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main } from '../../src/cli';

const FIX = join(__dirname, '..', 'fixtures');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

test('service explain --json prints exactly the promised shape', async () => {
  const r = await run([
    'service',
    'explain',
    '--rules',
    join(FIX, 'kubeproxy', 'seed001-echoserver-3.txt'),
    '--service',
    'default/echoserver',
    '--json',
  ]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as {
    mode: string;
    services: Record<string, unknown>[];
    unread: string[];
  };
  assert.deepEqual(Object.keys(j), ['mode', 'services', 'unread']);
  assert.equal(j.mode, 'iptables');
  assert.equal(j.services.length, 1);
  const s = j.services[0]!;
  assert.deepEqual(Object.keys(s), [
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
  assert.equal(s.port, '8877');
  assert.equal(s.nodePort, null);
  assert.equal((s.endpoints as unknown[]).length, 3);
  assert.ok(j.unread.length > 0, 'the walkthrough prose is listed as unread');
});

test('service explain without --service lists every Service; text without --json', async () => {
  const r = await run([
    'service',
    'explain',
    '--rules',
    join(FIX, 'kubeproxy', 'nft-overall-v1.33.json'),
    '--manifest',
    join(FIX, 'kubeproxy', 'overall-services.yaml'),
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^kube-proxy mode: nftables, 6 Service port\(s\)/);
  assert.match(r.out, /ns4\/svc4 {2}port p80\/TCP {2}cluster IP 172\.30\.0\.44:80/);
  assert.match(r.out, /10\.180\.0\.5:80 +50%/);
  assert.match(r.out, /affinity: ClientIP, 10800 s/);
});

test('service explain: bad input gives one clear line, never a crash', async () => {
  const missing = await run(['service', 'explain', '--rules', join(FIX, 'nope.txt')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read the rules file .*nope\.txt: no such file/);
  const usage = await run(['service', 'frobnicate']);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /usage: podpath service explain/);
  const none = await run([
    'service',
    'explain',
    '--rules',
    join(FIX, 'kubeproxy', 'ipvs-node.txt'),
    '--service',
    'default/absent',
  ]);
  assert.equal(none.code, 1);
  assert.match(none.err, /no Service default\/absent/);
  const badYaml = await run([
    'service',
    'explain',
    '--rules',
    join(FIX, 'kubeproxy', 'ipvs-node.txt'),
    '--manifest',
    join(FIX, 'kubeproxy', 'SOURCES.md'),
  ]);
  assert.equal(badYaml.code, 2);
  assert.match(badYaml.err, /no Service in/);
});
