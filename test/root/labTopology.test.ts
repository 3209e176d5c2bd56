/**
 * Builds every available lab for real (root and `ip netns` needed, otherwise
 * the tests skip), compares its state with the reference dumps in
 * test/fixtures/netns/<lab>/state/, pings across it, and checks that teardown,
 * abort, failure and cleanLeftovers leave nothing behind.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runTool, startTool, ToolError } from '../../src/platform/exec/runner';
import { FAULTS, LABS, expectedMissingHop, findLab } from '../../src/core/labs/catalog';
import { buildDatapathPlan } from '../../src/core/datapath/plans';
import type { PlanHop } from '../../src/core/datapath/types';
import type { FaultKind, LabDefinition } from '../../src/core/labs/catalog';
import { labNamespace } from '../../src/core/labs/labArgv';
import { LabBuildError, buildLab, teardownLab } from '../../src/platform/netns/labBuild';
import type { LabTopology } from '../../src/platform/netns/labBuild';
import { cleanLeftovers } from '../../src/platform/netns/labRuns';
import { LAB_RUN_DIR } from '../../src/platform/netns/labPaths';
import { LinkKindProbe, labAvailability } from '../../src/platform/netns/kernelProbes';
import { parseIpAddr, vxlanSettings } from '../../src/core/netstate/ipLink';
import type { IpAddrInterface } from '../../src/core/netstate/ipLink';
import { formatRoute, parseIpRoute } from '../../src/core/netstate/ipRoute';
import { parseIpNeigh } from '../../src/core/netstate/ipNeigh';
import { parseBridgeFdb } from '../../src/core/netstate/bridgeFdb';
import { parseBirdRoutes } from '../../src/core/netstate/bird';

const FIX = path.join(__dirname, '..', 'fixtures', 'netns');
const ROLES = ['nodeA', 'nodeB', 'podA', 'podB', 'underlay'] as const;
type Role = (typeof ROLES)[number];

async function whyNoLabs(): Promise<string | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'needs root and ip netns: not root';
  try {
    await runTool(['ip', 'netns', 'list'], { timeoutMs: 5000 });
  } catch (e) {
    return `needs root and ip netns: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}
const noLabs = whyNoLabs();

/** Skips the test when labs cannot run here or this lab is unavailable; true when it should go on. */
async function ready(t: TestContext, lab?: LabDefinition): Promise<boolean> {
  const why = await noLabs;
  if (why) {
    t.skip(why);
    return false;
  }
  if (lab) {
    const a = await labAvailability(lab);
    if (!a.available) {
      t.skip(`${lab.id} unavailable here: ${a.reason ?? '?'}`);
      return false;
    }
  }
  return true;
}

async function ppNamespaces(): Promise<string[]> {
  const r = await runTool(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith('pp-'));
}

async function ppRootLinks(): Promise<string[]> {
  const r = await runTool(['ip', '-o', 'link', 'show']);
  return r.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith('pp-'));
}

/** Processes whose command line points into /run/pp-lab (the labs' BIRD daemons). */
function labDaemonPids(prefix = 'pp-'): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(`${LAB_RUN_DIR}/${prefix}`) && !cmd.includes('birdc'))
        out.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Pids inside namespace `ns`. */
async function pidsIn(ns: string): Promise<number[]> {
  const r = await runTool(['ip', 'netns', 'pids', ns]);
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/** Nothing of the lab with this prefix is left; `links` are root links that must be gone too. */
async function assertNothingLeft(prefix = 'pp-', links: readonly string[] = []): Promise<void> {
  assert.deepEqual(
    (await ppNamespaces()).filter((n) => n.startsWith(prefix)),
    [],
    'pp- namespaces left',
  );
  assert.deepEqual(
    (await ppRootLinks()).filter((l) => l.startsWith(prefix) || links.includes(l)),
    [],
    'links left in the root namespace',
  );
  assert.deepEqual(labDaemonPids(prefix), [], 'lab daemons left');
}

function nsOf(lab: LabDefinition, role: Role): string {
  return labNamespace(lab, role === 'underlay' ? 'ul' : role);
}

interface Dump {
  links: IpAddrInterface[];
  routes: string[];
  neigh: ReturnType<typeof parseIpNeigh>;
  fdb: ReturnType<typeof parseBridgeFdb>;
}

async function dump(lab: LabDefinition, role: Role): Promise<Dump> {
  const ns = nsOf(lab, role);
  const [link, addr, route, neigh, fdb] = await Promise.all([
    runTool(['ip', '-d', '-n', ns, 'link', 'show']),
    runTool(['ip', '-n', ns, 'addr', 'show']),
    runTool(['ip', '-n', ns, 'route', 'show']),
    runTool(['ip', '-n', ns, 'neigh', 'show']),
    runTool(['bridge', '-n', ns, 'fdb', 'show']),
  ]);
  const withAddrs = parseIpAddr(addr.stdout);
  const links = parseIpAddr(link.stdout).map((l) => ({
    ...l,
    addresses: withAddrs.find((a) => a.name === l.name)?.addresses ?? [],
  }));
  return {
    links,
    routes: parseIpRoute(route.stdout).map(formatRoute).sort(),
    neigh: parseIpNeigh(neigh.stdout),
    fdb: parseBridgeFdb(fdb.stdout),
  };
}

/**
 * Labs whose state/ folder was dumped from this very lab (for the live-plan tests), not
 * taken from the shared reference datapaths: comparing the lab with itself proves nothing.
 */
const OWN_DUMPS = new Set(['calico-vxlan']);

function fixtureDump(fixtureLab: string, role: Role): Dump {
  const read = (f: string): string => {
    const p = path.join(FIX, fixtureLab, 'state', `${role}.${f}`);
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  };
  const withAddrs = parseIpAddr(read('ip-addr.txt'));
  const links = parseIpAddr(read('ip-d-link.txt')).map((l) => ({
    ...l,
    addresses: withAddrs.find((a) => a.name === l.name)?.addresses ?? [],
  }));
  // `bridge fdb show dev X` leaves `dev X` out of its lines: put it back from the file name
  const fdb = readdirSync(path.join(FIX, fixtureLab, 'state'))
    .filter((f) => f.startsWith(`${role}.bridge-fdb-show`))
    .flatMap((f) => {
      const dev = /bridge-fdb-show-dev-(.+)\.txt$/.exec(f)?.[1];
      return parseBridgeFdb(readFileSync(path.join(FIX, fixtureLab, 'state', f), 'utf8')).map(
        (e) => (dev !== undefined && e.dev === undefined ? { ...e, dev } : e),
      );
    });
  return {
    links,
    routes: parseIpRoute(read('ip-route.txt'))
      .map((r) => formatRoute({ ...r, dev: normName(r.dev) }))
      .sort(),
    neigh: parseIpNeigh(read('ip-neigh.txt')),
    fdb,
  };
}

/** Names that differ only because of the capture rig: `br-spk` is our `br-pp`, `spk-podA` our `pp-fv-podA`. */
function normName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (name === 'br-spk') return 'br-pp';
  const ns = /^(?:spk|pp-[a-z]+)-(\w+)$/.exec(name);
  return ns ? `ns:${ns[1] === 'ul' ? 'underlay' : ns[1]}` : name;
}

/** The part of a device that the datapath depends on, with what the fixture randomised masked. */
function deviceFacts(l: IpAddrInterface, role: Role): Record<string, unknown> {
  const randomMac = role === 'underlay' && l.kind === 'veth';
  const vx = vxlanSettings(l);
  return {
    name: normName(l.name),
    kind: l.kind ?? null,
    slaveKind: l.slaveKind ?? null,
    mtu: l.mtu,
    master: normName(l.master) ?? null,
    flags: [...l.flags].sort(),
    mac: randomMac ? '<random>' : l.mac,
    // the reference shows some peers only as `link-netnsid N` (unnamed then); both mean "peer elsewhere"
    linkNetns: normName(l.linkNetns) ?? (l.linkNetnsId !== undefined ? 'ns:?' : null),
    vxlan: vx ? { ...vx, port: vx.dstport } : null,
    hairpin: l.slaveAttributes.hairpin ?? null,
    addresses: l.addresses
      .filter((a) => !(a.family === 'inet6' && a.address.startsWith('fe80:')))
      .map((a) => `${a.address}/${a.prefixLength} ${a.scope ?? ''}`),
  };
}

function permanentNeigh(d: Dump): string[] {
  return d.neigh
    .filter((n) => n.states.includes('PERMANENT'))
    .map((n) => `${n.address} ${n.dev ?? ''} ${n.lladdr ?? ''}`)
    .sort();
}

function fdbFacts(d: Dump, role: Role): string[] {
  const ports = new Set(d.links.filter((l) => l.kind === 'veth').map((l) => l.name));
  return d.fdb
    .filter((e) => e.permanent && (e.dst !== undefined || e.master !== undefined))
    .map((e) => {
      const mac =
        role === 'underlay' && e.dev !== undefined && ports.has(e.dev) ? '<random>' : e.mac;
      return `${mac} dev ${normName(e.dev) ?? ''}${e.dst ? ` dst ${e.dst}` : ''}${e.master ? ` master ${normName(e.master)}` : ''}`;
    })
    .sort();
}

async function ping(
  topology: LabTopology,
  extra: string[] = [],
): Promise<{ ok: boolean; out: string }> {
  const dst = topology.lab.planInput.destination.ip;
  const r = await topology.shell.run(
    { node: 'nodeA', pod: 'podA' },
    ['ping', '-c', '2', '-i', '0.2', '-W', '1', ...extra, dst],
    { okExitCodes: [0, 1, 2], timeoutMs: 10_000 },
  );
  return { ok: r.exitCode === 0, out: r.stdout + r.stderr };
}

test('the link-kind probe finds veth, bridge and vxlan, says why ipip is missing, and leaves no namespace', async (t) => {
  if (!(await ready(t))) return;
  const before = await ppNamespaces();
  const probe = new LinkKindProbe();
  for (const kind of ['veth', 'bridge', 'vxlan'] as const)
    assert.deepEqual(await probe.check(kind), { available: true });
  const ipip = await probe.check('ipip');
  if (!ipip.available) assert.match(ipip.reason ?? '', /ipip/);
  assert.deepEqual(await ppNamespaces(), before, 'the throwaway namespace is gone');
});

test('the link-kind probe answers from one probe for a while, then asks the kernel again', async (t) => {
  if (!(await ready(t))) return;
  let now = 1_000;
  const probe = new LinkKindProbe({ maxAgeMs: 5_000, now: () => now });
  const first = probe.kinds();
  now += 4_000;
  assert.equal(probe.kinds(), first, 'one probe within maxAge');
  await first;
  now += 2_000;
  const second = probe.kinds();
  assert.notEqual(second, first, 'asked again once the answer is older than maxAge');
  assert.deepEqual(await second, await first);
});

// the Service labs are flannel-vxlan plus pods and rules: serviceLabs.test.ts builds them
for (const lab of LABS.filter((l) => !l.service)) {
  test(`${lab.id}: builds, matches the reference state, pings across, tears down clean`, async (t) => {
    if (!(await ready(t, lab))) return;
    const steps: string[] = [];
    const buildStarted = Date.now();
    const topology = await buildLab(lab, { onProgress: (s) => steps.push(s) });
    const buildWall = Date.now() - buildStarted;
    let torn = false;
    try {
      assert.ok(steps.includes('pods'));
      assert.ok(topology.namespaces.every((n) => n.startsWith('pp-')));
      assert.deepEqual(
        (await ppNamespaces()).filter((n) => n.startsWith(`pp-${lab.network.short}-`)).sort(),
        [...topology.namespaces].sort(),
      );
      // inventory and plan input carry the real devices
      const podA = topology.inventory.pods.find((p) => p.name === 'podA');
      assert.equal(
        podA?.interfaces.find((i) => i.name === 'eth0')?.ipv4?.split('/')[0],
        lab.planInput.source.ip,
      );
      assert.equal(topology.planInput.source.mac, lab.network.pods[0]?.mac);
      const nodeA = topology.inventory.nodes.find((n) => n.name === 'nodeA');
      assert.equal(
        nodeA?.interfaces.find((i) => i.name === lab.planInput.source.hostInterface)?.kind,
        'veth',
      );

      const p = await ping(topology);
      assert.ok(p.ok, `ping podA → podB failed:\n${p.out}`);

      const fixtureLab = lab.sameNode || OWN_DUMPS.has(lab.id) ? undefined : lab.id;
      if (fixtureLab && existsSync(path.join(FIX, fixtureLab, 'state'))) {
        for (const role of ROLES) {
          const mine = await dump(lab, role);
          const ref = fixtureDump(fixtureLab, role);
          // ifindex order is creation order, which says nothing about the datapath: compare by name
          const byName = (a: IpAddrInterface, b: IpAddrInterface): number =>
            (normName(a.name) ?? '').localeCompare(normName(b.name) ?? '');
          const refFacts = [...ref.links].sort(byName).map((l) => deviceFacts(l, role));
          const mineFacts = [...mine.links].sort(byName).map((l, i) => {
            const f = deviceFacts(l, role);
            if (refFacts[i]?.linkNetns === 'ns:?' && f.linkNetns !== null) f.linkNetns = 'ns:?';
            return f;
          });
          assert.deepEqual(mineFacts, refFacts, `${lab.id} ${role}: devices`);
          assert.deepEqual(mine.routes, ref.routes, `${lab.id} ${role}: routes`);
          assert.deepEqual(
            permanentNeigh(mine),
            permanentNeigh(ref),
            `${lab.id} ${role}: permanent neighbours`,
          );
          // dynamic neighbours the probe created must resolve to the same MACs as in the reference
          for (const n of mine.neigh.filter((x) => x.lladdr !== undefined)) {
            const r = ref.neigh.find((x) => x.address === n.address && x.dev === n.dev);
            if (r && role !== 'underlay')
              assert.equal(n.lladdr, r.lladdr, `${lab.id} ${role}: neighbour ${n.address}`);
          }
          assert.deepEqual(fdbFacts(mine, role), fdbFacts(ref, role), `${lab.id} ${role}: fdb`);
          if (lab.network.routing === 'calico-bgp' && role.startsWith('node')) {
            const ctl = path.join(LAB_RUN_DIR, `${nsOf(lab, role)}.ctl`);
            const bird = parseBirdRoutes(
              (await runTool(['birdc', '-s', ctl, 'show', 'route'])).stdout,
            );
            const refBird = parseBirdRoutes(
              readFileSync(
                path.join(FIX, fixtureLab, 'state', `${role}.birdc-show-route.txt`),
                'utf8',
              ),
            );
            const facts = (rs: typeof bird): string[] =>
              rs
                .map((r) => `${r.prefix} ${r.type} ${r.protocol} ${r.via ?? ''} ${r.dev ?? ''}`)
                .sort();
            assert.deepEqual(facts(bird), facts(refBird), `${lab.id} ${role}: birdc show route`);
          }
        }
      }
      // the node sysctls of the reference (bridge-nf-call-* exists only with br_netfilter: compared when present)
      const refSysctl = readFileSync(
        path.join(FIX, 'flannel-vxlan', 'state', 'nodeA.sysctl.txt'),
        'utf8',
      );
      const wanted = [...refSysctl.matchAll(/^(\S+) = (\S+)$/gm)].map((m): [string, string] => [
        m[1] ?? '',
        m[2] ?? '',
      ]);
      for (const node of ['nodeA', 'nodeB'] as const) {
        const r = await runTool([
          'ip',
          'netns',
          'exec',
          nsOf(lab, node),
          'sysctl',
          '-e',
          ...wanted.map(([k]) => k),
        ]);
        const got = new Map(
          [...r.stdout.matchAll(/^(\S+) = (\S+)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']),
        );
        for (const [k, v] of wanted)
          if (got.has(k) || !k.startsWith('net.bridge.'))
            assert.equal(got.get(k), v, `${node} ${k}`);
      }
      if (lab.mode.startsWith('calico')) {
        for (const pod of lab.network.pods) {
          const r = await runTool([
            'ip',
            'netns',
            'exec',
            nsOf(lab, 'nodeA'),
            'sysctl',
            '-n',
            `net.ipv4.conf.${pod.hostInterface}.proxy_arp`,
          ]).catch(() => undefined);
          if (pod.node === 'nodeA')
            assert.equal(r?.stdout.trim(), '1', `${pod.hostInterface} proxy_arp`);
        }
        // proxy ARP: the pod's gateway resolves to Calico's fixed host MAC
        const n = parseIpNeigh(
          (await runTool(['ip', '-n', nsOf(lab, 'podA'), 'neigh', 'show'])).stdout,
        );
        assert.equal(n.find((x) => x.address === '169.254.1.1')?.lladdr, 'ee:ee:ee:ee:ee:ee');
      }
      const teardownStarted = Date.now();
      const td = await teardownLab(topology);
      const teardownWall = Date.now() - teardownStarted;
      torn = true;
      // the reported times are real: more than nothing, no more than the test saw pass
      t.diagnostic(`build ${topology.timings.buildMs} ms, teardown ${td.durationMs} ms`);
      assert.ok(
        topology.timings.buildMs > 0 && topology.timings.buildMs <= buildWall,
        `build ${topology.timings.buildMs} ms within the ${buildWall} ms the test measured`,
      );
      assert.ok(
        td.durationMs > 0 && td.durationMs <= teardownWall,
        `teardown ${td.durationMs} ms within the ${teardownWall} ms the test measured`,
      );
      await assertNothingLeft(`pp-${lab.network.short}-`);
    } finally {
      if (!torn) await teardownLab(topology);
    }
  });
}

for (const lab of LABS) {
  for (const fault of lab.faults) {
    test(`${lab.id} with ${fault}: the probe no longer gets through`, async (t) => {
      if (!(await ready(t, lab))) return;
      const topology = await buildLab(lab, { fault });
      try {
        assert.equal(topology.fault, fault);
        const def = FAULTS.find((f) => f.kind === fault);
        if (def?.probe) {
          // the default probe still passes; only the one the catalog names shows the fault
          assert.ok(
            (await ping(topology)).ok,
            'default-size ping should pass with an MTU mismatch',
          );
          const big = await ping(topology, [
            '-s',
            String(def.probe.payloadBytes),
            '-M',
            def.probe.dontFragment ? 'do' : 'dont',
          ]);
          assert.equal(big.ok, false, big.out);
        } else {
          const p = await ping(topology);
          assert.equal(p.ok, false, p.out);
        }
      } finally {
        await teardownLab(topology);
      }
      await assertNothingLeft(`pp-${lab.network.short}-`);
    });
  }
}

test('a fault that does not apply to a lab is refused before anything is built', async (t) => {
  if (!(await ready(t))) return;
  const lab = findLab('flannel-host-gw');
  assert.ok(lab);
  await assert.rejects(buildLab(lab, { fault: 'missing-fdb' as FaultKind }), /does not apply/);
  assert.deepEqual(
    (await ppNamespaces()).filter((n) => n.startsWith('pp-fh-')),
    [],
  );
});

test('aborting in the middle of a build removes everything and throws cancelled', async (t) => {
  const lab = findLab('flannel-vxlan');
  assert.ok(lab);
  if (!(await ready(t, lab))) return;
  const ac = new AbortController();
  await assert.rejects(
    buildLab(lab, { signal: ac.signal, onProgress: (s) => s === 'nodes' && ac.abort() }),
    (e: unknown) => e instanceof ToolError && e.kind === 'cancelled',
  );
  await assertNothingLeft('pp-fv-');
});

test('aborting while BGP converges stops the BIRD daemons too', async (t) => {
  const lab = findLab('calico-bgp');
  assert.ok(lab);
  if (!(await ready(t, lab))) return;
  const ac = new AbortController();
  let daemonsSeen = 0;
  await assert.rejects(
    buildLab(lab, {
      signal: ac.signal,
      onProgress: (s) => {
        if (s.startsWith('wait for BGP'))
          setTimeout(() => {
            daemonsSeen = labDaemonPids('pp-cb-').length;
            ac.abort();
          }, 200);
      },
    }),
    (e: unknown) => e instanceof ToolError && e.kind === 'cancelled',
  );
  assert.equal(daemonsSeen, 2, 'both BIRD daemons were running when the build was aborted');
  await assertNothingLeft('pp-cb-');
});

test('a step failing halfway removes what was built and says which step failed', async (t) => {
  const good = findLab('flannel-vxlan');
  assert.ok(good);
  if (!(await ready(t, good))) return;
  const bad: LabDefinition = structuredClone(good);
  bad.id = 'broken-lab';
  bad.network.short = 'zz';
  const podB = bad.network.pods[1];
  assert.ok(podB);
  podB.hostInterface = 'veth-name-far-too-long';
  await assert.rejects(buildLab(bad), (e: unknown) => {
    assert.ok(e instanceof LabBuildError);
    assert.equal(e.step, 'pods');
    assert.match(
      e.message,
      /Building lab broken-lab failed at "pods" \(everything it created was removed\)/,
    );
    assert.match(e.message, /veth-name-far-too-long/);
    return true;
  });
  await assertNothingLeft('pp-zz-');
});

/** Rewrites a run's record so its owner looks like `owner` (a dead or another process). */
function setRecordOwner(runId: string, owner: { pid: number; startTime: number }): void {
  const file = path.join(LAB_RUN_DIR, 'runs', `${runId}.json`);
  const record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...record, owner }));
}

/** A pid that no process has any more (a `true` that has exited and been reaped). */
async function deadPid(): Promise<number> {
  const p = startTool(['true']);
  await p.done;
  return p.pid ?? 0;
}

/** Root-namespace links with exactly these names. */
async function rootLinksNamed(names: readonly string[]): Promise<string[]> {
  return (await ppRootLinks()).filter((l) => names.includes(l));
}

test('cleanLeftovers removes a dead run and leaves a foreign pp- namespace, link and process alone', async (t) => {
  const lab = findLab('calico-bgp');
  assert.ok(lab);
  if (!(await ready(t, lab))) return;
  const tag = randomBytes(3).toString('hex');
  const foreignNs = `pp-foreign-${tag}`;
  const foreignLink = `pp-frn-${tag}`;
  const rootLink = `pp-run-${tag}`;
  let foreignSleep: ReturnType<typeof startTool> | undefined;
  try {
    // someone else's: a namespace with a process in it, and a root link, named pp-
    await runTool(['ip', 'netns', 'add', foreignNs]);
    await runTool(['ip', 'link', 'add', foreignLink, 'type', 'bridge']);
    foreignSleep = startTool(['ip', 'netns', 'exec', foreignNs, 'sleep', '60']);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(foreignSleep.pid && (await pidsIn(foreignNs)).includes(foreignSleep.pid));

    // ours: a run left behind by a process that died (BIRD daemons and a root link included)
    const topology = await buildLab(lab);
    await topology.ledger.addLinks([{ name: rootLink }]);
    await runTool(['ip', 'link', 'add', rootLink, 'type', 'bridge']);
    const daemons = labDaemonPids('pp-cb-');
    assert.equal(daemons.length, 2);
    setRecordOwner(topology.runId, { pid: await deadPid(), startTime: 1 });

    const cleaned = await cleanLeftovers();
    assert.deepEqual(cleaned.runs, [topology.runId]);
    assert.deepEqual([...cleaned.namespaces].sort(), [...topology.namespaces].sort());
    assert.deepEqual(cleaned.links, [rootLink]);
    for (const pid of daemons) assert.ok(cleaned.processes.includes(pid), `BIRD ${pid} reported`);
    assert.ok(
      cleaned.files.some((f) => f.endsWith('pp-cb-nodeA.bird.conf')),
      'BIRD files',
    );
    assert.ok(
      cleaned.leftAlone.includes(`namespace ${foreignNs}: no Podpath run recorded it`),
      cleaned.leftAlone.join('\n'),
    );
    assert.ok(cleaned.leftAlone.includes(`link ${foreignLink}: no Podpath run recorded it`));
    await assertNothingLeft('pp-cb-', [rootLink]);
    // BIRD's files are gone; the lock stays with its holder, this (live) test process
    assert.deepEqual(
      readdirSync(LAB_RUN_DIR).filter((f) => f.startsWith('pp-cb')),
      ['pp-cb.lock'],
    );
    assert.ok(!existsSync(path.join(LAB_RUN_DIR, 'runs', `${topology.runId}.json`)));
    // the foreign things are all still there, the process still running in its namespace
    assert.ok((await ppNamespaces()).includes(foreignNs));
    assert.deepEqual(await rootLinksNamed([foreignLink]), [foreignLink]);
    assert.ok((await pidsIn(foreignNs)).includes(foreignSleep.pid));
    // and a second clean-up still leaves them alone, with nothing left to remove
    const again = await cleanLeftovers();
    assert.deepEqual(again.runs, []);
    assert.ok(again.leftAlone.includes(`namespace ${foreignNs}: no Podpath run recorded it`));
  } finally {
    foreignSleep?.stop('SIGKILL');
    await foreignSleep?.done.catch(() => undefined);
    await runTool(['ip', 'netns', 'del', foreignNs]).catch(() => undefined);
    await runTool(['ip', 'link', 'del', foreignLink]).catch(() => undefined);
    await runTool(['ip', 'link', 'del', rootLink]).catch(() => undefined);
    rmSync(path.join(LAB_RUN_DIR, 'pp-cb.lock'), { force: true });
  }
});

test('a build refuses a namespace name someone else holds, and leaves it alone', async (t) => {
  const lab = findLab('flannel-host-gw');
  assert.ok(lab);
  if (!(await ready(t, lab))) return;
  const theirs = labNamespace(lab, 'podB');
  try {
    await runTool(['ip', 'netns', 'add', theirs]);
    await assert.rejects(buildLab(lab), (e: unknown) => {
      assert.ok(e instanceof LabBuildError, String(e));
      assert.match(e.message, /pp-fh-podB already exists and no Podpath run recorded it/);
      return true;
    });
    assert.deepEqual(
      (await ppNamespaces()).filter((n) => n.startsWith('pp-fh-')),
      [theirs],
    );
    assert.ok(!existsSync(path.join(LAB_RUN_DIR, 'pp-fh.lock')), 'lock released');
  } finally {
    await runTool(['ip', 'netns', 'del', theirs]).catch(() => undefined);
  }
});

test('a run whose owner was SIGKILLed mid-life is cleaned up by the next clean-up', async (t) => {
  const lab = findLab('flannel-host-gw');
  assert.ok(lab);
  if (!(await ready(t, lab))) return;
  // a real crash: another process builds the lab, says so, and is killed with SIGKILL
  const code = `require('./src/platform/netns/labBuild.ts').buildLab(require('./src/core/labs/catalog.ts').findLab('flannel-host-gw')).then((t) => { process.stdout.write('built ' + t.runId + '\\n'); setInterval(() => undefined, 1000); })`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: path.join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const runId = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /built (\S+)\n/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('close', (c) => reject(new Error(`child exited ${c} before building: ${out}`)));
  });
  try {
    // alive: another process's run is not touched
    const whileAlive = await cleanLeftovers();
    assert.ok(!whileAlive.runs.includes(runId));
    assert.ok(
      whileAlive.leftAlone.some((l) =>
        l.startsWith(`run ${runId} (flannel-host-gw) is alive (pid ${child.pid})`),
      ),
      whileAlive.leftAlone.join('\n'),
    );
    assert.equal((await ppNamespaces()).filter((n) => n.startsWith('pp-fh-')).length, 5);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const cleaned = await cleanLeftovers();
    assert.deepEqual(cleaned.runs, [runId]);
    assert.equal(cleaned.namespaces.length, 5);
    assert.ok(cleaned.files.includes(path.join(LAB_RUN_DIR, 'pp-fh.lock')), 'dead lock removed');
    await assertNothingLeft('pp-fh-');
  } finally {
    child.kill('SIGKILL');
  }
});

test('two labs at once: tearing down or cleaning one leaves the other', async (t) => {
  const a = findLab('flannel-host-gw');
  const b = findLab('flannel-vxlan');
  assert.ok(a && b);
  if (!(await ready(t, a)) || !(await ready(t, b))) return;
  const [ta, tb] = await Promise.all([buildLab(a), buildLab(b)]);
  let bDown = false;
  try {
    const cleaned = await cleanLeftovers();
    assert.ok(!cleaned.runs.includes(ta.runId) && !cleaned.runs.includes(tb.runId));
    assert.deepEqual(cleaned.namespaces, []);
    const { report } = await teardownLab(ta);
    assert.deepEqual([...report.namespaces].sort(), [...ta.namespaces].sort());
    await assertNothingLeft('pp-fh-');
    assert.deepEqual(
      (await ppNamespaces()).filter((n) => n.startsWith('pp-fv-')).sort(),
      [...tb.namespaces].sort(),
    );
    assert.ok((await ping(tb)).ok, 'the other lab still carries traffic');
    await teardownLab(tb);
    bDown = true;
    await assertNothingLeft('pp-fv-');
  } finally {
    if (!bDown) await teardownLab(tb).catch(() => undefined);
  }
});

test('a run owned by another live process is left alone until that process is gone', async (t) => {
  const lab = findLab('flannel-host-gw');
  assert.ok(lab);
  if (!(await ready(t, lab))) return;
  const holder = startTool(['sleep', '30']);
  const topology = await buildLab(lab);
  try {
    const holderStat = readFileSync(`/proc/${holder.pid}/stat`, 'utf8');
    const startTime = Number(holderStat.slice(holderStat.lastIndexOf(')') + 2).split(' ')[19]);
    setRecordOwner(topology.runId, { pid: holder.pid ?? 0, startTime });
    const first = await cleanLeftovers();
    assert.ok(!first.runs.includes(topology.runId));
    assert.ok(
      first.leftAlone.some((l) =>
        l.startsWith(`run ${topology.runId} (flannel-host-gw) is alive (pid ${holder.pid})`),
      ),
      first.leftAlone.join('\n'),
    );
    assert.equal((await ppNamespaces()).filter((n) => n.startsWith('pp-fh-')).length, 5);
    // the same pid with another start time is another process: the run's owner is gone
    setRecordOwner(topology.runId, { pid: holder.pid ?? 0, startTime: startTime + 1 });
    const second = await cleanLeftovers();
    assert.deepEqual(second.runs, [topology.runId]);
    await assertNothingLeft('pp-fh-');
  } finally {
    holder.stop('SIGKILL');
    await holder.done.catch(() => undefined);
    await teardownLab(topology).catch(() => undefined);
  }
});

/** Counts probe packets tcpdump sees at a plan hop while `traffic` runs. */
async function countAtHops(
  topology: LabTopology,
  hops: readonly PlanHop[],
  traffic: () => Promise<unknown>,
): Promise<number[]> {
  const counts = hops.map(() => 0);
  const listening = hops.map(() => {
    let ready: () => void = () => undefined;
    const p = new Promise<void>((resolve) => (ready = resolve));
    return { p, ready };
  });
  const procs = hops.map((hop, i) => {
    const target =
      hop.location.kind === 'pod'
        ? { node: hop.location.node ?? '', pod: hop.location.name }
        : { node: hop.location.name };
    return topology.shell.start(target, ['tcpdump', '-i', hop.interface, '-nn', '-l', hop.filter], {
      onStdoutLine: (line) => {
        if (/ICMP echo request|UDP|length/.test(line)) counts[i] = (counts[i] ?? 0) + 1;
      },
      onStderrLine: (line) => {
        if (line.includes('listening on')) listening[i]?.ready();
      },
    });
  });
  try {
    await Promise.race([
      Promise.all(listening.map((l) => l.p)),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('tcpdump did not start')), 5000),
      ),
    ]);
    await traffic();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    for (const p of procs) p.stop();
    await Promise.all(procs.map((p) => p.done.catch(() => undefined)));
  }
  return counts;
}

for (const lab of LABS) {
  for (const fault of lab.faults) {
    test(`${lab.id} with ${fault}: the probe is seen before ${expectedMissingHop(lab, fault)} and not there`, async (t) => {
      if (!(await ready(t, lab))) return;
      const plan = buildDatapathPlan(lab.planInput);
      const missing = expectedMissingHop(lab, fault);
      const idx = plan.hops.findIndex((h) => h.name === missing);
      const before = plan.hops[idx - 1];
      const at = plan.hops[idx];
      assert.ok(before && at, missing);
      const topology = await buildLab(lab, { fault });
      try {
        const def = FAULTS.find((f) => f.kind === fault);
        const extra = def?.probe
          ? ['-s', String(def.probe.payloadBytes), '-M', def.probe.dontFragment ? 'do' : 'dont']
          : [];
        const [seenBefore, seenAt] = await countAtHops(topology, [before, at], () =>
          ping(topology, extra),
        );
        assert.ok((seenBefore ?? 0) > 0, `probe not seen at ${before.name}`);
        assert.equal(seenAt, 0, `probe seen at ${at.name}`);
      } finally {
        await teardownLab(topology);
      }
    });
  }
}

for (const lab of LABS.filter((l) => !l.service)) {
  test(`${lab.id}: the probe is seen at every hop of the datapath plan`, async (t) => {
    if (!(await ready(t, lab))) return;
    const plan = buildDatapathPlan(lab.planInput);
    const topology = await buildLab(lab);
    try {
      const counts = await countAtHops(topology, plan.hops, () => ping(topology));
      assert.deepEqual(
        plan.hops.filter((_, i) => (counts[i] ?? 0) === 0).map((h) => h.name),
        [],
        'hops where the probe was not seen',
      );
    } finally {
      await teardownLab(topology);
    }
  });
}

test('aborting at every early step leaves nothing', async (t) => {
  const lab = findLab('flannel-host-gw');
  assert.ok(lab);
  if (!(await ready(t, lab))) return;
  for (const at of ['create namespaces', 'underlay switch', 'pods', 'inventory']) {
    const ac = new AbortController();
    await assert.rejects(
      buildLab(lab, { signal: ac.signal, onProgress: (s) => s === at && ac.abort() }),
      (e: unknown) => e instanceof ToolError && e.kind === 'cancelled',
      at,
    );
    await assertNothingLeft('pp-fh-');
    assert.ok(!existsSync(path.join(LAB_RUN_DIR, 'pp-fh.lock')), `lock left after abort at ${at}`);
  }
});

test('a build waits while another live process holds the lab, and can be cancelled meanwhile', async (t) => {
  const lab = findLab('flannel-host-gw');
  assert.ok(lab);
  if (!(await ready(t, lab))) return;
  const holder = startTool(['sleep', '30']);
  const lock = path.join(LAB_RUN_DIR, 'pp-fh.lock');
  try {
    await runTool(['ip', 'netns', 'add', 'pp-fh-nodeA']); // "theirs"
    writeFileSync(lock, `${holder.pid ?? 0}\n`);
    const ac = new AbortController();
    const steps: string[] = [];
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(
      buildLab(lab, { signal: ac.signal, onProgress: (s) => steps.push(s) }),
      (e: unknown) => e instanceof ToolError && e.kind === 'cancelled',
    );
    assert.deepEqual(steps, ['wait for the lab to be free']);
    // the other process's lab and lock are untouched
    assert.deepEqual(
      (await ppNamespaces()).filter((n) => n.startsWith('pp-fh-')),
      ['pp-fh-nodeA'],
    );
    assert.equal(readFileSync(lock, 'utf8').trim(), String(holder.pid));
  } finally {
    holder.stop('SIGKILL');
    await holder.done.catch(() => undefined);
    await runTool(['ip', 'netns', 'del', 'pp-fh-nodeA']).catch(() => undefined);
    rmSync(lock, { force: true });
  }
});
