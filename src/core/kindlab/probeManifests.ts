/**
 * The lab's probe workload: pod A and pod B pinned to the two workers (so the
 * probe crosses nodes), and a Service whose endpoints are those two pods, for the
 * Service walkthrough. The image needs ping, tcpdump and iperf3; pods run
 * `iperf3 -s` so the Service has something listening on both workers.
 */
import { Document } from 'yaml';
import { LAB_LABEL } from './modes';

export const PROBE_NAMESPACE = 'podpath-lab';
export const PROBE_IMAGE = 'docker.io/nicolaka/netshoot:v0.13';
export const PROBE_PORT = 5201;
export const PROBE_SERVICE = 'probe';

export interface ProbeOptions {
  /** The lab (kind cluster) name. */
  lab: string;
  /** The two worker nodes, pod A's first. */
  workers: readonly [string, string];
  image: string;
}

export interface ProbePod {
  name: string;
  node: string;
}

/** Pod A and pod B with the nodes they are pinned to. */
export function probePods(workers: readonly [string, string]): [ProbePod, ProbePod] {
  return [
    { name: 'pod-a', node: workers[0] },
    { name: 'pod-b', node: workers[1] },
  ];
}

/** `probe-pods.yaml`: the namespace, the two pinned pods and the Service. */
export function probeManifest(options: ProbeOptions): string {
  const labels = { [LAB_LABEL]: options.lab, app: 'podpath-probe' };
  const objects: Record<string, unknown>[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: PROBE_NAMESPACE, labels: { [LAB_LABEL]: options.lab } },
    },
    ...probePods(options.workers).map((pod) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.name,
        namespace: PROBE_NAMESPACE,
        labels: { ...labels, 'podpath.dev/probe': pod.name },
      },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': pod.node },
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'probe',
            image: options.image,
            command: ['iperf3', '-s', '-p', String(PROBE_PORT)],
            ports: [{ name: 'iperf3', containerPort: PROBE_PORT, protocol: 'TCP' }],
            // Raw sockets for ping, capture rights for tcpdump inside the pod; nothing more.
            securityContext: { capabilities: { add: ['NET_RAW', 'NET_ADMIN'] } },
          },
        ],
      },
    })),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: PROBE_SERVICE,
        namespace: PROBE_NAMESPACE,
        labels: { [LAB_LABEL]: options.lab },
      },
      spec: {
        selector: { app: 'podpath-probe' },
        ports: [{ name: 'iperf3', port: PROBE_PORT, targetPort: PROBE_PORT, protocol: 'TCP' }],
      },
    },
  ];
  return objects.map((o) => new Document(o).toString()).join('---\n');
}
