/** Services and endpoints the kube-proxy rule writer is tested with (unit and lab tests). */
import type { ServiceSpec } from '../../src/core/kubeproxy/types';
import type { RuleService } from '../../src/core/kubeproxy/writeRules';

function spec(partial: Partial<ServiceSpec> & { name: string }): ServiceSpec {
  return {
    namespace: 'lab',
    type: 'ClusterIP',
    clusterIP: null,
    externalIPs: [],
    loadBalancerIPs: [],
    loadBalancerSourceRanges: [],
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    affinitySeconds: null,
    ports: [],
    ...partial,
  };
}

/**
 * Four Services in namespace `lab`: `web` (three endpoints, one on its own port),
 * `sticky` (NodePort + external IP + ClientIP affinity 600 s), `local` (UDP
 * NodePort, externalTrafficPolicy Local, two of four endpoints on this node) and
 * `empty` (no endpoints).
 */
export function labServices(): RuleService[] {
  return [
    {
      // Three endpoints, one a port of its own: shares of a third each.
      spec: spec({
        name: 'web',
        clusterIP: '10.96.0.20',
        ports: [{ name: '', port: 80, protocol: 'tcp', nodePort: null, targetPort: '8080' }],
      }),
      endpoints: [
        { ip: '10.244.1.7', port: 8080, local: true },
        { ip: '10.244.2.3', port: 8080, local: false },
        { ip: '10.244.1.9', port: 9090, local: true },
      ],
    },
    {
      spec: spec({
        name: 'sticky',
        type: 'NodePort',
        clusterIP: '10.96.0.21',
        externalIPs: ['192.0.2.50'],
        affinitySeconds: 600,
        ports: [{ name: 'http', port: 8080, protocol: 'tcp', nodePort: 30081, targetPort: null }],
      }),
      endpoints: [
        { ip: '10.244.1.5', port: 80, local: true },
        { ip: '10.244.2.5', port: 80, local: false },
      ],
    },
    {
      spec: spec({
        name: 'local',
        type: 'NodePort',
        clusterIP: '10.96.0.22',
        externalTrafficPolicy: 'Local',
        ports: [{ name: '', port: 53, protocol: 'udp', nodePort: 30053, targetPort: null }],
      }),
      endpoints: [
        { ip: '10.244.1.8', port: 5353, local: true, node: 'node-a' },
        { ip: '10.244.2.8', port: 5353, local: false, node: 'node-b' },
        { ip: '10.244.1.4', port: 5353, local: true, node: 'node-a' },
        { ip: '10.244.3.8', port: 5353, local: false, node: 'node-c' },
      ],
    },
    {
      spec: spec({
        name: 'empty',
        clusterIP: '10.96.0.23',
        ports: [{ name: '', port: 80, protocol: 'tcp', nodePort: null, targetPort: null }],
      }),
      endpoints: [],
    },
  ];
}
