// The Service CIDR from its three sources, in order, against recorded objects (the dual-stack
// ServiceCIDR, the kind cluster's kube-apiserver static pod) and the kubeadm-config ConfigMap
// built from the documented format (test/fixtures/kube-objects/SOURCES.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readServiceCidr, withServiceCidr } from '../../src/core/cluster/detect';
import { kindCalicoObjects, kubeadmConfigMap, serviceCidrObject } from '../support/kubeFixtures';

const apiServerPods = kindCalicoObjects().filter(
  (o) =>
    o['kind'] === 'Pod' &&
    (o['metadata'] as { labels?: Record<string, string> }).labels?.['component'] ===
      'kube-apiserver',
);

test('the recorded kube-apiserver static pod of the kind cluster: --service-cluster-ip-range', () => {
  assert.equal(apiServerPods.length, 1);
  const r = readServiceCidr({ apiServerPods });
  assert.deepEqual(r.cidrs, ['10.96.0.0/16']);
  assert.equal(
    r.evidence,
    'Service CIDR 10.96.0.0/16: Pod kube-system/kube-apiserver-ks-cloud-control-plane --service-cluster-ip-range',
  );
});

test('kubeadm-config ClusterConfiguration.networking.serviceSubnet wins over the pod flag', () => {
  const r = readServiceCidr({ configMaps: [kubeadmConfigMap()], apiServerPods });
  assert.deepEqual(r.cidrs, ['10.96.0.0/12']);
  assert.match(
    r.evidence,
    /ConfigMap kube-system\/kubeadm-config ClusterConfiguration networking\.serviceSubnet/,
  );
});

test('ServiceCIDR objects win; the default `kubernetes` object first, dual-stack kept', () => {
  const extra = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'ServiceCIDR',
    metadata: { name: 'extra-range' },
    spec: { cidrs: ['10.97.0.0/24'] },
  };
  const r = readServiceCidr({
    serviceCidrs: [extra, serviceCidrObject()],
    configMaps: [kubeadmConfigMap()],
    apiServerPods,
  });
  assert.deepEqual(r.cidrs, ['10.233.0.0/18', 'fd00:10:233::/116', '10.97.0.0/24']);
  assert.match(
    r.evidence,
    /ServiceCIDR 'kubernetes' 10\.233\.0\.0\/18, fd00:10:233::\/116; 'extra-range' 10\.97\.0\.0\/24/,
  );
});

test('nothing readable, or only malformed sources: "not readable", never a guess', () => {
  const broken = structuredClone(kubeadmConfigMap()) as { data: Record<string, string> };
  broken.data['ClusterConfiguration'] = 'networking: [unclosed';
  const pod = structuredClone(apiServerPods[0]) as {
    spec: { containers: { command: string[] }[] };
  };
  for (const c of pod.spec.containers) {
    c.command = c.command.map((a) =>
      a.startsWith('--service-cluster-ip-range') ? '--service-cluster-ip-range=banana' : a,
    );
  }
  for (const objects of [
    {},
    { configMaps: [broken], apiServerPods: [pod], serviceCidrs: [{ spec: { cidrs: 'x' } }, null] },
  ]) {
    const r = readServiceCidr(objects);
    assert.deepEqual(r.cidrs, []);
    assert.match(r.evidence, /^Service CIDR not readable/);
  }
  const d = withServiceCidr({ cni: 'unknown', mode: null, details: {}, evidence: [] }, {});
  assert.equal('serviceCIDR' in d.details, false);
  assert.equal(d.evidence.length, 1);
});
