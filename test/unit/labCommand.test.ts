// `podpath lab …` argument errors: refused before anything runs, so no root is needed
// and the machine is never touched. `lab list`, `lab clean` and `lab run` are in
// test/root/labCommand.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLabCommand } from '../../src/cli/labCommand';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runLabCommand(args, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  return { code, stdout, stderr };
}

for (const [args, pattern] of [
  [[], /usage: podpath lab/],
  [['frob'], /unknown lab command frob/],
  [['run'], /exactly one LAB/],
  [['run', 'no-such-lab'], /unknown lab no-such-lab; one of: .*flannel-vxlan/],
  [
    ['run', 'flannel-vxlan', '--fault', 'gremlins'],
    /unknown fault gremlins; one of: .*missing-fdb/,
  ],
  [['run', 'flannel-vxlan', '--probe', 'udp'], /--probe is icmp or tcp, not udp/],
  [['run', 'flannel-vxlan', '--out'], /--out needs a value/],
  [['run', 'flannel-vxlan', '--bogus'], /unknown option --bogus/],
  [['list', 'extra'], /takes no arguments/],
] as const) {
  test(`lab ${args.join(' ') || '(nothing)'} → one line on stderr, exit 2`, async () => {
    const r = await cli([...args]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  });
}
