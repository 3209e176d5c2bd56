/**
 * Entry point for datapath plans: the list of CNI modes, the dispatcher, and the
 * offline lab's addressing (the same as the fixtures in test/fixtures/netns).
 */
import { calicoBgpPlan } from './calicoBgp';
import { calicoCrossSubnetPlan } from './calicoCrossSubnet';
import { calicoIpipPlan } from './calicoIpip';
import { calicoVxlanPlan } from './calicoVxlan';
import { flannelHostGwPlan } from './flannelHostGw';
import { flannelVxlanPlan } from './flannelVxlan';
import { kubenetPlan } from './kubenet';
import type { CniMode, DatapathPlan, Endpoint, NodeInfo, PlanInput, Probe } from './types';

export const CNI_MODES: readonly { mode: CniMode; title: string; description: string }[] = [
  {
    mode: 'flannel-vxlan',
    title: 'Flannel VXLAN',
    description:
      'Pods on a cni0 bridge; cross-node traffic is routed into flannel.1 and carried in VXLAN (UDP 8472, VNI 1, +50 B, MTU 1450).',
  },
  {
    mode: 'flannel-host-gw',
    title: 'Flannel host-gw',
    description:
      "Pods on a cni0 bridge; each node routes the peer's pod subnet to the peer's node IP. No encapsulation, nodes on one L2 segment.",
  },
  {
    mode: 'calico-bgp',
    title: 'Calico BGP',
    description:
      'Pods behind cali veths with proxy ARP; BIRD exchanges /26 block routes over iBGP and packets cross the underlay unencapsulated.',
  },
  {
    mode: 'calico-ipip',
    title: 'Calico IPIP',
    description:
      'Like Calico BGP, but routes point at tunl0, which adds an outer IPv4 header (protocol 4, +20 B, MTU 1480).',
  },
  {
    mode: 'calico-vxlan',
    title: 'Calico VXLAN',
    description:
      'Pods behind cali veths; Felix routes through vxlan.calico (UDP 4789, VNI 4096, +50 B, MTU 1450) without BGP.',
  },
  {
    mode: 'calico-crosssubnet',
    title: 'Calico CrossSubnet',
    description:
      'Plain BGP routing between nodes on one subnet, IPIP only between nodes on different subnets.',
  },
  {
    mode: 'kubenet',
    title: 'kubenet',
    description:
      "Pods on a cbr0 bridge; routes between node pod CIDRs come from the cloud's route table. No encapsulation.",
  },
];

/** Whether `s` names a CNI mode this module can plan. */
export function isCniMode(s: string): s is CniMode {
  return CNI_MODES.some((m) => m.mode === s);
}

/**
 * The ordered capture points a probe crosses from `input.source` to
 * `input.destination` under `input.mode`; same-node when both run on one node.
 * @throws PlanInputError when a name, address or number in the input is unusable.
 */
export function buildDatapathPlan(input: PlanInput): DatapathPlan {
  switch (input.mode) {
    case 'flannel-vxlan':
      return flannelVxlanPlan(input);
    case 'flannel-host-gw':
      return flannelHostGwPlan(input);
    case 'calico-bgp':
      return calicoBgpPlan(input);
    case 'calico-ipip':
      return calicoIpipPlan(input);
    case 'calico-vxlan':
      return calicoVxlanPlan(input);
    case 'calico-crosssubnet':
      return calicoCrossSubnetPlan(input);
    case 'kubenet':
      return kubenetPlan(input);
  }
}

const LAB_SUBNET = '172.18.0.0/24';

function labNodes(crossSubnet: boolean): NodeInfo[] {
  return [
    {
      name: 'nodeA',
      ip: '172.18.0.5',
      mac: '02:42:ac:12:00:05',
      interface: 'eth0',
      subnet: LAB_SUBNET,
    },
    crossSubnet
      ? // Docker derives the MAC from the IP; keep that rule for the second subnet.
        {
          name: 'nodeB',
          ip: '172.18.1.6',
          mac: '02:42:ac:12:01:06',
          interface: 'eth0',
          subnet: '172.18.1.0/24',
        }
      : {
          name: 'nodeB',
          ip: '172.18.0.6',
          mac: '02:42:ac:12:00:06',
          interface: 'eth0',
          subnet: LAB_SUBNET,
        },
  ];
}

function pod(name: string, node: string, ip: string, extra: Partial<Endpoint>): Endpoint {
  return { kind: 'pod', name, node, ip, interface: 'eth0', ...extra };
}

function labPods(mode: CniMode, sameNode: boolean): [Endpoint, Endpoint] {
  if (mode.startsWith('calico-')) {
    const podA = pod('podA', 'nodeA', '192.168.49.66', {
      mac: '16:4a:9f:d2:30:7b',
      hostInterface: 'cali1f5c8e2a9b3',
    });
    return sameNode
      ? // Second pod of nodeA's block; the lab creates its veth under this name.
        [podA, pod('podB', 'nodeA', '192.168.49.67', { hostInterface: 'cali5e9b0d3a7c2' })]
      : [
          podA,
          pod('podB', 'nodeB', '192.168.231.131', {
            mac: 'be:21:7c:0e:95:d8',
            hostInterface: 'cali7d04b6e1c52',
          }),
        ];
  }
  const podA = pod('podA', 'nodeA', '10.244.0.5', {
    mac: '8a:d1:5c:e2:47:0b',
    hostInterface: 'veth6f3d2a91',
  });
  return sameNode
    ? [podA, pod('podB', 'nodeA', '10.244.0.6', {})]
    : [
        podA,
        pod('podB', 'nodeB', '10.244.1.4', {
          mac: 'ca:7e:03:b9:6d:14',
          hostInterface: 'vethc81b4e07',
        }),
      ];
}

/**
 * The offline lab's addressing for `mode`, identical to the fixtures: nodes
 * 172.18.0.5 / 172.18.0.6 (nodeB moves to 172.18.1.6/24 with `crossSubnet`),
 * Flannel and kubenet pods 10.244.0.5 → 10.244.1.4, Calico pods 192.168.49.66 →
 * 192.168.231.131; with `sameNode` the second pod is on nodeA.
 */
export function defaultPlanInput(
  mode: CniMode,
  options: { sameNode?: boolean; crossSubnet?: boolean; probe?: Probe } = {},
): PlanInput {
  const [source, destination] = labPods(mode, options.sameNode ?? false);
  return {
    mode,
    source,
    destination,
    nodes: labNodes(options.crossSubnet ?? false),
    probe: options.probe ?? { protocol: 'icmp' },
    initialTtl: 64,
  };
}
