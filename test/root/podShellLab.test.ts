// PodNodeShell on a built offline lab: the API stand-in creates the node-shell pods and maps
// their exec onto the lab's node namespaces (crictl answered by the docker stand-in's mapping).
// Through the shell: node state is read, the live plan is built, every hop of flannel-vxlan is
// captured while pod A pings pod B, and one hop's pcap is streamed back over the exec's stdout
// (`tcpdump -U -w -` into a local file). Afterwards no tcpdump is left in the lab and the pods
// are deleted. Needs root (skips otherwise); run under `flock /tmp/pp-lab.lock`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLab } from '../../src/core/labs/catalog';
import { runTool } from '../../src/platform/exec/runner';
import { buildLab, teardownLab } from '../../src/platform/netns/labBuild';
import { labAvailability } from '../../src/platform/netns/kernelProbes';
import { hopTarget } from '../../src/platform/labs/labRunner';
import { captureHops } from '../../src/platform/capture/captureSession';
import { runPingProbe } from '../../src/platform/capture/probes';
import { analyzeCaptureFiles } from '../../src/platform/capture/analyzeFiles';
import { labLivePlan } from '../support/labLivePlan';
import { createPodNodeShell } from '../../src/platform/shells/podShell';
import { ClusterClient, loadKubeConfigSet } from '../../src/platform/kube/kubeClient';
import { KubeApiStandIn, makeCertificates, standInKubeconfig } from '../support/kubeApiStandIn';
import { tcpdumpsIn } from '../support/labProcesses';

const NODE_NAMES: Record<string, string> = { nodeA: 'lab-node-a', nodeB: 'lab-node-b' };
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('flannel-vxlan through PodNodeShell: node state, every hop captured, a pcap streamed back, nothing left', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('labs need root (network namespaces, tcpdump)');
  const lab = findLab('flannel-vxlan');
  assert.ok(lab);
  const availability = await labAvailability(lab);
  if (!availability.available) return t.skip(availability.reason ?? 'lab unavailable');
  const dir = await mkdtemp(join(tmpdir(), 'pp-podshell-lab-'));
  dirs.push(dir);
  const topology = await buildLab(lab);
  const certs = await makeCertificates(join(dir));
  let standIn: KubeApiStandIn | undefined;
  try {
    const mapping = join(dir, 'mapping.json');
    await writeFile(
      mapping,
      JSON.stringify({
        cluster: 'lab',
        nodes: lab.network.nodes.map((n) => ({
          name: NODE_NAMES[n.name],
          role: 'worker',
          namespace: `pp-${lab.network.short}-${n.name}`,
          ip: n.ip,
        })),
        pods: lab.network.pods.map((p, i) => ({
          name: p.name,
          namespace: 'default',
          id: `${String(i + 1).repeat(8)}${'ab'.repeat(28)}`,
          node: NODE_NAMES[p.node],
          netns: `pp-${lab.network.short}-${p.name}`,
          ip: p.ip,
        })),
      }),
    );
    standIn = new KubeApiStandIn({
      certs,
      tokens: { tok: 'root-test' },
      pods: { kindMapping: mapping, startDelayMs: 20 },
    });
    for (const n of lab.network.nodes) {
      standIn.upsert({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: NODE_NAMES[n.name] },
        status: { addresses: [{ type: 'InternalIP', address: n.ip }] },
      });
    }
    await standIn.start();
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, standInKubeconfig(standIn, certs, { token: 'tok' }));
    const client = new ClusterClient(loadKubeConfigSet([kubeconfig]));
    const shell = createPodNodeShell({
      client,
      confirm: () => Promise.resolve(true),
      pollMs: 20,
      // The lab's pod namespaces have no process (no sandbox pid), and on this machine pid 1
      // is a supervisor whose /proc/1/root is unreadable; the lab "node" shares this
      // machine's filesystem, so the node's root is /.
      hostRoot: '',
    });
    const nodes = Object.values(NODE_NAMES);
    try {
      await shell.prepare(nodes);
      assert.equal(shell.createdPods.length, 2);

      const [podA, podB] = lab.network.pods;
      assert.ok(podA && podB);
      const nodeOf = (p: typeof podA): string => NODE_NAMES[p.node] ?? '?';
      const live = await labLivePlan(shell, lab, nodes, (n) => NODE_NAMES[n] ?? '?');
      assert.deepEqual(live.problems, []);
      const plan = live.plan;
      assert.ok(plan);
      assert.equal(plan.hops.length, 8);

      const capture = await captureHops({
        shell,
        hops: plan.hops.map((h) => ({
          name: h.name,
          target: hopTarget(h),
          interface: h.interface,
          filter: h.filter,
        })),
        outDir: dir,
        traffic: async (signal) => {
          await runPingProbe(shell, {
            from: { node: nodeOf(podA), pod: podA.name },
            to: podB.ip,
            signal,
          });
        },
      });
      const { report } = await analyzeCaptureFiles(
        capture.files.map((f) => f.pcap),
        { plan },
      );
      assert.equal(report.firstMissingHop, null);
      assert.deepEqual(
        report.hops.map((h) => h.ttl),
        [64, 64, 63, 63, 63, 63, 62, 62],
      );
      for (const h of report.hops.filter((x) => x.encapsulation)) {
        assert.equal(h.overheadBytes, 50);
        assert.deepEqual(h.encapsulation, { type: 'vxlan', vni: 1, dstPort: 8472 });
      }

      // One hop streamed back: the pcap comes over the exec's stdout into a local file.
      // The first hop the analysis saw VXLAN-encapsulated: node A's uplink.
      const underlay = plan.hops[report.hops.findIndex((h) => h.encapsulation !== null)];
      assert.ok(underlay);
      const streamed = join(dir, 'streamed.pcap');
      const lines: string[] = [];
      const proc = shell.start(
        hopTarget(underlay),
        // --immediate-mode: packets reach tcpdump at once, not in the kernel's blocks (a
        // stop right after the ping would otherwise find them "received" but not captured).
        [
          'tcpdump',
          '-i',
          underlay.interface,
          '-nn',
          '-U',
          '--immediate-mode',
          '-w',
          '-',
          underlay.filter,
        ],
        { stdoutFile: streamed, onStderrLine: (l) => lines.push(l) },
      );
      const until = Date.now() + 10_000;
      while (!lines.some((l) => l.includes('listening on')) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(
        lines.some((l) => l.includes('listening on')),
        lines.join('\n'),
      );
      await runPingProbe(shell, { from: { node: nodeOf(podA), pod: podA.name }, to: podB.ip });
      await new Promise((r) => setTimeout(r, 200));
      proc.stop('SIGINT');
      await proc.done;
      const bytes = await readFile(streamed);
      assert.equal(bytes.readUInt32LE(0), 0xa1b2c3d4, 'a pcap, little-endian magic first');
      const text = await runTool(['tcpdump', '-nn', '-r', streamed]);
      assert.match(text.stdout, /ICMP echo request/);
      assert.match(text.stdout, /VXLAN|8472/);
    } finally {
      const names = shell.createdPods;
      await shell.dispose();
      for (const p of names) {
        const [ns = '', name = ''] = p.split('/');
        assert.equal(standIn.get('v1', 'Pod', name, ns), undefined, `${p} deleted`);
      }
    }
  } finally {
    const left = await tcpdumpsIn(topology);
    if (standIn) {
      await standIn.stop();
      standIn.podApi.dispose();
    }
    await teardownLab(topology);
    assert.deepEqual(left, [], 'no tcpdump left running in the lab');
  }
});
