/**
 * What a built lab has, as the Labs view and the datapath plan need it: each node's and
 * pod's interfaces (read back with `ip -d addr show`) and the plan input filled with
 * the real MACs.
 */
import type { PlanInput } from '../datapath/types';
import { parseIpAddr } from '../netstate/ipLink';

export interface LabInterface {
  name: string;
  mac: string;
  ipv4?: string;
  mtu: number;
  kind: string;
}

export interface LabInventory {
  nodes: { name: string; namespace: string; interfaces: LabInterface[] }[];
  pods: { name: string; node: string; namespace: string; interfaces: LabInterface[] }[];
}

/** Interfaces of `ip -d addr show` output as the Labs view shows them (lo left out). */
export function toInterfaces(text: string): LabInterface[] {
  return parseIpAddr(text)
    .filter((l) => l.name !== 'lo')
    .map((l) => {
      const iface: LabInterface = {
        name: l.name,
        mac: l.mac ?? '',
        mtu: l.mtu,
        kind: l.kind ?? l.linkType ?? '',
      };
      const v4 = l.addresses.find((a) => a.family === 'inet');
      if (v4) iface.ipv4 = `${v4.address}/${v4.prefixLength}`;
      return iface;
    });
}

/** `input` with the MACs the built lab really has (from its inventory). */
export function fillPlanInput(input: PlanInput, inventory: LabInventory): PlanInput {
  const { nodes, pods } = inventory;
  const podMac = (name: string): string | undefined =>
    pods.find((p) => p.name === name)?.interfaces.find((i) => i.name === 'eth0')?.mac;
  const nodeMac = (name: string): string | undefined =>
    nodes.find((n) => n.name === name)?.interfaces.find((i) => i.name === 'eth0')?.mac;
  return {
    ...input,
    source: { ...input.source, mac: podMac(input.source.name) ?? input.source.mac },
    destination: {
      ...input.destination,
      mac: podMac(input.destination.name) ?? input.destination.mac,
    },
    nodes: input.nodes.map((n) => ({ ...n, mac: nodeMac(n.name) ?? n.mac })),
  };
}
