import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandLogEntry } from '../../src/platform/exec/runner';
import { ProcessRunner, runTool, startTool, ToolError } from '../../src/platform/exec/runner';

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

// --- the runner on execa: grace period, cancel, streaming, clean-up ---------------------------

/** A child that ignores SIGTERM (exec keeps the ignored disposition), so only SIGKILL ends it. */
const stubborn = ['sh', '-c', 'trap "" TERM; exec sleep 10'];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !alive(pid);
}

test('a timed-out child that ignores SIGTERM is killed after the grace period', async () => {
  const started = Date.now();
  await assert.rejects(runTool(stubborn, { timeoutMs: 100, forceKillAfterMs: 400 }), (e) => {
    assert.ok(e instanceof ToolError);
    assert.equal(e.kind, 'timeout');
    assert.deepEqual(e.argv, stubborn);
    return true;
  });
  const took = Date.now() - started;
  // SIGTERM at 100 ms did nothing; SIGKILL came at 100 + 400 ms, long before sleep's 10 s.
  assert.ok(took >= 450, `ended after ${took} ms, before the grace period was over`);
  assert.ok(took < 3000, `took ${took} ms`);
});

test('a cancelled child that ignores SIGTERM is killed after the grace period', async () => {
  const ac = new AbortController();
  const tool = startTool(stubborn, { signal: ac.signal, forceKillAfterMs: 300 });
  await new Promise((r) => setTimeout(r, 200));
  const pid = tool.pid;
  assert.ok(pid !== undefined && alive(pid));
  const started = Date.now();
  ac.abort();
  await assert.rejects(tool.done, (e) => e instanceof ToolError && e.kind === 'cancelled');
  assert.ok(Date.now() - started >= 250);
  assert.ok(await waitGone(pid, 1000), 'the child is still alive');
});

test('an already aborted signal never starts the command', async () => {
  const marker = `/tmp/pp-runner-${process.pid}-never`;
  await assert.rejects(
    runTool(['touch', marker], { signal: AbortSignal.abort() }),
    (e) => e instanceof ToolError && e.kind === 'cancelled',
  );
  await assert.rejects(import('node:fs/promises').then((fs) => fs.access(marker)));
});

test('stdout lines arrive while the child is still running', async () => {
  const seen: { line: string; at: number }[] = [];
  const started = Date.now();
  const r = await runTool(['sh', '-c', 'echo one; sleep 0.6; printf "two\\nthree"'], {
    onStdoutLine: (line) => seen.push({ line, at: Date.now() - started }),
  });
  assert.deepEqual(
    seen.map((s) => s.line),
    ['one', 'two', 'three'],
  );
  const [one, two] = seen;
  assert.ok(one && two && one.at < 500 && two.at >= 500, JSON.stringify(seen));
  // Collected too (runTool's default), and the result keeps the text as it came.
  assert.match(r.stdout, /^one\ntwo\nthree/);
});

test('stderr lines stream and the error keeps only the first 10', async () => {
  const lines: string[] = [];
  await assert.rejects(
    runTool(['sh', '-c', 'for i in $(seq 1 20); do echo "err $i" >&2; done; exit 4'], {
      onStderrLine: (l) => lines.push(l),
    }),
    (e) => {
      assert.ok(e instanceof ToolError);
      assert.equal(e.kind, 'exit');
      assert.equal(e.exitCode, 4);
      assert.equal(e.stderr.split('\n').length, 10);
      assert.match(e.message, /exit code 4: err 1$/);
      return true;
    },
  );
  assert.equal(lines.length, 20);
});

test('startTool reports a missing tool as not-found, with its argv', async () => {
  const tool = startTool(['pp-no-such-tool-xyz', '--flag']);
  await assert.rejects(tool.done, (e) => {
    assert.ok(e instanceof ToolError);
    assert.equal(e.kind, 'not-found');
    assert.deepEqual(e.argv, ['pp-no-such-tool-xyz', '--flag']);
    assert.match(e.message, /pp-no-such-tool-xyz is not installed/);
    return true;
  });
});

test('input goes to stdin; okExitCodes and env are honoured', async () => {
  assert.equal((await runTool(['cat'], { input: 'hello\n' })).stdout, 'hello\n');
  assert.equal((await runTool(['sh', '-c', 'exit 1'], { okExitCodes: [0, 1] })).exitCode, 1);
  const r = await runTool(['sh', '-c', 'echo "$PP_X:${HOME:-none}"'], { env: { PP_X: 'x' } });
  assert.equal(r.stdout, 'x:none\n', 'env is the whole environment, not merged');
});

test('every command is logged with its outcome', async () => {
  const runner = new ProcessRunner();
  const entries: CommandLogEntry[] = [];
  runner.setLog((e) => entries.push(e));
  await runner.run(['true']);
  await runner.run(['false']).catch(() => undefined);
  await runner.run(['pp-no-such-tool-xyz']).catch(() => undefined);
  assert.deepEqual(
    entries.map((e) => [e.argv[0], e.outcome, e.exitCode]),
    [
      ['true', 'ok', 0],
      ['false', 'exit', 1],
      ['pp-no-such-tool-xyz', 'not-found', null],
    ],
  );
});

test('stopAll cancels every running child (the extension deactivating)', async () => {
  const runner = new ProcessRunner();
  const a = runner.start(['sleep', '10']);
  const b = runner.run(['sleep', '10']);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(runner.runningCount, 2);
  const pid = a.pid;
  assert.ok(pid !== undefined);
  await runner.stopAll();
  await assert.rejects(a.done, (e) => e instanceof ToolError && e.kind === 'cancelled');
  await assert.rejects(b, (e) => e instanceof ToolError && e.kind === 'cancelled');
  assert.equal(runner.runningCount, 0);
  assert.ok(!alive(pid));
});

for (const how of ['exit', 'SIGTERM'] as const) {
  test(`children die when the CLI process ends (${how})`, async () => {
    // A small program like the CLI: starts a long child through the runner, then ends.
    const runnerPath = join(__dirname, '..', '..', 'src', 'platform', 'exec', 'runner.ts');
    const dir = await mkdtemp(join(tmpdir(), 'pp-runner-'));
    const script = join(dir, 'cli.ts');
    await writeFile(
      script,
      `import { startTool } from ${JSON.stringify(runnerPath)};\n` +
        `const t = startTool(['sleep', '30']);\n` +
        `const wait = setInterval(() => { if (t.pid) { clearInterval(wait); console.log(t.pid);` +
        (how === 'exit' ? ` process.exit(0);` : ` setInterval(() => undefined, 1000);`) +
        ` } }, 10);\n`,
    );
    const cli = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        cli.stdout.setEncoding('utf8');
        cli.stdout.once('data', (d: string) => resolve(Number(d.trim())));
        cli.once('exit', () => reject(new Error('the script ended without a pid')));
      });
      assert.ok(pid > 0 && alive(pid));
      if (how === 'SIGTERM') cli.kill('SIGTERM');
      await new Promise((r) => cli.once('exit', r));
      assert.ok(await waitGone(pid, 3000), `sleep ${pid} outlived its parent`);
    } finally {
      cli.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('spawned resolves with the pid a caller can record; never-spawned children settle too', async () => {
  const proc = startTool(['sleep', '5']);
  // The pid is not there on return (execa loads first): a recorder must wait for it.
  const pid = await proc.spawned;
  assert.equal(typeof pid, 'number');
  assert.equal(pid, proc.pid);
  proc.stop('SIGTERM');
  await proc.done;

  const aborted = new AbortController();
  aborted.abort();
  const never = startTool(['sleep', '5'], { signal: aborted.signal });
  assert.equal(await never.spawned, undefined);
  await assert.rejects(never.done, (e: unknown) => e instanceof ToolError);
});

test('stdoutFile writes stdout bytes as they come to a file and keeps none of it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pp-runner-'));
  try {
    const file = join(dir, 'out.bin');
    // Bytes that are not text (a pcap's are not): every value 0..255, twice.
    const bytes = Buffer.from([...Array(512).keys()].map((i) => i % 256));
    await writeFile(join(dir, 'in.bin'), bytes);
    const r = await runTool(['cat', join(dir, 'in.bin')], { stdoutFile: file });
    assert.equal(r.stdout, '');
    assert.deepEqual(await readFile(file), bytes);
    // A long-running child streams into the file until it is stopped.
    const tool = startTool(['sh', '-c', 'printf abc; sleep 30'], { stdoutFile: join(dir, 'b') });
    for (let i = 0; i < 50 && (await readFile(join(dir, 'b')).catch(() => '')).length < 3; i++) {
      await new Promise((res) => setTimeout(res, 50));
    }
    tool.stop('SIGTERM');
    await tool.done;
    assert.equal(await readFile(join(dir, 'b'), 'utf8'), 'abc');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
