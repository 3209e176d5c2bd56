/**
 * A cluster at the Kubernetes limits (5,000 nodes, 150,000 pods) generated from the recorded
 * kind objects (test/fixtures/kube-objects): every node is the recorded worker node (with its
 * managedFields, images and conditions, so each weighs what a real one weighs) renamed and
 * readdressed; every pod is one of the ten recorded pods, renamed and placed on a node with an
 * address from that node's podCIDR. Nested parts are shared between copies so the stand-in's
 * own process stays small; on the wire every object is whole.
 */
import { kindCalicoObjects } from './kubeFixtures';

type Json = Record<string, unknown>;

export function* scaleObjects(nodeCount: number, podCount: number): Generator<Json> {
  const recorded = kindCalicoObjects();
  const nodeTemplate = recorded.find(
    (o) => o['kind'] === 'Node' && (o['metadata'] as Json)['name'] === 'ks-cloud-worker',
  );
  const podTemplates = recorded.filter((o) => o['kind'] === 'Pod');
  if (!nodeTemplate || podTemplates.length === 0) throw new Error('recorded kind objects missing');
  const nodeName = (i: number) => `bench-node-${String(i).padStart(5, '0')}`;
  for (let i = 0; i < nodeCount; i++) {
    const meta = nodeTemplate['metadata'] as Json;
    const status = nodeTemplate['status'] as Json;
    const ip = `172.${16 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
    yield {
      ...nodeTemplate,
      metadata: {
        ...meta,
        name: nodeName(i),
        uid: undefined,
        labels: { ...(meta['labels'] as Json), 'kubernetes.io/hostname': nodeName(i) },
      },
      spec: {
        ...(nodeTemplate['spec'] as Json),
        podCIDR: `10.${64 + Math.floor(i / 256)}.${i % 256}.0/24`,
        podCIDRs: [`10.${64 + Math.floor(i / 256)}.${i % 256}.0/24`],
        providerID: `kind://docker/bench/${nodeName(i)}`,
      },
      status: {
        ...status,
        addresses: [
          { type: 'InternalIP', address: ip },
          { type: 'Hostname', address: nodeName(i) },
        ],
      },
    };
  }
  for (let j = 0; j < podCount; j++) {
    const t = podTemplates[j % podTemplates.length] as Json;
    const node = j % nodeCount;
    const meta = t['metadata'] as Json;
    const spec = t['spec'] as Json;
    const hostNetwork = spec['hostNetwork'] === true;
    const slot = 2 + Math.floor(j / nodeCount);
    yield {
      ...t,
      metadata: { ...meta, name: `${String(meta['name'])}-${j}`, uid: undefined },
      spec: { ...spec, nodeName: nodeName(node) },
      status: {
        ...(t['status'] as Json),
        podIP: hostNetwork ? undefined : `10.${64 + Math.floor(node / 256)}.${node % 256}.${slot}`,
      },
    };
  }
}
