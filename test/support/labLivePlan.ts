// The live plan of a lab's pod A → pod B read through a node shell, as tracePods reads it
// (node state, then each pod's host-side link): for the root tests that drive a shell
// directly (kindTrace through the docker stand-in, podShellLab through node-shell pods).
import type { LabDefinition } from '../../src/core/labs/catalog';
import type { LivePlan, NodeStateDump } from '../../src/core/datapath/livePlan';
import { buildLivePlan } from '../../src/core/datapath/livePlan';
import type { NodeShell } from '../../src/platform/shells/nodeShell';
import { readNodeState, readPodLinks } from '../../src/platform/shells/nodeState';

/**
 * Reads `nodes`' state and the two lab pods' links through `shell` and plans pod A → pod B.
 * `nodeName` maps a lab node (nodeA, nodeB) to the node's name in the cluster. Pod A is
 * named `default/<name>` and pod B by its bare name, so both forms are exercised.
 */
export async function labLivePlan(
  shell: NodeShell,
  lab: LabDefinition,
  nodes: readonly string[],
  nodeName: (labNode: string) => string,
): Promise<LivePlan> {
  const [podA, podB] = lab.network.pods;
  if (!podA || !podB) throw new Error(`lab ${lab.id} has fewer than two pods`);
  const state: Record<string, NodeStateDump> = {};
  for (const n of nodes) state[n] = await readNodeState(shell, n);
  return buildLivePlan({
    mode: lab.mode,
    source: {
      name: podA.name,
      node: nodeName(podA.node),
      ip: podA.ip,
      link: await readPodLinks(shell, { node: nodeName(podA.node), pod: `default/${podA.name}` }),
    },
    destination: {
      name: podB.name,
      node: nodeName(podB.node),
      ip: podB.ip,
      link: await readPodLinks(shell, { node: nodeName(podB.node), pod: podB.name }),
    },
    nodes: state,
  });
}
