// `podpath trace` against an offline lab dressed as a kind cluster: the API stand-in serves
// the lab's Nodes (kind names and providerIDs), Pods and CNI objects
// (test/support/labClusterObjects.ts), the docker stand-in maps the kind node containers
// onto the lab's namespaces. The trace must give the same analysis as `podpath lab run`
// for flannel-vxlan, flannel-host-gw, calico-bgp and calico-vxlan; flannel-vxlan runs
// through the built CLI (`node dist/cli.js trace … --json`), the others through tracePods.
// calico-bgp's TCP port probe runs curl inside pod A; flannel-host-gw's UDP one from the node.
// A fault's plan problem stops the trace before any capture, and, captured anyway, the
// trace names the same hop as the lab run; a cancelled trace leaves no tcpdump. The probe runs
// inside pod A through the API's exec when pod A's image has ping (the stand-in runs it in pod
// A's lab netns), and from pod A's netns on its node when the image is distroless.
// Needs root (skips with the reason otherwise); run under `flock /tmp/pp-lab.lock`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { findLab } from '../../src/core/labs/catalog';
import type { FaultKind, LabDefinition } from '../../src/core/labs/catalog';
import type { AnalysisReport } from '../../src/core/hops/types';
import { runTool, startTool } from '../../src/platform/exec/runner';
import { buildLab, teardownLab } from '../../src/platform/netns/labBuild';
import type { LabTopology } from '../../src/platform/netns/labBuild';
import { labAvailability } from '../../src/platform/netns/kernelProbes';
import { runLab } from '../../src/platform/labs/labRunner';
import { TraceError, tracePods } from '../../src/platform/trace/podTrace';
import type { TraceResult, TraceTimings } from '../../src/platform/trace/podTrace';
import { KubeApiStandIn, makeCertificates, standInKubeconfig } from '../support/kubeApiStandIn';
import type { Certificates } from '../support/kubeApiStandIn';
import { LAB_CLUSTER, kindStandInMapping, labClusterObjects } from '../support/labClusterObjects';
import { tcpdumpsIn } from '../support/labProcesses';

const ROOT = join(__dirname, '..', '..');
const STAND_IN = join(__dirname, '..', 'support', 'kindStandIn');
const CLI = join(ROOT, 'dist', 'cli.js');

let certs: Certificates | undefined;
let work = '';
const timings: Record<string, TraceTimings> = {};

async function whyNot(lab: LabDefinition): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'labs need root (network namespaces, tcpdump)';
  const a = await labAvailability(lab);
  return a.available ? undefined : (a.reason ?? 'lab unavailable');
}

before(async () => {
  if (process.getuid?.() !== 0) return;
  work = await mkdtemp(join(tmpdir(), 'pp-podtrace-'));
  certs = await makeCertificates();
  if (!(process.env.PATH ?? '').startsWith(STAND_IN)) {
    process.env.PATH = `${STAND_IN}${delimiter}${process.env.PATH ?? ''}`;
  }
  // Always rebuilt: a stale dist/cli.js would test yesterday's code.
  await runTool(['node', 'esbuild.mjs', 'cli'], { cwd: ROOT, timeoutMs: 120_000 });
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  if (Object.keys(timings).length > 0) {
    // The figures the closing note quotes.
    console.log(`# trace timings (ms): ${JSON.stringify(timings)}`);
  }
});

interface Cluster {
  lab: LabDefinition;
  topology: LabTopology;
  standIn: KubeApiStandIn;
  kubeconfig: string;
  dir: string;
}

/** Builds `labId` (with `fault`), serves it as a kind cluster, runs `body`, tears it all down. */
async function withCluster<T>(
  labId: string,
  fault: FaultKind | undefined,
  body: (c: Cluster) => Promise<T>,
  options: { notKind?: boolean } = {},
): Promise<T> {
  const lab = findLab(labId);
  assert.ok(lab && certs);
  const dir = await mkdtemp(join(work, `${labId}-`));
  const topology = await buildLab(lab, fault ? { fault } : {});
  const mapping = join(dir, 'kind-standin.json');
  await writeFile(mapping, JSON.stringify(kindStandInMapping(lab), null, 2));
  // notKind: the nodes carry a cloud providerID, so the trace must reach them through
  // node-shell pods, which the stand-in creates and whose exec it maps onto the lab.
  // The exec endpoint maps the lab's pods (the probe inside pod A) and, for notKind, the
  // node-shell pods' nodes onto the lab.
  const standIn = new KubeApiStandIn({
    certs,
    tokens: { 'tok-trace': 'tracer' },
    pods: { kindMapping: mapping, ...(options.notKind ? { startDelayMs: 20 } : {}) },
  });
  try {
    for (const o of labClusterObjects(lab)) {
      if (options.notKind && o['kind'] === 'Node') {
        const meta = o['metadata'] as { name: string };
        (o['spec'] as Record<string, unknown>)['providerID'] =
          `gce://podpath-test/europe-west1-b/${meta.name}`;
      }
      standIn.upsert(o);
    }
    await standIn.start();
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      standInKubeconfig(standIn, certs, { token: 'tok-trace', context: `kind-${LAB_CLUSTER}` }),
    );
    process.env.PODPATH_KIND_STANDIN = mapping;
    return await body({ lab, topology, standIn, kubeconfig, dir });
  } finally {
    await standIn.stop();
    standIn.podApi.dispose();
    const left = await tcpdumpsIn(topology);
    await teardownLab(topology);
    assert.deepEqual(left, [], 'no tcpdump left running in the lab');
  }
}

/** The per-hop facts both runs must agree on; hop names lose the node part (kind names differ). */
function comparable(report: AnalysisReport) {
  return report.hops.map((h) => ({
    name: h.name.replace(/^(\d\d)-.*-([^-]+)$/, '$1-$2'),
    seen: h.seen,
    ttl: h.ttl,
    innerLength: h.innerLength,
    overheadBytes: h.overheadBytes,
    encapsulation: h.encapsulation,
  }));
}

/** Dresses pod A's (only) container in `image`: what decides whether it has ping. */
function setPodAImage(c: Cluster, image: string): void {
  const podA = c.standIn.stored('v1', 'Pod').find((p) => {
    const meta = p['metadata'] as { name?: string; namespace?: string };
    return meta.namespace === 'default' && meta.name === 'podA';
  });
  assert.ok(podA);
  const o = structuredClone(podA);
  const spec = o['spec'] as { containers: Record<string, unknown>[] };
  assert.equal(spec.containers.length, 1);
  spec.containers = [{ ...spec.containers[0], image }];
  c.standIn.upsert(o);
}

async function referenceRun(labId: string, fault?: FaultKind) {
  const out = await mkdtemp(join(work, `lab-${labId}-`));
  return runLab(labId, { outDir: out, ...(fault ? { fault } : {}) });
}

function trace(c: Cluster, extra: Partial<Parameters<typeof tracePods>[0]> = {}) {
  return tracePods({
    kubeconfig: c.kubeconfig,
    podA: 'default/podA',
    podB: 'default/podB',
    outDir: join(c.dir, 'trace'),
    ...extra,
  });
}

const EXPECT: Record<string, { hops: number; vxlan?: { vni: number; dstPort: number } }> = {
  'flannel-vxlan': { hops: 8, vxlan: { vni: 1, dstPort: 8472 } },
  'flannel-host-gw': { hops: 6 },
  'calico-bgp': { hops: 6 },
  'calico-vxlan': { hops: 8, vxlan: { vni: 4096, dstPort: 4789 } },
};

const PORT_PROBES: Record<string, { protocol: 'tcp' | 'udp'; port: number }> = {
  'flannel-host-gw': { protocol: 'udp', port: 53 },
  'calico-bgp': { protocol: 'tcp', port: 80 },
};

function checkAgainstReference(
  labId: string,
  report: AnalysisReport,
  reference: AnalysisReport,
): void {
  const expect = EXPECT[labId];
  assert.ok(expect);
  assert.equal(report.hops.length, expect.hops);
  assert.equal(report.firstMissingHop, null);
  assert.ok(report.hops.every((h) => h.seen));
  assert.deepEqual(comparable(report), comparable(reference));
  const ttls = report.hops.map((h) => h.ttl);
  assert.equal(ttls[0], 64);
  assert.equal(ttls.at(-1), 62);
  assert.ok(ttls.includes(63));
  const encapsulated = report.hops.filter((h) => h.encapsulation);
  if (expect.vxlan) {
    assert.ok(encapsulated.length > 0);
    for (const h of encapsulated) {
      assert.equal(h.overheadBytes, 50);
      assert.deepEqual(h.encapsulation, { type: 'vxlan', ...expect.vxlan });
    }
  } else {
    assert.equal(encapsulated.length, 0);
  }
}

test('flannel-vxlan: `node dist/cli.js trace --json` equals podpath lab run; a cancelled trace leaves no tcpdump', async (t) => {
  const lab = findLab('flannel-vxlan');
  assert.ok(lab);
  const why = await whyNot(lab);
  if (why) return t.skip(why);
  const reference = await referenceRun('flannel-vxlan');
  await withCluster('flannel-vxlan', undefined, async (c) => {
    // A distroless image has no ping: the probe runs from pod A's netns on its node.
    setPodAImage(c, 'gcr.io/distroless/static-debian12:nonroot');
    const out = join(c.dir, 'cli-trace');
    const r = await runTool(
      [
        'node',
        CLI,
        'trace',
        '--kubeconfig',
        c.kubeconfig,
        'default/podA',
        'default/podB',
        '--out',
        out,
        '--json',
      ],
      { okExitCodes: [0, 1, 2], timeoutMs: 120_000 },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const j = JSON.parse(r.stdout) as AnalysisReport & {
      cluster: TraceResult['cluster'];
      context: string;
      mode: string;
      plan: TraceResult['plan'];
      timings: TraceTimings;
      files: TraceResult['files'];
      probe: TraceResult['probe'];
    };
    assert.equal(j.mode, 'flannel-vxlan');
    assert.equal(j.probe?.ranIn, 'node-netns');
    assert.equal(j.probe?.ranIn === 'node-netns' && j.probe.fallback.reason, 'tool-missing');
    assert.equal(
      j.probe?.where,
      `default/podA's image has no ping: probed from its network namespace on node ${LAB_CLUSTER}-worker`,
    );
    assert.deepEqual([j.probe?.sent, j.probe?.received], [3, 3]);
    assert.equal(c.standIn.podApi.podExecs.length, 0, 'nothing ran inside pod A');
    assert.equal(j.context, `kind-${LAB_CLUSTER}`);
    assert.deepEqual(j.cluster.kind, { name: LAB_CLUSTER, provider: 'docker' });
    checkAgainstReference('flannel-vxlan', j, reference.report);
    // The plan names the real interfaces (the reference's), the kind nodes and the pods.
    assert.deepEqual(
      j.plan.hops.map((h) => h.interface),
      reference.plan.hops.map((h) => h.interface),
    );
    assert.deepEqual(
      [...new Set(j.plan.hops.map((h) => h.node))],
      [`${LAB_CLUSTER}-worker`, `${LAB_CLUSTER}-worker2`],
    );
    assert.equal(j.plan.hops[0]?.pod, 'default/podA');
    assert.ok(j.plan.hops.every((h) => h.filter !== ''));
    // Every pcap streamed back over docker exec is a whole capture file, with its text.
    assert.equal(j.files.length, 8);
    for (const f of j.files) {
      assert.ok(f.bytes > 24 && f.packets >= 3, `${f.hop}: ${f.bytes} B, ${f.packets} packets`);
      assert.ok(existsSync(f.text));
    }
    timings['flannel-vxlan'] = j.timings;
    t.diagnostic(`flannel-vxlan timings: ${JSON.stringify(j.timings)}`);

    // An image with ping: the probe runs inside pod A, through the API's exec, in pod A's netns.
    setPodAImage(c, 'nicolaka/netshoot:v0.13');
    const steps: string[] = [];
    const inPod = await trace(c, {
      outDir: join(c.dir, 'in-pod'),
      onProgress: (step, message) => steps.push(`${step}: ${message}`),
    });
    assert.equal(inPod.probe?.ranIn, 'pod');
    assert.equal(inPod.probe?.ranIn === 'pod' && inPod.probe.container, 'coredns');
    assert.deepEqual([inPod.probe?.sent, inPod.probe?.received], [3, 3]);
    const podANetns = (
      kindStandInMapping(c.lab) as { pods: { name: string; netns: string }[] }
    ).pods.find((p) => p.name === 'podA')?.netns;
    assert.ok(podANetns && c.topology.namespaces.includes(podANetns));
    const pings = c.standIn.podApi.podExecs.filter((e) => e.argv[0] === 'ping');
    assert.deepEqual(
      pings.map((e) => [e.pod, e.container, e.netns, e.argv.at(-1)]),
      [
        [
          'default/podA',
          'coredns',
          podANetns,
          c.lab.network.pods.find((p) => p.name === 'podB')?.ip,
        ],
      ],
    );
    assert.ok(
      steps.some((s) =>
        /^probe: 3 packets transmitted, 3 received.* — probed from inside default\/podA \(container coredns\)$/.test(
          s,
        ),
      ),
      steps.join('\n'),
    );
    checkAgainstReference('flannel-vxlan', inPod.report, reference.report);
    timings['flannel-vxlan (probe in pod A)'] = inPod.timings;
    t.diagnostic(`flannel-vxlan, probe in pod A, timings: ${JSON.stringify(inPod.timings)}`);

    // Ctrl-C on the CLI once every capture listens: exit 130, nothing left behind.
    let interrupted = false;
    const cli = startTool(
      [
        'node',
        CLI,
        'trace',
        '--kubeconfig',
        c.kubeconfig,
        'default/podA',
        'default/podB',
        '--out',
        join(c.dir, 'interrupted'),
      ],
      {
        okExitCodes: [130],
        onStdoutLine: (line) => {
          if (!interrupted && /captures listening/.test(line)) {
            interrupted = true;
            cli.stop('SIGINT');
          }
        },
      },
    );
    const stopped = await cli.done.catch((e: unknown) => e);
    assert.ok(interrupted, 'the captures started');
    assert.equal((stopped as { exitCode?: number }).exitCode, 130, String(stopped));
    assert.deepEqual(await tcpdumpsIn(c.topology), []);

    // Cancelled once the probe starts: every capture stops (withCluster checks no
    // tcpdump is left in any of the lab's namespaces).
    const controller = new AbortController();
    await assert.rejects(
      trace(c, {
        outDir: join(c.dir, 'cancelled'),
        signal: controller.signal,
        onProgress: (step) => {
          if (step === 'probe') controller.abort(new Error('cancelled by the test'));
        },
      }),
      /cancelled by the test/,
    );
  });
});

for (const labId of ['flannel-host-gw', 'calico-bgp', 'calico-vxlan'] as const) {
  test(`${labId}: tracePods equals podpath lab run`, async (t) => {
    const lab = findLab(labId);
    assert.ok(lab);
    const why = await whyNot(lab);
    if (why) return t.skip(why);
    const reference = await referenceRun(labId);
    await withCluster(labId, undefined, async (c) => {
      const steps: string[] = [];
      const result = await trace(c, { onProgress: (s) => steps.push(s) });
      assert.equal(result.mode, labId);
      checkAgainstReference(labId, result.report, reference.report);
      assert.deepEqual(
        result.plan.hops.map((h) => h.interface),
        reference.plan.hops.map((h) => h.interface),
      );
      assert.deepEqual(result.plan.problems, []);
      assert.ok(steps.indexOf('plan') < steps.indexOf('capture'));
      timings[labId] = result.timings;
      t.diagnostic(`${labId} timings: ${JSON.stringify(result.timings)}`);

      // A port probe: curl from pod A's namespace. Nothing listens on pod B, so TCP gets a
      // reset and UDP an ICMP error, but the probe crossed every hop either way.
      // calico-bgp's TCP probe runs curl inside pod A (its image has curl); flannel-host-gw's
      // pod A image (coredns, on distroless) has none, so its UDP probe runs from the node.
      const probe = PORT_PROBES[labId];
      if (probe) {
        const inPod = labId === 'calico-bgp';
        if (inPod) setPodAImage(c, 'nicolaka/netshoot:v0.13');
        const byPort = await trace(c, { outDir: join(c.dir, 'port'), probe });
        assert.equal(byPort.probe?.kind, probe.protocol);
        assert.equal(byPort.probe?.ranIn, inPod ? 'pod' : 'node-netns', byPort.probe?.where);
        assert.deepEqual(
          c.standIn.podApi.podExecs.map((e) => e.argv[0]),
          inPod ? ['curl'] : [],
        );
        // Neither lab encapsulates: every hop's filter is the probe's (and ICMP errors about it).
        for (const h of byPort.plan.hops) {
          assert.ok(h.filter.startsWith(`(${probe.protocol} port ${probe.port} and`), h.filter);
        }
        assert.equal(byPort.report.firstMissingHop, null);
        assert.ok(
          byPort.report.hops.every((h) => h.seen),
          JSON.stringify(byPort.report.hops),
        );
        assert.equal(byPort.report.hops.length, EXPECT[labId]?.hops);
      }
    });
  });
}

test('flannel-vxlan with a missing route: the plan problem stops the trace before any capture; captured anyway, it names the lab run’s hop', async (t) => {
  const lab = findLab('flannel-vxlan');
  assert.ok(lab);
  const why = await whyNot(lab);
  if (why) return t.skip(why);
  const reference = await referenceRun('flannel-vxlan', 'missing-route');
  assert.ok(reference.report.firstMissingHop);
  await withCluster('flannel-vxlan', 'missing-route', async (c) => {
    // A kind node without tcpdump (as kind's images come): said, with the fix, before anything.
    const mapping = kindStandInMapping(c.lab) as { nodes: Record<string, unknown>[] };
    const worker2 = mapping.nodes[1];
    assert.ok(worker2);
    worker2['missingTools'] = ['tcpdump'];
    const mappingFile = process.env.PODPATH_KIND_STANDIN ?? '';
    await writeFile(mappingFile, JSON.stringify(mapping));
    await assert.rejects(
      trace(c, { outDir: join(c.dir, 'no-tcpdump') }),
      (e: unknown) =>
        e instanceof TraceError &&
        e.step === 'state' &&
        /tcpdump is not installed on kind node podpath-lab-worker2; install it with .*apt-get install -y tcpdump/.test(
          e.message,
        ),
    );
    await writeFile(mappingFile, JSON.stringify(kindStandInMapping(c.lab)));

    const outDir = join(c.dir, 'refused');
    const steps: string[] = [];
    const err = await trace(c, { outDir, onProgress: (s) => steps.push(s) }).then(
      () => assert.fail('the trace went on despite the plan problem'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TraceError, String(err));
    assert.equal(err.step, 'plan');
    assert.ok(err.problems.length > 0);
    assert.match(err.problems.join(' '), /route/);
    assert.ok(!steps.includes('capture'));
    const files = existsSync(outDir) ? await readdir(outDir) : [];
    assert.deepEqual(files, [], 'nothing captured');

    // The CLI says the same, in one sentence, exit 1.
    const r = await runTool(
      ['node', CLI, 'trace', '--kubeconfig', c.kubeconfig, 'default/podA', 'default/podB'],
      { okExitCodes: [0, 1, 2], timeoutMs: 60_000, cwd: c.dir },
    );
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /contradicts flannel-vxlan, so nothing was captured/);

    const forced = await trace(c, {
      outDir: join(c.dir, 'forced'),
      captureDespiteProblems: true,
    });
    assert.deepEqual(forced.plan.problems, err.problems);
    const name = (h: string | null) => h?.replace(/^(\d\d)-.*-([^-]+)$/, '$1-$2') ?? null;
    assert.equal(name(forced.report.firstMissingHop), name(reference.report.firstMissingHop));
  });
});

test('a cluster that cannot be reached: exit 2 and one line', async (t) => {
  if (process.getuid?.() !== 0 || !certs) return t.skip('runs with the root suite');
  const dir = await mkdtemp(join(work, 'unreachable-'));
  const kubeconfig = join(dir, 'kubeconfig');
  // A port nothing listens on.
  await writeFile(
    kubeconfig,
    standInKubeconfig({ url: 'https://127.0.0.1:9' }, certs, { token: 'x', context: 'gone' }),
  );
  const r = await runTool(
    ['node', CLI, 'trace', '--kubeconfig', kubeconfig, 'default/podA', 'default/podB'],
    { okExitCodes: [0, 1, 2], timeoutMs: 30_000 },
  );
  assert.equal(r.exitCode, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('calico-vxlan on nodes that are not kind containers: node-shell pods after consent, the same analysis as podpath lab run, no pod left; without consent nothing is created', async (t) => {
  const lab = findLab('calico-vxlan');
  assert.ok(lab);
  const why = await whyNot(lab);
  if (why) return t.skip(why);
  const reference = await referenceRun('calico-vxlan');
  await withCluster(
    'calico-vxlan',
    undefined,
    async (c) => {
      // The CLI without --node-shell-pods: the person has not agreed, nothing is created.
      const refused = await runTool(
        ['node', CLI, 'trace', '--kubeconfig', c.kubeconfig, 'default/podA', 'default/podB'],
        { okExitCodes: [0, 1, 2], timeoutMs: 60_000 },
      );
      assert.notEqual(refused.exitCode, 0);
      assert.match(refused.stderr, /Create 2 privileged pods in namespace default/);
      assert.match(refused.stderr, /--node-shell-pods/);
      assert.deepEqual(c.standIn.stored('v1', 'Pod').filter(isNodeShellPod), []);

      const asked: string[][] = [];
      const result = await trace(c, {
        nodeShellPods: {
          confirm: (request) => {
            asked.push([...request.nodes]);
            return Promise.resolve(true);
          },
          // The lab's pods have no sandbox process and this machine's /proc/1/root is not
          // readable; the lab "node" shares this machine's filesystem, so its root is /.
          hostRoot: '',
        },
      });
      assert.deepEqual(asked, [[`${LAB_CLUSTER}-worker`, `${LAB_CLUSTER}-worker2`]]);
      assert.equal(result.cluster.kind, null);
      checkAgainstReference('calico-vxlan', result.report, reference.report);
      timings['calico-vxlan (node-shell pods)'] = result.timings;
      // The trace deleted its pods when it ended.
      assert.deepEqual(c.standIn.stored('v1', 'Pod').filter(isNodeShellPod), []);
    },
    { notKind: true },
  );
});

function isNodeShellPod(o: Record<string, unknown>): boolean {
  const labels = (o['metadata'] as { labels?: Record<string, string> } | undefined)?.labels ?? {};
  return labels['app.kubernetes.io/managed-by'] === 'podpath';
}
