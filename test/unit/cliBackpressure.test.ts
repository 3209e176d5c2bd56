import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDecodeCommand } from '../../src/cli/captureCommands';
import { loadHopSources, writeHopPcap } from '../../src/platform/bench/analyzeBench';

const ROOT = join(__dirname, '..', '..');
const HOPS = join(ROOT, 'test', 'fixtures', 'netns', 'flannel-vxlan');

function bigPcap(dir: string, packets: number): string {
  const path = join(dir, 'big.pcap');
  writeHopPcap(path, loadHopSources(HOPS)[3]!, packets, 3);
  return path;
}

test('decode --json waits for stdout between chunks instead of piling output up', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-bp-'));
  try {
    const file = bigPcap(dir, 40_000);
    let written = 0;
    let release: (() => void) | undefined;
    let waits = 0;
    const run = runDecodeCommand(['--json', file], {
      stdout: (s) => {
        written += s.length;
      },
      stderr: () => undefined,
      drained: () => {
        waits++;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    await sleep(300);
    // Held at the first chunk: about 1 MiB of pcap's worth of JSON, not the whole file.
    const held = written;
    assert.equal(waits, 1);
    assert.ok(held > 0 && held < 20 * 1024 * 1024, `${held} bytes before the first wait`);
    await sleep(200);
    assert.equal(written, held, 'nothing more is written while stdout is full');
    while (release) {
      const r = release;
      release = undefined;
      r();
      await sleep(0);
      await sleep(0);
    }
    assert.equal(await run, 0);
    assert.ok(waits > 3, `${waits} waits`);
    assert.ok(written > held * 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Peak and current resident memory of a process, in MiB, from the OS. */
function memoryOf(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number =>
    Number(/(\d+) kB/.exec(status.split(`${name}:`)[1] ?? '')?.[1] ?? 0);
  return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}

test('podpath decode --json big.pcap into a pipe nobody reads stays small, then finishes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-bp-'));
  try {
    const packets = 150_000;
    const file = bigPcap(dir, packets);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'decode', '--json', file],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT },
    );
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    // A reader that is not reading: the pipe fills and the CLI must wait.
    child.stdout.pause();
    await sleep(4000);
    const stalled = memoryOf(child.pid!);
    assert.equal(child.exitCode, null, 'the CLI is waiting, not done');
    // Now a slow reader: small reads with pauses, while memory is watched.
    let lines = 0;
    let peak = stalled.hwm;
    const count = (chunk: Buffer): void => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    };
    child.stdout.on('data', count);
    child.stdout.pause();
    for (let i = 0; i < 20 && child.exitCode === null; i++) {
      child.stdout.resume();
      await sleep(20);
      child.stdout.pause();
      await sleep(30);
      if (child.exitCode === null) peak = Math.max(peak, memoryOf(child.pid!).hwm);
    }
    child.stdout.resume();
    assert.equal(await exited, 0);
    assert.equal(lines, packets);
    // Its whole JSON is about 130 MB; holding it would show here.
    assert.ok(stalled.hwm < 200, `peak ${stalled.hwm.toFixed(0)} MiB while stalled`);
    assert.ok(peak < 200, `peak ${peak.toFixed(0)} MiB while read slowly`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
