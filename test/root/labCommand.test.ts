// `podpath lab list | clean | run` as a person runs them: list must not change the
// machine, clean must say what it left alone, run prints progress and the analysis and
// tears down on SIGINT/SIGTERM. Root and network namespaces needed; skipped otherwise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABS } from '../../src/core/labs/catalog';
import { LinkKindProbe, labAvailability } from '../../src/platform/netns/kernelProbes';
import { runLabCommand } from '../../src/cli/labCommand';
import { runTool, startTool } from '../../src/platform/exec/runner';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runLabCommand(args, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  return { code, stdout, stderr };
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('lab list --json lists every lab with its availability', async () => {
  const r = await cli(['list', '--json']);
  assert.equal(r.code, 0);
  const labs = JSON.parse(r.stdout) as { id: string; available: boolean; reason?: string }[];
  assert.deepEqual(
    labs.map((l) => l.id),
    LABS.map((l) => l.id),
  );
  const probe = new LinkKindProbe();
  for (const l of labs) {
    const expected = await labAvailability(
      LABS.find((d) => d.id === l.id)!,
      probe,
    );
    assert.equal(l.available, expected.available, l.id);
    if (!l.available) assert.ok(l.reason && l.reason.length > 0, `${l.id} says why`);
  }
  const table = await cli(['list']);
  assert.match(table.stdout, /^lab\s+pods\s+title\s+status/);
  assert.match(
    table.stdout,
    /flannel-vxlan\s+cross node\s+Flannel VXLAN\s+(available|unavailable: .+)/,
  );
});

/** The root namespace as `ip` shows it: every link and every named namespace. */
async function rootState(): Promise<{ links: string; namespaces: string }> {
  const [links, namespaces] = await Promise.all([
    runTool(['ip', '-o', 'link', 'show']),
    runTool(['ip', 'netns', 'list']),
  ]);
  return { links: links.stdout, namespaces: namespaces.stdout };
}

test('lab list does not change the machine: ip link and ip netns are the same after it', async (t) => {
  if (process.getuid?.() !== 0)
    return t.skip('as non-root lab list never reaches the kernel probe');
  const before = await rootState();
  // and nothing appears and goes meanwhile (the old probe added and deleted pp-chk-* links)
  const events: string[] = [];
  const monitor = startTool(['ip', '-o', 'monitor', 'link'], {
    onStdoutLine: (l) => events.push(l),
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  let r;
  try {
    r = await cli(['list', '--json']);
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    monitor.stop('SIGTERM');
    await monitor.done.catch(() => undefined);
  }
  assert.deepEqual(
    events.filter((e) => /\bpp-/.test(e)),
    [],
    'pp- links appeared in the root namespace',
  );
  assert.equal(r.code, 0, r.stderr);
  const labs = JSON.parse(r.stdout) as { id: string; available: boolean; reason?: string }[];
  // the kernel was really asked: veth, bridge and vxlan labs are available here
  assert.ok(
    labs.some((l) => l.id === 'flannel-vxlan' && l.available),
    JSON.stringify(labs.find((l) => l.id === 'flannel-vxlan')),
  );
  assert.deepEqual(await rootState(), before);
});

test('lab clean says what it left alone and leaves it', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('labs need root');
  const ns = `pp-cli-${randomBytes(3).toString('hex')}`;
  try {
    await runTool(['ip', 'netns', 'add', ns]);
    const r = await cli(['clean']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^Left alone: namespace ${ns}: no Podpath run recorded it$`, 'm'),
    );
    const json = await cli(['clean', '--json']);
    const report = JSON.parse(json.stdout) as { namespaces: string[]; leftAlone: string[] };
    assert.ok(!report.namespaces.includes(ns));
    assert.ok(report.leftAlone.includes(`namespace ${ns}: no Podpath run recorded it`));
    assert.match((await runTool(['ip', 'netns', 'list'])).stdout, new RegExp(`^${ns}\\b`, 'm'));
  } finally {
    await runTool(['ip', 'netns', 'del', ns]).catch(() => undefined);
  }
});

test('lab run --json prints the analyze object plus lab and timings', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('labs need root');
  const flannel = LABS.find((l) => l.id === 'flannel-vxlan')!;
  const availability = await labAvailability(flannel);
  if (!availability.available) return t.skip(availability.reason ?? 'unavailable');
  const out = await mkdtemp(join(tmpdir(), 'pp-labcli-'));
  dirs.push(out);
  const r = await cli(['run', 'flannel-vxlan', '--json', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const obj = JSON.parse(r.stdout) as Record<string, unknown>;
  for (const key of ['hops', 'firstMissingHop', 'diagram', 'findings', 'lab', 'timings']) {
    assert.ok(key in obj, `has ${key}`);
  }
  assert.equal(obj.lab, 'flannel-vxlan');
  assert.equal(obj.firstMissingHop, null);
  assert.match(obj.diagram as string, /^sequenceDiagram/);
  const hops = obj.hops as Record<string, unknown>[];
  assert.equal(hops.length, 8);
  for (const key of [
    'name',
    'packets',
    'seen',
    'ttl',
    'innerLength',
    'outerLength',
    'overheadBytes',
    'encapsulation',
    'timeOffsetMs',
  ]) {
    assert.ok(key in hops[0]!, `hop has ${key}`);
  }
  const timings = obj.timings as Record<string, number>;
  for (const key of [
    'prerequisitesMs',
    'buildMs',
    'captureMs',
    'analyzeMs',
    'teardownMs',
    'totalMs',
  ]) {
    assert.equal(typeof timings[key], 'number', key);
  }
  // Progress went to stderr, keeping stdout pure JSON.
  assert.match(r.stderr, /\[build\]/);
  assert.match(r.stderr, /\[teardown\] Torn down/);
});

test('lab run without --json prints progress with timings and the per-hop table', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('labs need root');
  const hostGw = LABS.find((l) => l.id === 'flannel-host-gw')!;
  const availability = await labAvailability(hostGw);
  if (!availability.available) return t.skip(availability.reason ?? 'unavailable');
  const out = await mkdtemp(join(tmpdir(), 'pp-labcli-'));
  dirs.push(out);
  const r = await cli(['run', 'flannel-host-gw', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[build\] Built .*\(\d+ ms\)/);
  assert.match(r.stdout, /total \d+ ms/);
  assert.match(r.stdout, /hop\s+packets\s+seen\s+TTL/);
  assert.match(r.stdout, /01-podA-eth0\s+\d+\s+yes\s+64/);
  assert.match(r.stdout, /Probe seen at every hop\./);
});

/** Starts `podpath lab …` as its own process, as a user would (through tsx). */
function spawnLabCli(args: string[]): ChildProcess {
  const code =
    "require('./src/cli/labCommand.ts').runLabCommand(process.argv.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }).then((c) => { process.exitCode = c; })";
  return spawn(process.execPath, ['--import', 'tsx', '-e', code, ...args], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

for (const [signal, moment, when, exitCode] of [
  ['SIGINT', 'mid-capture', /All \d+ captures listening/, 130],
  ['SIGTERM', 'mid-build', /\[build\] nodes/, 143],
] as const) {
  test(`${signal} ${moment} in a CLI run tears the lab down and exits ${exitCode}`, async (t) => {
    if (process.getuid?.() !== 0) return t.skip('labs need root');
    const def = LABS.find((l) => l.id === 'flannel-vxlan')!;
    const availability = await labAvailability(def);
    if (!availability.available) return t.skip(availability.reason ?? 'unavailable');
    const out = await mkdtemp(join(tmpdir(), 'pp-labcli-'));
    dirs.push(out);
    const child = spawnLabCli(['run', 'flannel-vxlan', '--out', out]);
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (!sent && when.test(stdout)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.ok(sent, `reached ${when.source}: ${stdout}`);
    assert.equal(code, exitCode, stderr);
    assert.match(stderr, new RegExp(`${signal}: cancelling`));
    assert.match(stderr, /cancelled; the lab was torn down/);
    const left = await runTool(['ip', 'netns', 'list']);
    assert.doesNotMatch(left.stdout, /^pp-fv-/m);
    const procs = await runTool(['pgrep', '-a', '-f', out], { okExitCodes: [0, 1] });
    assert.equal(procs.stdout.trim(), '', 'no capture left running');
  });
}
