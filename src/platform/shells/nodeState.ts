/**
 * Reads what the live datapath plan needs from a node (and from a pod's network
 * namespace) through any NodeShell: the text of `ip -d link`, `ip addr`,
 * `ip route`, `ip neigh` and `bridge fdb`, the same commands the walkthroughs
 * run by hand in each node.
 */
import type { NodeStateDump } from '../../core/datapath/livePlan';
import type { NodeShell, ShellTarget } from './nodeShell';

/** The argv behind each field of a NodeStateDump. */
export const NODE_STATE_COMMANDS: Readonly<Record<keyof NodeStateDump, readonly string[]>> = {
  link: ['ip', '-d', 'link', 'show'],
  addr: ['ip', 'addr', 'show'],
  route: ['ip', 'route', 'show'],
  neigh: ['ip', 'neigh', 'show'],
  fdb: ['bridge', 'fdb', 'show'],
};

/** Runs the five state commands on `node` at once and returns their output. */
export async function readNodeState(
  shell: NodeShell,
  node: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<NodeStateDump> {
  const keys = Object.keys(NODE_STATE_COMMANDS) as (keyof NodeStateDump)[];
  const outputs = await Promise.all(
    keys.map((k) =>
      shell.run({ node }, NODE_STATE_COMMANDS[k], {
        signal: options.signal,
        timeoutMs: options.timeoutMs ?? 15_000,
      }),
    ),
  );
  const dump: NodeStateDump = { link: '', addr: '', route: '', neigh: '', fdb: '' };
  keys.forEach((k, i) => (dump[k] = outputs[i]?.stdout ?? ''));
  return dump;
}

/**
 * `ip -d link show` inside a pod's network namespace: its eth0 with the peer
 * ifindex (`eth0@if4`). Read with ip rather than /sys/class/net/eth0/iflink
 * because a shell that only enters the network namespace still sees the node's /sys.
 */
export async function readPodLinks(
  shell: NodeShell,
  target: ShellTarget,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<string> {
  const result = await shell.run(target, ['ip', '-d', 'link', 'show'], {
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? 15_000,
  });
  return result.stdout;
}
