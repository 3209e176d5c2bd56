/**
 * A real `podpath trace` on a real kind cluster: a two-worker Flannel VXLAN lab cluster made
 * with `podpath lab create` (pods podpath-lab/pod-a and pod-b on the two workers), or the
 * cluster PODPATH_KIND_CLUSTER names (context `kind-<name>`; pods from PODPATH_KIND_PODS,
 * `NS/A,NS/B`, default the lab's). tcpdump is installed in the kind nodes first, as the
 * walkthroughs do. Every hop must see the probe, the pcaps come back over `docker exec`'s
 * stdout, and no tcpdump may be left on the nodes afterwards.
 *
 * Runs where `docker info` and `kind version` work (`npm run test:kind`); skips elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KIND_LAB_MODES } from '../../src/core/kindlab/modes';
import { PROBE_NAMESPACE } from '../../src/core/kindlab/probeManifests';
import { runTool } from '../../src/platform/exec/runner';
import { deleteKindLab, prepareKindLab, runKindLab } from '../../src/platform/kindlab/kindLab';
import { tracePods } from '../../src/platform/trace/podTrace';

async function works(argv: string[]): Promise<boolean> {
  return runTool(argv, { timeoutMs: 20_000 }).then(
    () => true,
    () => false,
  );
}

async function kindNodes(cluster: string): Promise<string[]> {
  const r = await runTool(['kind', 'get', 'nodes', '--name', cluster], { timeoutMs: 30_000 });
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

/** kind node images ship no tcpdump: install it the walkthroughs' way where it is missing. */
async function installTcpdump(node: string): Promise<void> {
  const has = await runTool(['docker', 'exec', node, 'which', 'tcpdump'], { okExitCodes: [0, 1] });
  if (has.exitCode === 0) return;
  await runTool(['docker', 'exec', node, 'apt-get', 'update'], { timeoutMs: 300_000 });
  await runTool(['docker', 'exec', node, 'apt-get', 'install', '-y', 'tcpdump'], {
    timeoutMs: 300_000,
  });
}

test(
  'real kind cluster: podpath trace sees the probe at every hop',
  { timeout: 30 * 60_000 },
  async (t) => {
    if (!(await works(['docker', 'info'])))
      return t.skip('needs a Docker engine (`docker info` fails here)');
    if (!(await works(['kind', 'version'])))
      return t.skip('needs kind on PATH (`kind version` fails here)');
    const given = process.env['PODPATH_KIND_CLUSTER'];
    const cluster = given ?? 'pp-t-trace';
    const out = await mkdtemp(join(tmpdir(), 'pp-kind-trace-'));
    try {
      let context = `kind-${cluster}`;
      if (!given) {
        const mode = KIND_LAB_MODES.find((m) => m.mode === 'flannel-vxlan');
        assert.ok(mode);
        const prepared = await prepareKindLab({
          name: cluster,
          mode,
          kubeProxyMode: 'iptables',
          outDir: out,
        });
        if (prepared.warnings.length > 0) return t.skip(prepared.warnings.join(' '));
        await runKindLab(prepared.plan, {});
        context = prepared.plan.context;
      }
      for (const node of await kindNodes(cluster)) await installTcpdump(node);
      const [podA = `${PROBE_NAMESPACE}/pod-a`, podB = `${PROBE_NAMESPACE}/pod-b`] = (
        process.env['PODPATH_KIND_PODS'] ?? ''
      )
        .split(',')
        .filter(Boolean);
      const result = await tracePods({
        context,
        podA,
        podB,
        outDir: join(out, 'trace'),
        onProgress: (step, message) => t.diagnostic(`[${step}] ${message}`),
      });
      t.diagnostic(`timings: ${JSON.stringify(result.timings)}`);
      assert.equal(result.cluster.kind?.name, cluster);
      assert.deepEqual(result.plan.problems, []);
      assert.equal(result.report.firstMissingHop, null);
      assert.ok(result.report.hops.every((h) => h.seen));
      if (!given) {
        assert.equal(result.mode, 'flannel-vxlan');
        for (const h of result.report.hops.filter((x) => x.encapsulation)) {
          assert.equal(h.overheadBytes, 50);
        }
      }
      for (const f of result.files) assert.ok((await stat(f.pcap)).size > 24, f.pcap);
      for (const node of await kindNodes(cluster)) {
        const left = await runTool(['docker', 'exec', node, 'pgrep', 'tcpdump'], {
          okExitCodes: [0, 1],
        });
        assert.equal(left.stdout.trim(), '', `tcpdump left on ${node}`);
      }
    } finally {
      if (!given) {
        await deleteKindLab(cluster).catch((e: unknown) =>
          t.diagnostic(`delete failed: ${String(e)}`),
        );
      }
      await rm(out, { recursive: true, force: true });
    }
  },
);
