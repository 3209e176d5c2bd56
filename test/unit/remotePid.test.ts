// The pid preamble run by a real sh, its pid line, the kill argv, and a stop asked for before
// the pid is known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTool } from '../../src/platform/exec/runner';
import {
  killArgv,
  parsePidLine,
  RemotePid,
  withPidPreamble,
} from '../../src/platform/shells/remotePid';

test('the preamble reports the pid on stderr and leaves stdout to the command', async () => {
  const argv = withPidPreamble(['sh', '-c', 'echo out; echo "my pid $$" >&2', 'x; rm -rf /']);
  assert.deepEqual(argv.slice(0, 2), ['sh', '-c']);
  assert.deepEqual(argv.slice(3), [
    'sh',
    'sh',
    '-c',
    'echo out; echo "my pid $$" >&2',
    'x; rm -rf /',
  ]);
  const r = await runTool(argv);
  assert.equal(r.stdout, 'out\n');
  const [first, second] = r.stderr.trim().split('\n');
  const pid = parsePidLine(first ?? '');
  assert.ok(pid !== undefined && pid > 0, first);
  // `exec "$@"`: the command is the process whose pid was reported.
  assert.equal(second, `my pid ${pid}`);
  assert.equal(parsePidLine(second ?? ''), undefined);
  assert.equal(parsePidLine('podpath-pid 12 extra'), undefined);
});

test('kill argv names the signal without SIG', () => {
  assert.deepEqual(killArgv(42, 'SIGINT'), ['kill', '-s', 'INT', '42']);
  assert.deepEqual(killArgv(7, 'SIGKILL'), ['kill', '-s', 'KILL', '7']);
});

test('a signal asked for before the pid is known is sent when it is reported', () => {
  const sent: [number, string][] = [];
  const remote = new RemotePid((pid, signal) => void sent.push([pid, signal]));
  remote.signal('SIGTERM');
  assert.deepEqual(sent, []);
  assert.equal(remote.pid, undefined);
  remote.reported(99);
  assert.equal(remote.pid, 99);
  assert.deepEqual(sent, [[99, 'SIGTERM']]);
  remote.signal('SIGINT');
  assert.deepEqual(sent, [
    [99, 'SIGTERM'],
    [99, 'SIGINT'],
  ]);
  const none: number[] = [];
  const quiet = new RemotePid((pid) => void none.push(pid));
  quiet.reported(5);
  assert.equal(none.length, 0, 'nothing pending, nothing sent');
});
