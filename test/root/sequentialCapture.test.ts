// Captures taken one after another, the way the walkthroughs do it (seed 000 §3.3.2): a
// continuous ping runs in pod A of the offline Flannel VXLAN lab while each hop is captured
// in turn, a few packets each, with different tcpdump flags, and the text is kept as a
// person would paste it. No packet is in two captures; every hop holds the flow.
// Needs root (network namespaces, tcpdump); run under `flock /tmp/pp-lab.lock`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findLab } from '../../src/core/labs/catalog';
import { buildDatapathPlan } from '../../src/core/datapath/plans';
import { runTool } from '../../src/platform/exec/runner';
import { buildLab, teardownLab } from '../../src/platform/netns/labBuild';
import { labAvailability } from '../../src/platform/netns/kernelProbes';
import { hopTarget } from '../../src/platform/labs/labRunner';
import { analyzeCaptureFiles } from '../../src/platform/capture/analyzeFiles';

async function whyNot(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'labs need root (network namespaces, tcpdump)';
  try {
    await runTool(['ip', 'netns', 'list']);
  } catch (err) {
    return `ip netns is not usable here: ${(err as Error).message}`;
  }
  const lab = findLab('flannel-vxlan');
  if (!lab) return 'no flannel-vxlan lab in the catalogue';
  const a = await labAvailability(lab);
  return a.available ? undefined : (a.reason ?? 'lab unavailable');
}

/** tcpdump flags per hop, as different as the walkthroughs' (text only, no -w). */
const FLAGS: ((iface: string) => string[])[] = [
  (i) => ['-i', i, '-nn'],
  (i) => ['-i', i, '-nn', '-v'],
  (i) => ['-nei', i],
  (i) => ['-i', i, '-nn', '-v'],
  (i) => ['-nei', i],
  (i) => ['-i', i, '-nn', '-vv'],
  (i) => ['-i', i, '-nn', '-e'],
  (i) => ['-i', i, '-nn'],
];

test('a continuous ping captured one hop at a time: every hop seen by flow', async (t) => {
  const why = await whyNot();
  if (why) {
    t.skip(why);
    return;
  }
  const lab = findLab('flannel-vxlan')!;
  const out = await mkdtemp(join(tmpdir(), 'pp-seq-'));
  const topology = await buildLab(lab);
  try {
    const plan = buildDatapathPlan({ ...topology.planInput, probe: { protocol: 'icmp' } });
    const source = { node: plan.source.node, pod: plan.source.name };
    const ping = topology.shell.start(source, ['ping', '-n', '-i', '0.2', plan.destination.ip]);
    const files: string[] = [];
    try {
      await sleep(500);
      for (const [i, hop] of plan.hops.entries()) {
        // tcpdump prints what a person would paste: its banner on stderr, packets on stdout.
        const argv = [
          'tcpdump',
          ...FLAGS[i]!(hop.interface),
          '-l',
          '-c',
          '4',
          ...hop.filter.split(' '),
        ];
        const r = await topology.shell.run(hopTarget(hop), argv, { timeoutMs: 15_000 });
        const path = join(out, `${hop.name}.txt`);
        await writeFile(path, `# ${argv.join(' ')}\n${r.stderr}${r.stdout}`);
        files.push(path);
        // Minutes apart in the walkthrough; a second is enough for the seqs not to meet.
        await sleep(1000);
      }
    } finally {
      ping.stop('SIGINT');
      await ping.done.catch(() => undefined);
    }

    const { report } = await analyzeCaptureFiles(files, { plan });
    const summary = JSON.stringify(
      report.hops.map((h) => [h.name, h.packets, h.match, h.ttl, h.innerLength, h.outerLength]),
    );
    assert.equal(report.firstMissingHop, null, summary);
    assert.equal(report.matchedBy, 'flow', summary);
    assert.equal(report.hops[0]!.match, 'packet');
    assert.ok(
      report.hops.slice(1).every((h) => h.seen && h.match === 'flow'),
      summary,
    );
    // The -v hops report the TTL of the flow's packets there (64 before the first router).
    assert.equal(report.hops[1]!.ttl, 64, summary);
    assert.equal(report.hops[3]!.ttl, 63, summary);
    // VXLAN on the underlay: +50 bytes, from -v lengths at hop 4 and -e frames at hop 5.
    assert.equal(report.hops[3]!.overheadBytes, 50, summary);
    assert.equal(report.hops[3]!.lengthsDerived, false);
    assert.equal(report.hops[4]!.overheadBytes, 50, summary);
    assert.equal(report.hops[4]!.lengthsDerived, true);
    assert.deepEqual(report.hops[3]!.encapsulation?.type, 'vxlan');
    assert.match(report.findings.join('\n'), /the sequence numbers do not overlap/);
  } finally {
    await teardownLab(topology);
    await rm(out, { recursive: true, force: true });
  }
});
