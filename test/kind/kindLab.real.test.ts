/**
 * Real lab clusters on kind: for each mode, `podpath lab create` runs for real, then
 * Podpath's own detection must read the mode back from the cluster, pod A must reach
 * pod B across the two workers, the datapath plan must be drawn with the
 * cluster's real nodes and pods, and a trace must see the probe at every hop; the cluster is deleted afterwards whatever happens.
 *
 * Runs where `docker info` and `kind version` work (one command: `npm run test:kind`);
 * skips with that reason elsewhere. PODPATH_KIND_MODES=flannel-vxlan,calico-ipip limits
 * the modes (default: all of them); PODPATH_KIND_NODE_IMAGE picks the kindest/node image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  detectKubeProxy,
  detectNetwork,
  planInputFromCluster,
  summarizeNode,
  summarizePod,
} from '../../src/core/cluster/detect';
import { buildDatapathPlan } from '../../src/core/datapath/plans';
import { KIND_LAB_MODES, type KindLabModeInfo } from '../../src/core/kindlab/modes';
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

const wanted = (process.env['PODPATH_KIND_MODES'] ?? '').split(',').filter(Boolean);
const modes: KindLabModeInfo[] = KIND_LAB_MODES.filter(
  (m) => wanted.length === 0 || wanted.includes(m.mode),
);

async function kubectlJson(context: string, args: string[]): Promise<unknown[]> {
  const { stdout } = await runTool(['kubectl', '--context', context, ...args, '-o', 'json'], {
    timeoutMs: 60_000,
    okExitCodes: [0, 1],
  });
  try {
    const list = JSON.parse(stdout) as { items?: unknown[] };
    return list.items ?? [list];
  } catch {
    return [];
  }
}

for (const mode of modes) {
  test(`real kind lab: ${mode.mode}`, { timeout: 30 * 60_000 }, async (t) => {
    if (!(await works(['docker', 'info'])))
      return t.skip('needs a Docker engine (`docker info` fails here)');
    if (!(await works(['kind', 'version'])))
      return t.skip('needs kind on PATH (`kind version` fails here)');
    const name = `pp-t-${mode.mode}`;
    const out = await mkdtemp(join(tmpdir(), `pp-kind-${mode.mode}-`));
    try {
      const prepared = await prepareKindLab({
        name,
        mode,
        kubeProxyMode: 'iptables',
        outDir: out,
        ...(process.env['PODPATH_KIND_NODE_IMAGE']
          ? { nodeImage: process.env['PODPATH_KIND_NODE_IMAGE'] }
          : {}),
      });
      if (prepared.warnings.length > 0) return t.skip(prepared.warnings.join(' '));
      const result = await runKindLab(prepared.plan, {
        onProgress: (p) => {
          if (p.status !== 'output')
            t.diagnostic(`${p.status} ${p.step.title}${p.message ? `: ${p.message}` : ''}`);
        },
      });
      const ctx = prepared.plan.context;
      const [nodes, daemonSets, ipPools] = await Promise.all([
        kubectlJson(ctx, ['get', 'nodes']),
        kubectlJson(ctx, ['get', 'daemonsets', '-A']),
        kubectlJson(ctx, ['get', 'ippools.crd.projectcalico.org']),
      ]);
      const configMaps = (
        await Promise.all(
          [
            ['kube-flannel', 'kube-flannel-cfg'],
            ['kube-system', 'kube-proxy'],
            ['kube-system', 'calico-config'],
          ].map(([ns, cm]) => kubectlJson(ctx, ['-n', ns ?? '', 'get', 'configmap', cm ?? ''])),
        )
      ).flat();
      const objects = { nodes, daemonSets, configMaps, ipPools, installations: [] };
      const network = detectNetwork(objects);
      if (mode.cni === 'kindnet') assert.equal(network.cni, 'kindnet', network.evidence.join('\n'));
      else assert.equal(network.mode, mode.mode, network.evidence.join('\n'));
      assert.equal(detectKubeProxy(objects).mode, 'iptables');

      const pods = (await kubectlJson(ctx, ['-n', PROBE_NAMESPACE, 'get', 'pods'])).map(
        summarizePod,
      );
      const a = pods.find((p) => p.name === 'pod-a');
      const b = pods.find((p) => p.name === 'pod-b');
      assert.ok(a?.podIP && b?.podIP, result.probePods);
      assert.deepEqual([a.node, b.node], prepared.plan.workers);
      await runTool(
        [
          'kubectl',
          '--context',
          ctx,
          '-n',
          PROBE_NAMESPACE,
          'exec',
          'pod-a',
          '--',
          'ping',
          '-c',
          '3',
          '-W',
          '2',
          b.podIP,
        ],
        { timeoutMs: 60_000 },
      );

      if (network.mode !== null) {
        const planned = planInputFromCluster(network, nodes.map(summarizeNode), a, b);
        assert.ok(planned.ok, planned.ok ? '' : planned.reason);
        const plan = buildDatapathPlan(planned.input);
        assert.equal(plan.sameNode, false);
        assert.ok(plan.hops.some((h) => h.location.node === prepared.plan.workers[1]));

        // And the trace a person then runs (the Trace offer, `podpath lab run MODE --kind`):
        // every hop of the mode's datapath sees pod A's probe.
        const traced = await tracePods({
          context: ctx,
          podA: `${PROBE_NAMESPACE}/pod-a`,
          podB: `${PROBE_NAMESPACE}/pod-b`,
          outDir: join(out, 'trace'),
        });
        t.diagnostic(`trace timings: ${JSON.stringify(traced.timings)}`);
        assert.equal(traced.mode, plan.mode);
        assert.equal(traced.report.firstMissingHop, null, JSON.stringify(traced.report.hops));
        assert.ok(traced.report.hops.every((h) => h.seen));
      }
    } finally {
      await deleteKindLab(name).catch((e: unknown) => t.diagnostic(`delete failed: ${String(e)}`));
      await rm(out, { recursive: true, force: true });
    }
  });
}
