import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunOptions, RunResult, ToolProcess } from '../../src/platform/exec/runner';
import type { NodeShell, ShellTarget } from '../../src/platform/shells/nodeShell';
import { readNodeRules } from '../../src/platform/kube/nodeRules';
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
