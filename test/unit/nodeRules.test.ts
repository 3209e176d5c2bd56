import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { RunOptions, RunResult, ToolProcess } from '../../src/platform/exec/runner';
import type { NodeShell, ShellTarget } from '../../src/platform/shells/nodeShell';
import { openNodeShell, readNodeRules } from '../../src/platform/kube/nodeRules';
import { ClusterClient, loadKubeConfigSet } from '../../src/platform/kube/kubeClient';
import { KindNodeShell } from '../../src/platform/shells/kindShell';
import { KubeApiStandIn, makeCertificates, standInKubeconfig } from '../support/kubeApiStandIn';
import { explainServices } from '../../src/core/kubeproxy/explainService';

const fixtures = join(__dirname, '..', 'fixtures', 'kubeproxy');
const IPTABLES = readFileSync(
  join(fixtures, '01_TestOverallIPTablesRules_recent.saved.txt'),
  'utf8',
);
const NFT = readFileSync(join(fixtures, 'nft-overall-v1.33.list.txt'), 'utf8');
// What iptables-save prints on an nftables-mode node: tables, no Service chains.
const BARE_IPTABLES = '*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\nCOMMIT\n';

/** A shell answering each argv from a table; records what ran where. */
class FakeShell implements NodeShell {
  readonly kind = 'fake';
  readonly ran: { node: string; argv: string }[] = [];
  constructor(private readonly answers: Record<string, Partial<RunResult>>) {}
  run(target: ShellTarget, argv: readonly string[], _options?: RunOptions): Promise<RunResult> {
    this.ran.push({ node: target.node, argv: argv.join(' ') });
    const a = this.answers[argv.join(' ')];
    return Promise.resolve({
      stdout: a?.stdout ?? '',
      stderr: a ? (a.stderr ?? '') : `${argv[0]}: command not found`,
      exitCode: a ? (a.exitCode ?? 0) : 127,
      durationMs: 1,
    });
  }
  start(): ToolProcess {
    throw new Error('not used');
  }
}

test('iptables mode: iptables-save on the chosen node, and the dump explains its Services', async () => {
  const shell = new FakeShell({ 'iptables-save': { stdout: IPTABLES } });
  const rules = await readNodeRules({ shell, node: 'kind-worker', mode: 'iptables' });
  assert.deepEqual(shell.ran, [{ node: 'kind-worker', argv: 'iptables-save' }]);
  assert.equal(rules.mode, 'iptables');
  assert.deepEqual(rules.argv, ['iptables-save']);
  assert.ok(explainServices(rules.text).services.length > 0);
});

test('nftables mode reads kube-proxy’s nft table', async () => {
  const shell = new FakeShell({ 'nft list table ip kube-proxy': { stdout: NFT } });
  const rules = await readNodeRules({ shell, node: 'n1', mode: 'nftables' });
  assert.deepEqual(
    shell.ran.map((r) => r.argv),
    ['nft list table ip kube-proxy'],
  );
  assert.equal(rules.mode, 'nftables');
  assert.equal(explainServices(rules.text).mode, 'nftables');
});

test('unknown mode: iptables without Service chains falls through to nft', async () => {
  const shell = new FakeShell({
    'iptables-save': { stdout: BARE_IPTABLES },
    'nft list table ip kube-proxy': { stdout: NFT },
  });
  const rules = await readNodeRules({ shell, node: 'n1', mode: 'unknown' });
  assert.deepEqual(
    shell.ran.map((r) => r.argv),
    ['iptables-save', 'nft list table ip kube-proxy'],
  );
  assert.equal(rules.mode, 'nftables');
});

test('unknown mode: iptables with Service chains is taken without trying nft', async () => {
  const shell = new FakeShell({ 'iptables-save': { stdout: IPTABLES } });
  const rules = await readNodeRules({ shell, node: 'n1', mode: null });
  assert.equal(rules.mode, 'iptables');
  assert.equal(shell.ran.length, 1);
});

test('neither dump holds rules: one error with both reasons', async () => {
  const shell = new FakeShell({ 'iptables-save': { stdout: BARE_IPTABLES } });
  await assert.rejects(readNodeRules({ shell, node: 'n1' }), (err: Error) => {
    assert.match(err.message, /no kube-proxy rules were found on node n1/);
    assert.match(err.message, /iptables-save` has no kube-proxy Service rules/);
    assert.match(
      err.message,
      /nft list table ip kube-proxy` on node n1 failed: nft: command not found/,
    );
    return true;
  });
});

test('a failing dump in a known mode says which command and why', async () => {
  const shell = new FakeShell({
    'iptables-save': { exitCode: 1, stderr: 'iptables-save: Permission denied (you must be root)' },
  });
  await assert.rejects(
    readNodeRules({ shell, node: 'n2', mode: 'iptables' }),
    /`iptables-save` on node n2 failed: iptables-save: Permission denied/,
  );
});

test('a shell that rejects (ToolError on exit 1) is said the same way', async () => {
  const shell = new FakeShell({});
  shell.run = () => Promise.reject(new Error('command failed with exit code 1: nft: No such file'));
  await assert.rejects(
    readNodeRules({ shell, node: 'n3', mode: 'nftables' }),
    /`nft list table ip kube-proxy` on node n3 failed: command failed with exit code 1/,
  );
});

test('openNodeShell: a kind providerID gives the node container’s shell, nothing created', async () => {
  const opened = await openNodeShell({
    client: undefined as unknown as ClusterClient, // not touched for a kind node
    node: 'podpath-worker',
    providerId: 'kind://docker/podpath/podpath-worker',
    confirm: () => Promise.reject(new Error('a kind node needs no consent')),
  });
  assert.equal(opened.via, 'kind');
  assert.ok(opened.shell instanceof KindNodeShell);
  assert.equal((opened.shell as KindNodeShell).cluster, 'podpath');
  assert.equal((opened.shell as KindNodeShell).provider, 'docker');
  await opened.dispose();
});

// Other nodes: a node-shell pod through the API stand-in (its exec runs the argv here).
const dir = mkdtempSync(join(tmpdir(), 'pp-noderules-'));
const standIns: KubeApiStandIn[] = [];
after(async () => {
  for (const s of standIns) {
    await s.stop();
    s.podApi.dispose();
  }
  rmSync(dir, { recursive: true, force: true });
});

async function cluster(): Promise<{ standIn: KubeApiStandIn; client: ClusterClient }> {
  const certs = await makeCertificates(dir);
  const standIn = new KubeApiStandIn({
    certs,
    tokens: { t: 'alice' },
    pods: { nodes: [{ name: 'node-a', ip: '172.18.0.5' }], startDelayMs: 20 },
  });
  standIn.upsert({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a' },
    status: { addresses: [{ type: 'InternalIP', address: '172.18.0.5' }] },
  });
  await standIn.start();
  standIns.push(standIn);
  const file = join(dir, `kubeconfig-${standIns.length}`);
  writeFileSync(file, standInKubeconfig(standIn, certs, { token: 't' }));
  return { standIn, client: new ClusterClient(loadKubeConfigSet([file])) };
}

test('openNodeShell: consent refused creates no pod and rejects', async () => {
  const { standIn, client } = await cluster();
  await assert.rejects(
    openNodeShell({
      client,
      node: 'node-a',
      providerId: 'aws:///eu-west-1a/i-0abc',
      confirm: () => Promise.resolve(false),
    }),
    /cancelled: no pod was created on node-a/,
  );
  assert.equal(standIn.requests.filter((r) => r.startsWith('POST')).length, 0);
});

test('openNodeShell: after consent a node-shell pod runs the command; dispose deletes it', async () => {
  const { standIn, client } = await cluster();
  const asked: string[][] = [];
  const opened = await openNodeShell({
    client,
    node: 'node-a',
    providerId: null,
    confirm: (r) => {
      asked.push([...r.nodes]);
      return Promise.resolve(true);
    },
  });
  assert.equal(opened.via, 'pod');
  assert.deepEqual(asked, [['node-a']]);
  const pods = standIn.requests.filter((r) => r.startsWith('POST /api/v1/namespaces/default/pods'));
  assert.equal(pods.length, 1);
  const r = await opened.shell.run({ node: 'node-a' }, ['echo', 'rules']);
  assert.equal(r.stdout, 'rules\n');
  await opened.dispose();
  assert.ok(standIn.requests.some((x) => x.startsWith('DELETE /api/v1/namespaces/default/pods/')));
});
