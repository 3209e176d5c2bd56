import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTool, startTool, ToolError } from '../../src/platform/exec/runner';

test('runTool returns stdout of an argv command', async () => {
  const r = await runTool(['printf', '%s\\n', 'a b', '$(touch /tmp/pp-never)']);
  assert.equal(r.stdout, 'a b\n$(touch /tmp/pp-never)\n');
});

test('runTool reports a missing tool as not-found', async () => {
  await assert.rejects(runTool(['pp-no-such-tool-xyz']), (e: unknown) => {
    assert.ok(e instanceof ToolError);
    assert.equal(e.kind, 'not-found');
    return true;
  });
});

test('runTool reports a failing exit with the first stderr line', async () => {
  await assert.rejects(runTool(['sh', '-c', 'echo boom >&2; exit 3']), (e: unknown) => {
    assert.ok(e instanceof ToolError);
    assert.equal(e.kind, 'exit');
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /boom/);
    return true;
  });
});

test('runTool honours timeout and abort', async () => {
  await assert.rejects(runTool(['sleep', '5'], { timeoutMs: 100 }), /did not finish in time/);
  const ac = new AbortController();
  const p = runTool(['sleep', '5'], { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, (e: unknown) => e instanceof ToolError && e.kind === 'cancelled');
});

test('runTool streams stdout lines', async () => {
  const lines: string[] = [];
  await runTool(['printf', 'one\ntwo\nthree'], {
    onStdoutLine: (l) => lines.push(l),
    collectStdout: false,
  });
  assert.deepEqual(lines, ['one', 'two', 'three']);
});

test('startTool stops a long-running child with SIGINT and resolves', async () => {
  const p = startTool(['sleep', '10']);
  setTimeout(() => p.stop(), 50);
  const r = await p.done;
  assert.ok(r.durationMs < 5000);
});
