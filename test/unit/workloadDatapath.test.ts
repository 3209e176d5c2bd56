import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recognizeManifests } from '../../src/core/manifests/recognizeManifests';
import type { ServiceManifest, WorkloadManifest } from '../../src/core/manifests/types';
import { workloadDatapath } from '../../src/core/manifests/workloadDatapath';
import type { WorkloadDatapath } from '../../src/core/manifests/workloadDatapath';

function workload(yaml: string): WorkloadManifest {
  const m = recognizeManifests(yaml).find((x) => x.kind === 'workload');
  assert.ok(m && m.kind === 'workload', 'no workload recognised');
  return m;
}

function services(yaml: string): ServiceManifest[] {
  return recognizeManifests(yaml).filter((m): m is ServiceManifest => m.kind === 'service');
}

function planOf(r: WorkloadDatapath): Extract<WorkloadDatapath, { kind: 'plan' }> {
  assert.equal(r.kind, 'plan', JSON.stringify(r));
  return r as Extract<WorkloadDatapath, { kind: 'plan' }>;
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
        tier: front
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
          ports:
            - name: http
              containerPort: 8080
            - containerPort: 9090
              protocol: UDP
`;

test('the recogniser reads namespace, labels, selector, replicas, ports, node and hostNetwork', () => {
  const w = workload(deployment);
  assert.equal(w.namespace, 'shop');
  assert.deepEqual(w.labels, { app: 'web', tier: 'front' });
  assert.deepEqual(w.selector, { app: 'web' });
  assert.equal(w.replicas, 3);
  assert.equal(w.hostNetwork, false);
  assert.equal(w.nodeName, null);
  assert.deepEqual(w.ports, [
    { name: 'http', containerPort: 8080, protocol: 'TCP' },
    { name: null, containerPort: 9090, protocol: 'UDP' },
  ]);
  const pod = workload(
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: x, n: 3}\nspec:\n  hostNetwork: true\n  nodeSelector:\n    kubernetes.io/hostname: worker-2\n',
  );
  assert.deepEqual(pod.labels, { app: 'x', n: '3' });
  assert.equal(pod.selector, null);
  assert.equal(pod.hostNetwork, true);
  assert.equal(pod.nodeName, 'worker-2');
});

test('the mode comes from the caller, else the connected cluster, else an open manifest', () => {
  const w = workload(deployment);
  assert.deepEqual(workloadDatapath({ workload: w }), {
    kind: 'needs-mode',
    question: 'Which CNI runs Deployment web?',
  });
  const cluster = { mode: 'calico-ipip' as const, from: 'the connected cluster kind-podpath' };
  const manifest = { mode: 'flannel-vxlan' as const, from: 'kube-flannel-cfg in flannel.yaml' };
  const fromManifest = planOf(workloadDatapath({ workload: w, manifest }));
  assert.equal(fromManifest.plan.mode, 'flannel-vxlan');
  assert.ok(
    fromManifest.notes.includes('CNI mode flannel-vxlan from kube-flannel-cfg in flannel.yaml.'),
  );
  const fromCluster = planOf(workloadDatapath({ workload: w, manifest, cluster }));
  assert.equal(fromCluster.plan.mode, 'calico-ipip');
  assert.ok(fromCluster.notes.some((n) => n.includes('the connected cluster kind-podpath')));
  const given = planOf(workloadDatapath({ workload: w, manifest, cluster, given: 'kubenet' }));
  assert.equal(given.plan.mode, 'kubenet');
  assert.ok(given.notes.includes('CNI mode kubenet from your choice.'));
});

test('a Deployment: namespace, replicas and labels in the notes, its TCP port in the filters', () => {
  const r = planOf(workloadDatapath({ workload: workload(deployment), given: 'flannel-vxlan' }));
  assert.match(
    r.notes[0] ?? '',
    /^Deployment web in namespace shop: podA and podB are two of its 3 replicas/,
  );
  assert.ok(
    r.notes.includes('Its pods and their nodes: kubectl get pods -n shop -l app=web -o wide'),
  );
  assert.ok(r.notes.some((n) => /TCP port 8080 \(containerPort 8080\)/.test(n)));
  assert.equal(r.plan.sameNode, false);
  // The probe is the workload's port, not the default ICMP: every hop's filter says so.
  for (const hop of r.plan.hops) assert.match(hop.filter, /8080|udp port 8472/, hop.name);
  assert.ok(r.plan.hops.some((h) => /tcp port 8080/.test(h.filter)));
  // The default plan (no workload) probes with ICMP: the workload changed the plan.
  const plain = planOf(
    workloadDatapath({
      workload: { ...workload(deployment), ports: [] },
      given: 'flannel-vxlan',
    }),
  );
  assert.ok(plain.plan.hops.every((h) => !/tcp port/.test(h.filter)));
});

test('a Service selecting the pods gives the probe port and a note; others do not', () => {
  const svc = services(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 81, targetPort: 7000}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 82, targetPort: 7001}]
`);
  assert.equal(svc.length, 3);
  const r = planOf(
    workloadDatapath({ workload: workload(deployment), services: svc, given: 'calico-bgp' }),
  );
  // targetPort `http` is the container port named http: 8080.
  assert.ok(
    r.notes.some((n) => /TCP port 8080 \(Service web port 80 → 8080\)/.test(n)),
    r.notes.join('\n'),
  );
  const serviceNotes = r.notes.filter((n) => n.startsWith('Service '));
  assert.equal(serviceNotes.length, 1, 'only the Service in namespace shop selecting app=web');
  assert.match(serviceNotes[0] ?? '', /^Service web \(ClusterIP\) selects these pods/);
});

test('a Pod pinned to a node: that node in the plan; a pinned Deployment is same-node', () => {
  const pod = workload(`apiVersion: v1
kind: Pod
metadata:
  name: pod-a
  labels: {app: netshoot}
spec:
  nodeName: podpath-worker
  containers: [{name: c, image: x}]
`);
  const r = planOf(workloadDatapath({ workload: pod, given: 'calico-bgp' }));
  assert.match(r.notes[0] ?? '', /^Pod pod-a in namespace default: podB is its pod/);
  assert.equal(r.plan.destination.node, 'podpath-worker');
  assert.equal(r.plan.sameNode, false);
  assert.ok(r.plan.hops.some((h) => h.location.name === 'podpath-worker'));
  assert.ok(r.notes.some((n) => /ICMP/.test(n)));

  const pinned = workload(deployment.replace('    spec:\n', '    spec:\n      nodeName: w1\n'));
  assert.equal(pinned.nodeName, 'w1');
  const same = planOf(workloadDatapath({ workload: pinned, given: 'flannel-vxlan' }));
  assert.equal(same.plan.sameNode, true);
  assert.equal(same.plan.source.node, 'w1');
  assert.equal(same.plan.destination.node, 'w1');
  assert.ok(
    same.plan.hops.every((h) => h.encapsulation === null),
    'same node: no VXLAN',
  );

  // A node name the planner refuses falls back to the lab's and says so.
  const odd = planOf(
    workloadDatapath({ workload: { ...pod, nodeName: 'bad name; rm -rf /' }, given: 'kubenet' }),
  );
  assert.equal(odd.plan.destination.node, 'nodeB');
  assert.ok(odd.notes.some((n) => /a name Podpath cannot use/.test(n)));
});

test('a DaemonSet is cross-node; hostNetwork has no pod datapath', () => {
  const ds = workload(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {name: agent}}
  template:
    metadata: {labels: {name: agent}}
    spec: {containers: [{name: a, image: x}]}
`);
  const r = planOf(workloadDatapath({ workload: ds, given: 'calico-vxlan' }));
  assert.match(r.notes[0] ?? '', /one per node, so the path is cross-node/);
  assert.equal(r.plan.sameNode, false);
  assert.ok(
    r.notes.includes(
      'Its pods and their nodes: kubectl get pods -n kube-system -l name=agent -o wide',
    ),
  );

  const host = workloadDatapath({ workload: { ...ds, hostNetwork: true }, given: 'calico-vxlan' });
  assert.equal(host.kind, 'not-pod-network');
  assert.match((host as { reason: string }).reason, /hostNetwork/);
});
