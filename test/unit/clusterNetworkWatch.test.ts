// The live session watches every object network detection reads, not only DaemonSets: a change
// to the Flannel ConfigMap, a Calico pool or a ServiceCIDR re-detects within 2 s; a CRD the
// cluster does not serve is absent (no problem, no retry storm). Against the API stand-in fed
// with the recorded k3s Flannel and kind Calico objects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadKubeConfigSet } from '../../src/platform/kube/kubeClient';
import { ClusterSession, type SessionChange } from '../../src/platform/kube/clusterSession';
import {
  CALICO_CRD_RESOURCES,
  KubeApiStandIn,
  NETWORK_EXTRA_RESOURCES,
  STANDARD_RESOURCES,
  makeCertificates,
  standInKubeconfig,
  type Certificates,
} from '../support/kubeApiStandIn';
import {
  calicoV3Pools,
  k3sFlannelObjects,
  kindCalicoObjects,
  kubeadmConfigMap,
  serviceCidrObject,
} from '../support/kubeFixtures';

type Json = Record<string, unknown>;

let certs: Certificates;
const servers: KubeApiStandIn[] = [];

before(async () => {
  certs = await makeCertificates();
});

after(async () => {
  for (const s of servers) await s.stop();
});

async function standIn(objects: Json[], withExtras: boolean): Promise<KubeApiStandIn> {
  const api = new KubeApiStandIn({
    certs,
    tokens: { t: 'admin' },
    resources: withExtras
      ? [...STANDARD_RESOURCES, ...CALICO_CRD_RESOURCES, ...NETWORK_EXTRA_RESOURCES]
      : STANDARD_RESOURCES,
  });
  for (const o of objects) api.upsert(o);
  await api.start();
  servers.push(api);
  return api;
}

function open(api: KubeApiStandIn, changes: SessionChange[], name: string): ClusterSession {
  const file = join(certs.dir, `kubeconfig-${name}`);
  writeFileSync(file, standInKubeconfig(api, certs, { token: 't', context: name }));
  const s = new ClusterSession(loadKubeConfigSet([file]), name, {
    onChange: (c) => changes.push(c),
    backoffMs: 50,
  });
  s.start();
  return s;
}

/** Waits for a `network` change after `since`, then re-detects until `cond` holds; ms taken. */
async function redetected(
  s: ClusterSession,
  changes: SessionChange[],
  since: number,
  cond: (pic: Awaited<ReturnType<ClusterSession['network']>>) => boolean,
  ms: number,
): Promise<number> {
  const start = Date.now();
  let seen = since;
  for (;;) {
    if (changes.slice(seen).some((c) => c.kind === 'network')) {
      seen = changes.length;
      if (cond(await s.network())) return Date.now() - start;
    }
    if (Date.now() - start > ms) throw new Error(`not re-detected within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the Flannel ConfigMap going from vxlan to host-gw changes the detected mode within 2 s', async () => {
  const api = await standIn(k3sFlannelObjects(), false);
  const changes: SessionChange[] = [];
  const s = open(api, changes, 'k3s');
  try {
    assert.equal((await s.network()).network.mode, 'flannel-vxlan');
    const cm = structuredClone(
      api.get('v1', 'ConfigMap', 'kube-flannel-cfg', 'kube-flannel'),
    ) as Json & { data: Record<string, string> };
    const conf = JSON.parse(cm.data['net-conf.json'] ?? '{}') as { Backend: { Type: string } };
    assert.equal(conf.Backend.Type, 'vxlan');
    conf.Backend.Type = 'host-gw';
    cm.data['net-conf.json'] = JSON.stringify(conf);
    const mark = changes.length;
    api.upsert(cm);
    const ms = await redetected(
      s,
      changes,
      mark,
      (p) => p.network.mode === 'flannel-host-gw',
      2000,
    );
    assert.ok(ms < 2000, `${ms} ms`);
    const pic = await s.network();
    assert.ok(
      pic.network.evidence.some((e) => /kube-flannel-cfg/.test(e) && /host-gw/.test(e)),
      pic.network.evidence.join('\n'),
    );
    // The ConfigMap watch is one name, not the namespace's every ConfigMap.
    assert.ok(
      api.requests.some(
        (r) =>
          r.includes('/api/v1/namespaces/kube-flannel/configmaps?') &&
          decodeURIComponent(r).includes('fieldSelector=metadata.name=kube-flannel-cfg'),
      ),
      api.requests.filter((r) => r.includes('configmaps')).join('\n'),
    );
  } finally {
    s.dispose();
  }
});

test('a Calico v3 IP pool switching from VXLAN to IPIP changes the mode within 2 s', async () => {
  const pools = calicoV3Pools('calico-confd-testdata_v3-ippools_vxlan-Always.yaml');
  assert.ok(pools.length >= 1);
  const api = await standIn([...kindCalicoObjects(), ...pools], true);
  const changes: SessionChange[] = [];
  const s = open(api, changes, 'calico');
  try {
    const before = await s.network();
    assert.equal(before.network.mode, 'calico-vxlan');
    assert.deepEqual(before.problems, []);
    const pool = structuredClone(api.get('projectcalico.org/v3', 'IPPool', 'ippool-1')) as Json & {
      spec: Json;
    };
    pool.spec['vxlanMode'] = 'Never';
    pool.spec['ipipMode'] = 'Always';
    const mark = changes.length;
    api.upsert(pool);
    await redetected(s, changes, mark, (p) => p.network.mode === 'calico-ipip', 2000);
  } finally {
    s.dispose();
  }
});

test('CRDs and API groups the cluster does not serve are absent: no problem, no retry storm', async () => {
  const api = await standIn(k3sFlannelObjects(), false);
  const changes: SessionChange[] = [];
  const s = open(api, changes, 'bare');
  try {
    const pic = await s.network();
    assert.deepEqual(pic.problems, []);
    assert.equal(pic.network.mode, 'flannel-vxlan');
    const absentPaths = [
      '/apis/projectcalico.org/v3/ippools',
      '/apis/crd.projectcalico.org/v1/ippools',
      '/apis/operator.tigera.io/v1/installations',
      '/apis/networking.k8s.io/v1/servicecidrs',
    ];
    const count = () => api.requests.filter((r) => absentPaths.some((p) => r.includes(p))).length;
    const first = count();
    assert.equal(first, absentPaths.length, api.requests.join('\n'));
    // With a 50 ms backoff, a list that retried 404s would ask dozens of times in 2 s.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(count(), first);
  } finally {
    s.dispose();
  }
});

test('Service CIDR: the kube-apiserver flag, then a ServiceCIDR object as it is created; kubeadm-config', async () => {
  const api = await standIn(kindCalicoObjects(), true);
  const changes: SessionChange[] = [];
  const s = open(api, changes, 'svc');
  try {
    const first = (await s.network()).network;
    assert.equal(first.details['serviceCIDR'], '10.96.0.0/16');
    assert.ok(
      first.evidence.some((e) =>
        /Pod kube-system\/kube-apiserver-ks-cloud-control-plane --service-cluster-ip-range/.test(e),
      ),
      first.evidence.join('\n'),
    );
    const mark = changes.length;
    api.upsert(serviceCidrObject());
    await redetected(
      s,
      changes,
      mark,
      (p) => p.network.details['serviceCIDR'] === '10.233.0.0/18',
      2000,
    );
    const now = (await s.network()).network;
    assert.deepEqual(now.details['serviceCIDRs'], ['10.233.0.0/18', 'fd00:10:233::/116']);
  } finally {
    s.dispose();
  }
  const k3s = await standIn(k3sFlannelObjects(), false);
  const c2: SessionChange[] = [];
  const s2 = open(k3s, c2, 'k3s-svc');
  try {
    const none = (await s2.network()).network;
    assert.equal(none.details['serviceCIDR'], undefined);
    assert.ok(none.evidence.some((e) => /^Service CIDR not readable/.test(e)));
    const mark = c2.length;
    k3s.upsert(kubeadmConfigMap());
    await redetected(
      s2,
      c2,
      mark,
      (p) => p.network.details['serviceCIDR'] === '10.96.0.0/12',
      2000,
    );
  } finally {
    s2.dispose();
  }
});
