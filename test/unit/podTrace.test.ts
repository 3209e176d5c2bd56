// tracePods up to the node shell, against the API stand-in serving the offline labs' objects
// (test/support/labClusterObjects.ts): detection of each lab's mode from them, the pod and
// probe references, the choice of shell (kind providerIDs → kind; otherwise the hook, or one
// sentence), and the hook's shell disposed of when the trace fails. No root, no lab build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLab } from '../../src/core/labs/catalog';
import { ClusterClient, loadKubeConfigSet } from '../../src/platform/kube/kubeClient';
import { readClusterPicture } from '../../src/platform/kube/clusterReader';
import {
  TraceError,
  parsePodRef,
  parseTraceProbe,
  tracePods,
} from '../../src/platform/trace/podTrace';
import type { TraceNode, TraceNodeShell } from '../../src/platform/trace/podTrace';
import { main } from '../../src/cli';
import { KubeApiStandIn, makeCertificates, standInKubeconfig } from '../support/kubeApiStandIn';
import type { Certificates } from '../support/kubeApiStandIn';
import { LAB_CLUSTER, labClusterObjects } from '../support/labClusterObjects';

let certs: Certificates;
let dir = '';
const standIns: KubeApiStandIn[] = [];

before(async () => {
  certs = await makeCertificates();
  dir = await mkdtemp(join(tmpdir(), 'pp-podtrace-unit-'));
});

after(async () => {
  for (const s of standIns) await s.stop();
  await rm(dir, { recursive: true, force: true });
});

async function serve(labId: string, edit?: (o: Record<string, unknown>) => void) {
  const lab = findLab(labId);
  assert.ok(lab);
  const standIn = new KubeApiStandIn({ certs, tokens: { tok: 'tracer' } });
  for (const o of labClusterObjects(lab)) {
    edit?.(o);
    standIn.upsert(o);
  }
  await standIn.start();
  standIns.push(standIn);
  const kubeconfig = join(dir, `${labId}-${standIns.length}.kubeconfig`);
  await writeFile(kubeconfig, standInKubeconfig(standIn, certs, { token: 'tok', context: 'lab' }));
  return { standIn, kubeconfig };
}

for (const [labId, details] of [
  ['flannel-vxlan', { vni: 1, port: 8472 }],
  ['flannel-host-gw', {}],
  ['calico-bgp', {}],
  ['calico-vxlan', {}],
] as const) {
  test(`the ${labId} lab's API objects are detected as ${labId}, with kind nodes and running pods`, async () => {
    const { kubeconfig } = await serve(labId);
    const client = new ClusterClient(loadKubeConfigSet([kubeconfig]));
    const picture = await readClusterPicture(client);
    assert.equal(picture.network.mode, labId);
    for (const [k, v] of Object.entries(details)) assert.equal(picture.network.details[k], v);
    assert.deepEqual(
      picture.nodes.map((n) => [n.name, n.provider, n.internalIP]),
      [
        [`${LAB_CLUSTER}-worker`, 'kind', '172.18.0.5'],
        [`${LAB_CLUSTER}-worker2`, 'kind', '172.18.0.6'],
      ],
    );
    assert.deepEqual(
      picture.pods.map((p) => [p.namespace, p.name, p.node, p.phase]),
      [
        ['default', 'podA', `${LAB_CLUSTER}-worker`, 'Running'],
        ['default', 'podB', `${LAB_CLUSTER}-worker2`, 'Running'],
      ],
    );
    if (labId === 'calico-vxlan') {
      const env = picture.network.details['env'] as Record<string, string>;
      assert.equal(env['FELIX_VXLANVNI'], '4096');
      assert.equal(env['FELIX_VXLANPORT'], '4789');
    }
  });
}

test('probe and pod references', () => {
  assert.deepEqual(parseTraceProbe('icmp'), { protocol: 'icmp' });
  assert.deepEqual(parseTraceProbe('tcp:80'), { protocol: 'tcp', port: 80 });
  assert.deepEqual(parseTraceProbe('udp:53'), { protocol: 'udp', port: 53 });
  for (const bad of ['tcp', 'tcp:0', 'udp:70000', 'sctp:5', 'icmp:1']) {
    assert.equal(parseTraceProbe(bad), undefined, bad);
  }
  assert.deepEqual(parsePodRef('kube-system/coredns-1'), {
    namespace: 'kube-system',
    name: 'coredns-1',
  });
  assert.deepEqual(parsePodRef('web'), { namespace: 'default', name: 'web' });
  for (const bad of ['a/b/c', '/x', 'ns/', 'ns/../x', 'ns/a b']) {
    assert.throws(() => parsePodRef(bad), TraceError, bad);
  }
});

test('a pod that does not exist, or is not Running, is one sentence before any node is touched', async () => {
  const { kubeconfig, standIn } = await serve('flannel-vxlan');
  await assert.rejects(
    tracePods({ kubeconfig, podA: 'default/podA', podB: 'default/nope', outDir: dir }),
    (e: unknown) =>
      e instanceof TraceError && e.step === 'pods' && /no pod default\/nope/.test(e.message),
  );
  const pod = standIn.get('v1', 'Pod', 'podB', 'default');
  assert.ok(pod);
  (pod['status'] as Record<string, unknown>)['phase'] = 'Pending';
  standIn.upsert(pod);
  await assert.rejects(
    tracePods({ kubeconfig, podA: 'default/podA', podB: 'default/podB', outDir: dir }),
    /Pending, not Running/,
  );
});

test('nodes that are not kind nodes: one sentence without a hook; with one, its shell is used and disposed of', async () => {
  const { kubeconfig } = await serve('calico-bgp', (o) => {
    if (o['kind'] === 'Node') {
      const spec = o['spec'] as Record<string, unknown>;
      spec['providerID'] = `gce://project/zone/${String((o['metadata'] as { name: string }).name)}`;
    }
  });
  await assert.rejects(
    tracePods({ kubeconfig, podA: 'default/podA', podB: 'default/podB', outDir: dir }),
    (e: unknown) =>
      e instanceof TraceError &&
      e.step === 'shell' &&
      /not kind nodes; reaching them needs a privileged node-shell pod/.test(e.message),
  );
  const seen: TraceNode[][] = [];
  let disposed = 0;
  const shell: TraceNodeShell = {
    kind: 'test',
    run: () => Promise.reject(new Error('node unreachable in this test')),
    start: () => {
      throw new Error('not used');
    },
    dispose: () => {
      disposed++;
      return Promise.resolve();
    },
  };
  await assert.rejects(
    tracePods({
      kubeconfig,
      podA: 'default/podA',
      podB: 'default/podB',
      outDir: dir,
      nodeShellFor: (nodes) => {
        seen.push([...nodes]);
        return Promise.resolve(shell);
      },
    }),
    /node unreachable in this test/,
  );
  assert.deepEqual(
    seen[0]?.map((n) => [n.name, n.internalIP]),
    [
      [`${LAB_CLUSTER}-worker`, '172.18.0.5'],
      [`${LAB_CLUSTER}-worker2`, '172.18.0.6'],
    ],
  );
  assert.equal(disposed, 1);
});

test('CLI: usage errors are one line and exit 2', async () => {
  const run = async (args: string[]) => {
    let err = '';
    const code = await main(['trace', ...args], {
      stdout: () => undefined,
      stderr: (s) => (err += s),
    });
    return { code, err };
  };
  for (const [args, re] of [
    [['default/a'], /two pods/],
    [['a', 'b', '--probe', 'tcp'], /--probe takes icmp, tcp:PORT or udp:PORT/],
    [['a', 'b', '--duration', '0'], /--duration takes a whole number/],
    [['a', 'b', '--max-mb', 'x'], /--max-mb takes a whole number/],
  ] as const) {
    const r = await run([...args]);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.match(r.err, re);
  }
});
