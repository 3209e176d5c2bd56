// NetnsNodeShell's argv: built without running anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsNodeShell } from '../../src/platform/shells/netnsShell';

test('NetnsNodeShell runs argv through ip netns exec in the target namespace', async () => {
  const shell = new NetnsNodeShell((t) => {
    if (t.node !== 'nodeA') throw new Error(`no node ${t.node}`);
    return t.pod ? `pp-x-${t.pod}` : 'pp-x-nodeA';
  });
  assert.equal(shell.kind, 'netns');
  assert.deepEqual(shell.argvFor({ node: 'nodeA' }, ['ip', 'addr']), [
    'ip',
    'netns',
    'exec',
    'pp-x-nodeA',
    'ip',
    'addr',
  ]);
  assert.deepEqual(
    shell.argvFor({ node: 'nodeA', pod: 'podA' }, ['tcpdump', '-i', 'eth0; rm -rf /']),
    ['ip', 'netns', 'exec', 'pp-x-podA', 'tcpdump', '-i', 'eth0; rm -rf /'],
  );
  await assert.rejects(shell.run({ node: 'nodeZ' }, ['true']), /no node nodeZ/);
});
