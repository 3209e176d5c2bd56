// The four Service labs, each built once and run in both kube-proxy modes (iptables,
// then nftables on the same topology once the first mode's rules and connections are
// cleared): N requests and their shares against the explainer's, affinity, Local,
// conntrack's DNAT/MASQUERADE, and the probe connection followed through the NAT at
// every hop. One more run goes through `podpath lab run … --json` end to end. Needs
// root (skips with the reason otherwise); run under `flock /tmp/pp-lab.lock`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABS, LAB_KUBE_PROXY_MODES, findLab } from '../../src/core/labs/catalog';
import type { LabDefinition, LabKubeProxyMode } from '../../src/core/labs/catalog';
import { runTool } from '../../src/platform/exec/runner';
import { buildLab, teardownLab } from '../../src/platform/netns/labBuild';
import type { LabTopology } from '../../src/platform/netns/labBuild';
import { checkLabPrerequisites } from '../../src/platform/labs/labRunner';
import { clearServiceRules, runServicePhase } from '../../src/platform/labs/serviceLabRun';
import type { ServicePhaseResult } from '../../src/platform/labs/serviceLabRun';
import { runLabCommand } from '../../src/cli/labCommand';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'pp-svclab-'));
  dirs.push(d);
  return d;
}

const checked = new Map<string, Promise<string | undefined>>();

/** Why the Service labs cannot run here (asked once: they share tools and kernel needs). */
function whyNot(lab: LabDefinition): Promise<string | undefined> {
  const key = lab.requires.tools.join(' ');
  let p = checked.get(key);
  if (!p) {
    p = (async () => {
      if (process.getuid?.() !== 0) return 'Service labs need root (network namespaces, netfilter)';
      for (const mode of LAB_KUBE_PROXY_MODES) {
        const r = await checkLabPrerequisites(lab, { kubeProxy: mode });
        if (!r.ok) return r.problems.join(' ');
      }
      return undefined;
    })();
    checked.set(key, p);
  }
  return p;
}

async function namespaceInodes(topology: LabTopology): Promise<Set<number>> {
  const inodes = new Set<number>();
  for (const ns of topology.namespaces) inodes.add((await stat(`/run/netns/${ns}`)).ino);
  return inodes;
}

async function processesIn(inodes: Set<number>): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (inodes.has((await stat(`/proc/${pid}/ns/net`)).ino))
        found.push(
          `${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ')}`,
        );
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

async function labNamespacesLeft(lab: LabDefinition): Promise<string[]> {
  const r = await runTool(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`pp-${lab.network.short}-`));
}

/** Timings per lab and mode, printed at the end for the report. */
const timings: Record<string, Record<string, number>> = {};

function checkPhase(lab: LabDefinition, mode: LabKubeProxyMode, r: ServicePhaseResult): void {
  const s = r.service;
  const setup = lab.service!;
  const label = `${lab.id} ${mode}`;
  const why = `${label}: ${s.findings.join(' | ')} || ${r.report.findings.join(' | ')}`;
  assert.equal(s.kubeProxy, mode);
  assert.ok(s.rulesAgree, `${label}: rules read back explain the same as written`);
  assert.equal(s.failed, 0, why);
  const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
  assert.equal(total, s.requests, why);
  const chainRe = mode === 'iptables' ? /^KUBE-SEP-[A-Z0-9]{16}$/ : /^endpoint-[A-Z0-9]{8}-lab\//;
  for (const e of s.path.endpoints) assert.match(e.chain ?? '', chainRe, label);
  const answered = Object.entries(s.counts)
    .filter(([, c]) => c > 0)
    .map(([p]) => p);
  switch (setup.kind) {
    case 'clusterip':
      assert.equal(s.shares.length, 3, label);
      assert.ok(
        s.shares.every((c) => Math.abs(c.share - 1 / 3) < 1e-6 && c.ok),
        `${label}: shares ${JSON.stringify(s.shares.map((c) => [c.endpoint, c.count, c.range]))}`,
      );
      break;
    case 'nodeport':
      assert.deepEqual(answered, ['podB'], why);
      assert.ok(s.shares.every((c) => c.ok));
      break;
    case 'affinity':
      assert.ok(s.affinity?.ok, why);
      assert.equal(answered.length, 1, why);
      break;
    case 'local':
      assert.ok(s.localOnly?.ok, why);
      assert.deepEqual(answered, ['podC'], why);
      assert.ok(
        s.shares.every((c) => c.ok),
        why,
      );
      break;
  }
  // conntrack on the entry node: one DNAT per endpoint that answered, with its rule
  const entry = s.conntrack.find((c) => c.node === setup.target.node)!;
  const targetAddress = `${setup.target.ip}:${setup.target.port}`;
  assert.deepEqual(
    entry.nat.dnat.map((d) => d.to.split(':')[0]).sort(),
    answered.map((p) => setup.endpoints.find((e) => e.pod === p)!.ip).sort(),
    why,
  );
  for (const d of entry.nat.dnat) {
    assert.equal(d.from, targetAddress);
    assert.match(d.chain ?? '', chainRe);
  }
  assert.equal(
    entry.nat.dnat.reduce((a, d) => a + d.connections, 0),
    s.requests,
    why,
  );
  if (setup.kind === 'nodeport') {
    // MASQUERADE to the address of the interface towards node B: flannel.1's 10.244.0.0
    assert.deepEqual(
      entry.nat.snat.map((x) => [x.from, x.to, x.connections]),
      [['172.18.0.100', '10.244.0.0', s.requests]],
      why,
    );
    assert.ok(s.path.masquerade);
  } else {
    assert.deepEqual(entry.nat.snat, [], `${label}: no SNAT expected`);
  }
  // the probe, followed through the NAT at every hop of its route
  assert.equal(r.report.firstMissingHop, null, why);
  assert.ok(
    r.report.hops.every((h) => h.seen && h.match === 'packet'),
    why,
  );
  const ep = setup.endpoints.find((e) => e.pod === s.probe.endpoint);
  assert.ok(ep, why);
  assert.equal(r.report.hops.at(-1)!.name.endsWith(`${ep.pod}-eth0`), true);
  const dnat = s.probe.nat.find((n) => n.kind === 'DNAT');
  assert.ok(dnat, why);
  assert.equal(dnat.from, targetAddress);
  assert.equal(dnat.to, `${ep.ip}:${ep.port}`);
  assert.match(dnat.rule ?? '', chainRe);
  assert.ok(r.report.findings.includes(dnat.sentence), why);
  const snat = s.probe.nat.filter((n) => n.kind === 'SNAT');
  if (setup.kind === 'nodeport') {
    assert.equal(snat.length, 1, why);
    assert.match(
      snat[0]!.sentence,
      /^source 172\.18\.0\.100:\d+ → 10\.244\.0\.0:\d+ between .* \(MASQUERADE\)\.$/,
    );
  } else assert.equal(snat.length, 0, why);
  // no hop is reported lost after the NAT, and the plain address-only NAT lines are replaced
  assert.ok(!r.report.findings.some((f) => /not seen|: DNAT\.$/.test(f)), why);
  assert.ok(s.ok, why);
}

for (const lab of LABS.filter((l) => l.service)) {
  test(`${lab.id}: iptables and nftables — shares, NAT in conntrack, the probe followed through the NAT`, async (t) => {
    const why = await whyNot(lab);
    if (why) return t.skip(why);
    const started = Date.now();
    const topology = await buildLab(lab);
    const buildMs = Date.now() - started;
    const inodes = await namespaceInodes(topology);
    try {
      for (const mode of LAB_KUBE_PROXY_MODES) {
        const outDir = await freshDir();
        const r = await runServicePhase(topology, { mode, outDir, emit: () => undefined });
        checkPhase(lab, mode, r);
        timings[`${lab.id} ${mode}`] = { buildMs, ...r.service.timings };
        await clearServiceRules(topology, mode);
      }
    } finally {
      const td = Date.now();
      const { report } = await teardownLab(topology);
      const teardownMs = Date.now() - td;
      for (const mode of LAB_KUBE_PROXY_MODES) {
        const row = timings[`${lab.id} ${mode}`];
        if (row) row.teardownMs = teardownMs;
      }
      assert.deepEqual(report.leftAlone, []);
    }
    assert.deepEqual(await labNamespacesLeft(lab), []);
    assert.deepEqual(await processesIn(inodes), [], 'servers and captures stopped');
  });
}

test('podpath lab run service-affinity --kube-proxy nftables --json: end to end, torn down', async (t) => {
  const lab = findLab('service-affinity')!;
  const why = await whyNot(lab);
  if (why) return t.skip(why);
  let stdout = '';
  let stderr = '';
  const out = await freshDir();
  const code = await runLabCommand(
    ['run', lab.id, '--kube-proxy', 'nftables', '--requests', '50', '--json', '--out', out],
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
  );
  assert.equal(code, 0, stderr);
  const json = JSON.parse(stdout) as {
    lab: string;
    firstMissingHop: string | null;
    findings: string[];
    service: { kubeProxy: string; requests: number; affinity: { ok: boolean }; ok: boolean };
    timings: Record<string, number>;
  };
  assert.equal(json.lab, lab.id);
  assert.equal(json.service.kubeProxy, 'nftables');
  assert.equal(json.service.requests, 50);
  assert.ok(json.service.affinity.ok);
  assert.ok(json.service.ok);
  assert.equal(json.firstMissingHop, null);
  assert.ok(json.findings.some((f) => /\(DNAT, endpoint-[A-Z0-9]{8}-lab\/svc-affinity/.test(f)));
  assert.match(stderr, /\[analyze\] Session affinity held: all 50 requests went to pod[BCD]\./);
  assert.deepEqual(await labNamespacesLeft(lab), []);
  // The nodes' state was read before the teardown and kept beside the captures.
  const state = await readdir(join(out, 'state'));
  for (const n of lab.network.nodes) assert.ok(state.includes(`${n.name}.route.txt`), n.name);
  for (const c of lab.network.clients ?? [])
    assert.ok(state.includes(`${c.name}.addr.txt`), c.name);
  assert.match(
    stderr,
    /\[analyze\] Read the routes, neighbours and forwarding entries of \d+ namespaces/,
  );
  timings['service-affinity nftables (CLI, 50 requests)'] = json.timings;
});

after(() => {
  if (Object.keys(timings).length > 0)
    console.log(`# service lab timings (ms)\n${JSON.stringify(timings, null, 1)}`);
});
