// A kind cluster stood in by the offline lab: the docker stand-in in
// test/support/kindStandIn maps kind node containers onto the lab's node namespaces
// and answers crictl for its pods. KindNodeShell reads both nodes' state, the live
// plan is built from it, and the capture session runs through KindNodeShell at every
// hop while pod A pings pod B: the analysis must equal `podpath lab run`'s.
// Needs root (skips with the reason otherwise); run under `flock /tmp/pp-lab.lock`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { findLab } from '../../src/core/labs/catalog';
import type { LabDefinition } from '../../src/core/labs/catalog';
import { buildLab, teardownLab } from '../../src/platform/netns/labBuild';
import { labAvailability } from '../../src/platform/netns/kernelProbes';
import type { LabTopology } from '../../src/platform/netns/labBuild';
import { hopTarget, runLab } from '../../src/platform/labs/labRunner';
import { captureHops } from '../../src/platform/capture/captureSession';
import { runPingProbe } from '../../src/platform/capture/probes';
import { analyzeCaptureFiles } from '../../src/platform/capture/analyzeFiles';
import { KindNodeShell } from '../../src/platform/shells/kindShell';
import type { AnalysisReport } from '../../src/core/hops/types';
import { tcpdumpsIn } from '../support/labProcesses';
import { labLivePlan } from '../support/labLivePlan';
import { kindNodeName, kindStandInMapping } from '../support/labClusterObjects';

const STAND_IN = join(__dirname, '..', 'support', 'kindStandIn');
const CLUSTER = 'podpath-lab';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function whyNot(lab: LabDefinition): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'labs need root (network namespaces, tcpdump)';
  const a = await labAvailability(lab);
  return a.available ? undefined : (a.reason ?? 'lab unavailable');
}

/** Writes the stand-in's mapping for a built lab and puts the stand-in first on PATH. */
async function standInFor(topology: LabTopology, dir: string): Promise<void> {
  const mapping = kindStandInMapping(topology.lab, CLUSTER);
  const file = join(dir, 'kind-standin.json');
  await writeFile(file, JSON.stringify(mapping, null, 2));
  process.env.PODPATH_KIND_STANDIN = file;
  if (!(process.env.PATH ?? '').startsWith(STAND_IN)) {
    process.env.PATH = `${STAND_IN}${delimiter}${process.env.PATH ?? ''}`;
  }
}

interface Comparable {
  name: string;
  seen: boolean;
  ttl: number | null;
  innerLength: number | null;
  overheadBytes: number | null;
  encapsulation: AnalysisReport['hops'][number]['encapsulation'];
}

/** The per-hop facts both runs must agree on; hop names lose the node part (kind names differ). */
function comparable(report: AnalysisReport): Comparable[] {
  return report.hops.map((h) => ({
    name: h.name.replace(/^(\d\d)-.*-([^-]+)$/, '$1-$2'),
    seen: h.seen,
    ttl: h.ttl,
    innerLength: h.innerLength,
    overheadBytes: h.overheadBytes,
    encapsulation: h.encapsulation,
  }));
}

async function kindTrace(labId: string, options: { cancel?: boolean } = {}) {
  const lab = findLab(labId);
  assert.ok(lab);
  const dir = await mkdtemp(join(tmpdir(), 'pp-kindtrace-'));
  dirs.push(dir);
  const topology = await buildLab(lab);
  try {
    await standInFor(topology, dir);
    const shell = new KindNodeShell({ cluster: CLUSTER, provider: 'docker' });
    const nodes = await shell.listNodes();
    assert.deepEqual(nodes, [
      { name: `${CLUSTER}-worker`, role: 'worker' },
      { name: `${CLUSTER}-worker2`, role: 'worker' },
    ]);
    const live = await labLivePlan(
      shell,
      lab,
      nodes.map((n) => n.name),
      kindNodeName,
    );
    const [podA, podB] = lab.network.pods;
    assert.ok(podA && podB);
    const nodeOf = (p: typeof podA): string => kindNodeName(p.node);
    assert.deepEqual(live.problems, []);
    const plan = live.plan;
    assert.ok(plan);
    const controller = new AbortController();
    const hops = plan.hops.map((h) => ({
      name: h.name,
      target: hopTarget(h),
      interface: h.interface,
      filter: h.filter,
    }));
    const capturing = captureHops({
      shell,
      hops,
      outDir: dir,
      signal: controller.signal,
      traffic: async (signal) => {
        if (options.cancel) {
          controller.abort(new Error('cancelled by the test'));
          return;
        }
        await runPingProbe(shell, {
          from: { node: nodeOf(podA), pod: podA.name },
          to: podB.ip,
          signal,
        });
      },
    });
    if (options.cancel) {
      await assert.rejects(capturing);
      return { plan, report: undefined, topology, lab };
    }
    const capture = await capturing;
    const { report } = await analyzeCaptureFiles(
      capture.files.map((f) => f.pcap),
      { plan },
    );
    for (const f of capture.files) assert.ok((await stat(f.pcap)).size > 24, f.pcap);
    return { plan, report, topology, lab };
  } finally {
    // Whatever the test found, nothing it started may outlive it.
    const left = await tcpdumpsIn(topology);
    await teardownLab(topology);
    assert.deepEqual(left, [], 'no tcpdump left running in the lab');
  }
}

for (const [labId, hopCount] of [
  ['flannel-vxlan', 8],
  ['calico-bgp', 6],
] as const) {
  test(`${labId} as a kind cluster: the trace through KindNodeShell equals podpath lab run`, async (t) => {
    const lab = findLab(labId);
    assert.ok(lab);
    const why = await whyNot(lab);
    if (why) return t.skip(why);
    const out = await mkdtemp(join(tmpdir(), 'pp-kindtrace-lab-'));
    dirs.push(out);
    const reference = await runLab(labId, { outDir: out });
    const trace = await kindTrace(labId);
    assert.ok(trace.report);
    assert.equal(trace.report.hops.length, hopCount);
    assert.equal(trace.report.firstMissingHop, null);
    assert.deepEqual(comparable(trace.report), comparable(reference.report));
    // The plan carries the real names the state gave, and the kind node names.
    assert.deepEqual(
      trace.plan.hops.map((h) => h.interface),
      reference.plan.hops.map((h) => h.interface),
    );
    assert.ok(trace.plan.hops.some((h) => h.location.name === `${CLUSTER}-worker2`));
    if (labId === 'flannel-vxlan') {
      assert.deepEqual(
        trace.report.hops.map((h) => h.ttl),
        [64, 64, 63, 63, 63, 63, 62, 62],
      );
      for (const h of trace.report.hops.filter((x) => x.encapsulation)) {
        assert.equal(h.overheadBytes, 50);
        assert.deepEqual(h.encapsulation, { type: 'vxlan', vni: 1, dstPort: 8472 });
      }
    }
  });
}

test('a cancelled trace through KindNodeShell leaves no tcpdump in the lab', async (t) => {
  const lab = findLab('flannel-vxlan');
  assert.ok(lab);
  const why = await whyNot(lab);
  if (why) return t.skip(why);
  // kindTrace's finally asserts that no tcpdump is left in any of the lab's namespaces.
  const trace = await kindTrace('flannel-vxlan', { cancel: true });
  assert.equal(trace.report, undefined);
});
