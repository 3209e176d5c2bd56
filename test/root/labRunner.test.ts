// Every available offline lab, run for real in network namespaces: build, capture at
// every hop while pinging, analyse, tear down. Needs root (skips with the reason
// otherwise); labs the kernel cannot build skip with the kernel's reason.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABS, expectedMissingHop } from '../../src/core/labs/catalog';
import type { LabDefinition } from '../../src/core/labs/catalog';
import { runTool } from '../../src/platform/exec/runner';
import { labAvailability } from '../../src/platform/netns/kernelProbes';
import type { LabTopology } from '../../src/platform/netns/labBuild';
import type { LabProgress, LabRunResult, RunLabOptions } from '../../src/platform/labs/labRunner';
import { checkLabPrerequisites, runLab } from '../../src/platform/labs/labRunner';

let rootReason: string | undefined | null = null;

/** Why labs cannot run here at all, or undefined when they can. */
async function whyNoLabs(): Promise<string | undefined> {
  if (rootReason !== null) return rootReason;
  if (process.getuid?.() !== 0) rootReason = 'labs need root (network namespaces, tcpdump)';
  else {
    try {
      await runTool(['ip', 'netns', 'list']);
      rootReason = undefined;
    } catch (err) {
      rootReason = `ip netns is not usable here: ${(err as Error).message}`;
    }
  }
  return rootReason;
}

async function whyNotLab(lab: LabDefinition): Promise<string | undefined> {
  const why = await whyNoLabs();
  if (why) return why;
  const availability = await labAvailability(lab);
  return availability.available ? undefined : (availability.reason ?? 'lab unavailable');
}

const outRoots: string[] = [];
after(async () => {
  for (const d of outRoots) await rm(d, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'pp-labtest-'));
  outRoots.push(d);
  return d;
}

/** Namespace inodes of a built lab, so leftover processes can be found even after the names are gone. */
async function namespaceInodes(topology: LabTopology): Promise<Set<number>> {
  const inodes = new Set<number>();
  for (const ns of topology.namespaces) inodes.add((await stat(`/run/netns/${ns}`)).ino);
  return inodes;
}

/** Processes whose network namespace is one of `inodes`. */
async function processesIn(inodes: Set<number>): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const ino = (await stat(`/proc/${pid}/ns/net`)).ino;
      if (inodes.has(ino)) {
        const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
        found.push(`${pid} ${cmd}`);
      }
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * What a lab could leave behind: namespaces and root-namespace links named
 * `pp-<short>-…`, and lab processes (BIRD, tcpdump, ping, iperf3) naming them.
 * Scoped to one lab because other lab runs (other test files) may legitimately be
 * up at the same time; `pp-` alone when no lab is given.
 */
async function ppLeftovers(def?: LabDefinition): Promise<{
  namespaces: string[];
  links: string[];
  processes: string[];
}> {
  const prefix = def ? `pp-${def.network.short}-` : 'pp-';
  const ns = await runTool(['ip', 'netns', 'list']);
  const namespaces = ns.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
  const links = (await runTool(['ip', '-o', 'link', 'show'])).stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(prefix));
  // Lab daemons and captures carry the namespace names in their arguments (config paths).
  const procs = await runTool(
    ['pgrep', '-a', '-f', `(bird|tcpdump|ping|iperf3|ip netns exec).*${prefix}`],
    { okExitCodes: [0, 1] },
  );
  const processes = procs.stdout.split('\n').filter((l) => l.trim() !== '');
  return { namespaces, links, processes };
}

async function assertNothingLeft(def: LabDefinition, inodes?: Set<number>): Promise<void> {
  const left = await ppLeftovers(def);
  assert.deepEqual(left, { namespaces: [], links: [], processes: [] }, `${def.id} leftovers`);
  if (inodes) assert.deepEqual(await processesIn(inodes), [], 'processes left in lab namespaces');
}

interface Observed {
  result: LabRunResult;
  inodes: Set<number>;
}

async function run(labId: string, options: RunLabOptions = {}): Promise<Observed> {
  let inodes = new Set<number>();
  const result = await runLab(labId, {
    outDir: await freshDir(),
    settleMs: 100,
    ...options,
    onTopology: (t) => {
      // Recorded synchronously enough: the namespaces exist until teardown.
      void namespaceInodes(t).then((s) => (inodes = s));
    },
  });
  return { result, inodes };
}

const timingLines: string[] = [];
after(() => {
  if (timingLines.length > 0) console.log(`lab timings (ms):\n${timingLines.join('\n')}`);
});

function recordTimings(
  t: { diagnostic: (m: string) => void },
  r: LabRunResult,
  label = r.lab,
): void {
  const tm = r.timings;
  const line = `${label.padEnd(36)} build ${tm.buildMs}  capture ${tm.captureMs}  analyze ${tm.analyzeMs}  teardown ${tm.teardownMs}  total ${tm.totalMs}`;
  timingLines.push(line);
  t.diagnostic(line);
  // each phase really ran, and the phases fit in the total the run measured around them
  for (const [phase, ms] of Object.entries({
    prerequisites: tm.prerequisitesMs,
    build: tm.buildMs,
    capture: tm.captureMs,
    teardown: tm.teardownMs,
  }))
    assert.ok(ms > 0, `${phase} took ${ms} ms`);
  assert.ok(tm.analyzeMs >= 0, `analyze took ${tm.analyzeMs} ms`);
  const phases = tm.prerequisitesMs + tm.buildMs + tm.captureMs + tm.analyzeMs + tm.teardownMs;
  assert.ok(
    phases <= tm.totalMs,
    `phases add up to ${phases} ms, more than the total ${tm.totalMs} ms`,
  );
  assert.ok(tm.totalMs < 10_000, `a full run takes under 10 s (${tm.totalMs} ms)`);
}

function ttls(r: LabRunResult): (number | null)[] {
  return r.report.hops.map((h) => h.ttl);
}

/** Checks every hop against the plan the lab ran with: seen, TTL, encapsulation and overhead. */
function assertMatchesPlan(r: LabRunResult): void {
  assert.equal(r.report.hops.length, r.plan.hops.length);
  assert.equal(r.report.firstMissingHop, null, `findings: ${r.report.findings.join(' | ')}`);
  for (const [i, hop] of r.report.hops.entries()) {
    const planned = r.plan.hops[i]!;
    assert.equal(hop.name, planned.name);
    assert.equal(hop.seen, true, `${hop.name} seen`);
    assert.equal(hop.probesSeen, 3, `${hop.name} probes`);
    assert.equal(hop.ttl, planned.expectedTtl, `${hop.name} TTL`);
    if (planned.encapsulation) {
      assert.equal(hop.overheadBytes, planned.encapsulation.overheadBytes, `${hop.name} overhead`);
      assert.equal(hop.encapsulation?.type, planned.encapsulation.type);
    } else {
      assert.equal(hop.encapsulation, null, `${hop.name} not encapsulated`);
    }
  }
  assert.equal(r.probe.sent, 3);
  assert.equal(r.probe.received, 3);
  assert.equal(r.files.length, r.plan.hops.length);
}

function lab(id: string): LabDefinition {
  const found = LABS.find((l) => l.id === id);
  assert.ok(found, `lab ${id} is in the catalog`);
  return found;
}

test('flannel-vxlan: 8 hops, TTL 64→63→62, VXLAN +50 B on UDP 8472 with VNI 1', async (t) => {
  const why = await whyNotLab(lab('flannel-vxlan'));
  if (why) return t.skip(why);
  const { result: r, inodes } = await run('flannel-vxlan');
  recordTimings(t, r);
  assert.equal(r.report.hops.length, 8);
  assert.deepEqual(
    r.report.hops.map((h) => h.seen),
    [true, true, true, true, true, true, true, true],
  );
  assert.deepEqual(ttls(r), [64, 64, 63, 63, 63, 63, 62, 62]);
  assert.equal(r.report.firstMissingHop, null);
  const eth0 = r.report.hops.filter((h) => /-node[AB]-eth0$/.test(h.name));
  assert.equal(eth0.length, 2);
  for (const h of eth0) {
    assert.equal(h.overheadBytes, 50, h.name);
    assert.deepEqual(h.encapsulation, { type: 'vxlan', vni: 1, dstPort: 8472 });
    assert.equal(h.outerLength! - h.innerLength!, 50);
  }
  for (const h of r.report.hops.filter((x) => !/-node[AB]-eth0$/.test(x.name))) {
    assert.equal(h.encapsulation, null, h.name);
    assert.equal(h.innerLength, 84, `${h.name}: 56-byte ping payload + ICMP + IP`);
  }
  assertMatchesPlan(r);
  // pcap and text kept side by side in the output folder.
  for (const f of r.files) {
    assert.ok((await stat(f.pcap)).size > 24, f.pcap);
    assert.match(await readFile(f.text, 'utf8'), /ICMP echo request/);
    assert.ok(f.packets >= 6, `${f.hop}: ${f.packets} packets`);
  }
  assert.equal(r.kept, false);
  await assertNothingLeft(lab(r.lab), inodes);
});

test('flannel-host-gw: 6 hops, TTL 64/64/63/63/62/62, nothing encapsulated', async (t) => {
  const why = await whyNotLab(lab('flannel-host-gw'));
  if (why) return t.skip(why);
  const { result: r, inodes } = await run('flannel-host-gw');
  recordTimings(t, r);
  assert.equal(r.report.hops.length, 6);
  assert.deepEqual(ttls(r), [64, 64, 63, 63, 62, 62]);
  assert.ok(r.report.hops.every((h) => h.seen && h.encapsulation === null));
  assertMatchesPlan(r);
  await assertNothingLeft(lab(r.lab), inodes);
});

test('calico-bgp: 6 hops over BGP-learned routes, TTL 64/64/63/63/62/62', async (t) => {
  const why = await whyNotLab(lab('calico-bgp'));
  if (why) return t.skip(why);
  const { result: r, inodes } = await run('calico-bgp');
  recordTimings(t, r);
  assert.equal(r.report.hops.length, 6);
  assert.deepEqual(ttls(r), [64, 64, 63, 63, 62, 62]);
  assert.ok(r.report.hops.every((h) => h.seen && h.encapsulation === null));
  assertMatchesPlan(r);
  await assertNothingLeft(lab(r.lab), inodes);
});

test('calico-vxlan: VXLAN +50 B on UDP 4789 with VNI 4096', async (t) => {
  const why = await whyNotLab(lab('calico-vxlan'));
  if (why) return t.skip(why);
  const { result: r, inodes } = await run('calico-vxlan');
  recordTimings(t, r);
  const encapsulated = r.report.hops.filter((h) => h.encapsulation !== null);
  assert.equal(encapsulated.length, 2);
  for (const h of encapsulated) {
    assert.match(h.name, /-node[AB]-eth0$/);
    assert.deepEqual(h.encapsulation, { type: 'vxlan', vni: 4096, dstPort: 4789 });
    assert.equal(h.overheadBytes, 50);
  }
  assert.deepEqual(ttls(r), [64, 64, 63, 63, 63, 63, 62, 62]);
  assertMatchesPlan(r);
  await assertNothingLeft(lab(r.lab), inodes);
});

test('calico-ipip: IPIP +20 B through tunl0', async (t) => {
  const why = await whyNotLab(lab('calico-ipip'));
  if (why) return t.skip(why);
  const { result: r, inodes } = await run('calico-ipip');
  recordTimings(t, r);
  const encapsulated = r.report.hops.filter((h) => h.encapsulation !== null);
  assert.ok(encapsulated.length >= 2);
  for (const h of encapsulated) {
    assert.equal(h.encapsulation?.type, 'ipip');
    assert.equal(h.overheadBytes, 20);
  }
  assertMatchesPlan(r);
  await assertNothingLeft(lab(r.lab), inodes);
});

// Same-node variants and anything else in the catalog: checked against their plans.
const namedAbove = new Set([
  'flannel-vxlan',
  'flannel-host-gw',
  'calico-bgp',
  'calico-vxlan',
  'calico-ipip',
]);
// (the Service labs run in serviceLabs.test.ts, with their own checks)
for (const def of LABS.filter((l) => !namedAbove.has(l.id) && !l.service)) {
  test(`${def.id}: every hop seen with the plan's TTLs`, async (t) => {
    const why = await whyNotLab(def);
    if (why) return t.skip(why);
    const { result: r, inodes } = await run(def.id);
    recordTimings(t, r);
    assertMatchesPlan(r);
    if (def.sameNode) {
      assert.ok(
        r.report.hops.every((h) => h.encapsulation === null),
        'same node: no tunnel',
      );
      assert.ok(r.report.hops.every((h) => !/eth0$/.test(h.name) || /^\d+-pod/.test(h.name)));
    }
    await assertNothingLeft(lab(r.lab), inodes);
  });
}

test('tcp probe: an iperf3 exchange crosses every flannel-vxlan hop', async (t) => {
  const why = await whyNotLab(lab('flannel-vxlan'));
  if (why) return t.skip(why);
  const { result: r, inodes } = await run('flannel-vxlan', { probe: 'tcp' });
  recordTimings(t, r, 'flannel-vxlan (tcp probe)');
  assert.equal(r.probe.kind, 'tcp');
  assert.equal(r.probe.received, 1, r.probe.summary);
  assert.equal(r.report.firstMissingHop, null, r.report.findings.join(' | '));
  assert.ok(r.report.hops.every((h) => h.seen));
  for (const f of r.files) assert.match(await readFile(f.text, 'utf8'), /\.5201/, f.hop);
  await assertNothingLeft(lab(r.lab), inodes);
});

/** What the first finding of a faulted run must say, with the evidence it must name. */
function explanationFor(def: (typeof LABS)[number], fault: string): RegExp {
  const tunnel = def.network.nodes[0]?.tunnel;
  const podB = def.network.pods[1]!;
  const peer = def.network.nodes[1]!;
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  switch (fault) {
    case 'blackhole':
      return new RegExp(
        `^Probe dies on node A, .*route for ${esc(podB.ip)} is \`blackhole ${esc(podB.ip)}\``,
      );
    case 'missing-fdb':
      return new RegExp(
        `^Probe lost in ${esc(tunnel!.device)} on node A, .*forwarding table has no entry for ${esc(peer.tunnel!.mac!)}`,
      );
    case 'mtu-mismatch':
      return new RegExp(
        // The capture filters keep the ICMP error node A sends back, and correlation ties it
        // to the probe it quotes.
        `^Probe too big, .*1500 bytes .*MTU ${tunnel!.mtu} of ${esc(tunnel!.device)}.*Node A answered ICMP "fragmentation needed" \\(next-hop MTU ${tunnel!.mtu}\\) from [0-9.]+ to ${esc(def.network.pods[0]!.ip)}, seen at 01-${esc(def.network.pods[0]!.name)}-eth0 \\(it quotes the probe itself\\)\\..*A small probe \\(84 bytes\\) passes`,
      );
    default:
      if (def.sameNode)
        return new RegExp(
          `^Probe dies on node A, .*no route for ${esc(podB.ip)} more specific than \`blackhole `,
        );
      if (tunnel)
        return new RegExp(
          `^Probe routed away .*Node A has no route to ${esc(peer.podCidr)}, so it followed its default route \`default via 172\\.18\\.0\\.1 dev eth0\` out of eth0 unencapsulated instead of into ${esc(tunnel.device)}`,
        );
      return new RegExp(
        `^Probe sent to the wrong next hop, .*destination MAC is 02:42:3b:7e:51:0a \\(172\\.18\\.0\\.1, node A's default gateway\\), not node B's ${esc(peer.mac)}`,
      );
  }
}

// Every fault each lab offers, located at the hop the catalog says, and explained.
for (const def of LABS) {
  for (const fault of def.faults) {
    test(`${def.id} with ${fault}: the analysis names ${expectedMissingHop(def, fault)}`, async (t) => {
      const why = await whyNotLab(def);
      if (why) return t.skip(why);
      const { result: r, inodes } = await run(def.id, { fault });
      recordTimings(t, r, `${def.id} +${fault}`);
      assert.equal(r.fault, fault);
      assert.equal(r.probe.received, 0, 'no reply crosses a broken datapath');
      assert.equal(
        r.report.firstMissingHop,
        expectedMissingHop(def, fault),
        r.report.findings.join(' | '),
      );
      const missing = r.report.hops.findIndex((h) => !h.seen);
      assert.equal(r.report.hops[missing]?.name, r.report.firstMissingHop);
      // The first finding says why, naming the evidence the node state and captures give.
      assert.match(r.report.findings[0] ?? '', explanationFor(def, fault), r.report.findings[0]);
      if (fault === 'missing-route' && def.id === 'calico-bgp') {
        assert.ok(
          r.plan.notes.some((n) => /^Not so in this run: .*was learned over BGP/.test(n)),
          r.plan.notes.join(' | '),
        );
      }
      assert.ok(r.report.hops.slice(0, missing).every((h) => h.seen));
      if (fault === 'mtu-mismatch') {
        // The error is captured at pod A and named at that hop in words, with the MTU.
        const mtu = def.network.nodes[0]!.tunnel!.mtu;
        assert.deepEqual(
          r.report.hops[0]?.icmpErrors?.map((e) => [e.type, e.code, e.mtu, e.about]),
          [['unreachable', 4, mtu, 'packet']],
        );
        assert.ok(
          r.report.findings.some(
            (f) =>
              f.startsWith(
                `At ${r.report.hops[0]!.name} the probe was answered by ICMP unreachable code 4 from `,
              ) && f.endsWith(`: fragmentation needed, next-hop MTU ${mtu}.`),
          ),
          r.report.findings.join(' | '),
        );
      }
      await assertNothingLeft(lab(r.lab), inodes);
    });
  }
}

async function cancelledRun(
  labId: string,
  when: (step: LabProgress) => boolean,
): Promise<{ error: unknown; inodes: Set<number>; phases: string[] }> {
  const controller = new AbortController();
  let inodes = new Set<number>();
  const phases: string[] = [];
  let error: unknown;
  try {
    await runLab(labId, {
      outDir: await freshDir(),
      signal: controller.signal,
      onTopology: (t) => void namespaceInodes(t).then((s) => (inodes = s)),
      onProgress: (step) => {
        phases.push(`${step.phase}: ${step.message}`);
        if (!controller.signal.aborted && when(step)) controller.abort();
      },
    });
  } catch (err) {
    error = err;
  }
  return { error, inodes, phases };
}

// While namespaces are being created, and while BIRD daemons are up waiting for BGP.
for (const point of [/^create namespaces/, /^wait for BGP/]) {
  test(`cancel in the middle of the build (${point.source}) leaves nothing behind`, async (t) => {
    const def = lab('calico-bgp');
    const why = await whyNotLab(def);
    if (why) return t.skip(why);
    const { error, phases } = await cancelledRun(
      def.id,
      (s) => s.phase === 'build' && point.test(s.message),
    );
    assert.ok(
      error instanceof Error && error.name === 'AbortError',
      `aborted, got ${String(error)}`,
    );
    assert.ok(
      phases.some((p) => point.test(p.replace(/^build: /, ''))),
      'reached the cancel point',
    );
    assert.ok(!phases.some((p) => p.startsWith('capture')), 'never reached the capture');
    await assertNothingLeft(def);
  });
}

test('cancel in the middle of the capture leaves nothing behind', async (t) => {
  const why = await whyNotLab(lab('flannel-vxlan'));
  if (why) return t.skip(why);
  const { error, inodes, phases } = await cancelledRun(
    'flannel-vxlan',
    (s) => s.phase === 'capture' && /listening/.test(s.message),
  );
  assert.ok(error instanceof Error && error.name === 'AbortError', `aborted, got ${String(error)}`);
  assert.ok(
    phases.some((p) => p.startsWith('teardown')),
    'tore down',
  );
  assert.ok(inodes.size > 0);
  await assertNothingLeft(lab('flannel-vxlan'), inodes);
});

test('--keep leaves the lab up until the next run cleans it', async (t) => {
  const why = await whyNotLab(lab('flannel-host-gw'));
  if (why) return t.skip(why);
  const { result: r } = await run('flannel-host-gw', { keep: true });
  assert.equal(r.kept, true);
  assert.equal(r.timings.teardownMs, 0);
  assert.ok((await ppLeftovers(lab(r.lab))).namespaces.length > 0, 'kept namespaces are there');
  // The next run starts by removing leftovers, then tears its own lab down.
  const { result: again, inodes } = await run('flannel-host-gw');
  assert.equal(again.report.firstMissingHop, null);
  await assertNothingLeft(lab(r.lab), inodes);
});

test('prerequisites say exactly what is missing and the command that installs it', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('the tool check is reached as root only');
  const base = lab('calico-bgp');
  const needsMore: LabDefinition = {
    ...base,
    requires: { ...base.requires, tools: [...base.requires.tools, 'pp-no-such-tool'] },
  };
  const report = await checkLabPrerequisites(needsMore, { probe: 'tcp' });
  assert.equal(report.ok, false);
  assert.equal(report.privilege, 'root');
  assert.deepEqual(report.missingTools, ['pp-no-such-tool']);
  assert.equal(report.installCommand, 'apt-get install -y pp-no-such-tool');
  assert.deepEqual(report.problems, [
    'Missing pp-no-such-tool: install with `apt-get install -y pp-no-such-tool`.',
  ]);
  const fine = await checkLabPrerequisites(lab('flannel-vxlan'));
  assert.deepEqual(fine.problems, []);
});
