/**
 * Reads what a built lab's nodes and pods look like (routes, neighbours, VXLAN
 * forwarding entries, links and MTUs) through its NodeShell, keeps the dumps next to
 * the captures (`state/nodeA.route.txt` …, so a person can read what the explanation
 * read), and parses them for the core. Works for any NodeShell: a kind node or a
 * node pod answers the same commands.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeState, NodeStateDumps } from '../../core/netstate/nodeState';
import { parseNodeState } from '../../core/netstate/nodeState';
import type { NodeShell, ShellTarget } from '../shells/nodeShell';

export interface StatePlace {
  name: string;
  kind: 'node' | 'pod';
  target: ShellTarget;
}

const NODE_DUMPS: Record<'route' | 'neigh' | 'fdb' | 'addr', string[]> = {
  route: ['ip', 'route', 'show'],
  neigh: ['ip', 'neigh', 'show'],
  fdb: ['bridge', 'fdb', 'show'],
  addr: ['ip', '-d', 'addr', 'show'],
};
const POD_DUMPS: Partial<typeof NODE_DUMPS> = {
  route: NODE_DUMPS.route,
  addr: NODE_DUMPS.addr,
};

/**
 * Dumps and parses the state of every place; a dump that fails is left out (an empty
 * table) rather than failing the run: the explanation then says less, not something wrong.
 * With `outDir`, each dump is written to `<outDir>/state/<place>.<what>.txt`.
 */
export async function readNodeStates(
  shell: NodeShell,
  places: readonly StatePlace[],
  options: { outDir?: string; signal?: AbortSignal } = {},
): Promise<NodeState[]> {
  const dir = options.outDir ? join(options.outDir, 'state') : undefined;
  if (dir) await mkdir(dir, { recursive: true });
  return Promise.all(
    places.map(async (place) => {
      const dumps: NodeStateDumps = { name: place.name, kind: place.kind };
      const wanted = place.kind === 'node' ? NODE_DUMPS : POD_DUMPS;
      for (const [what, argv] of Object.entries(wanted) as [keyof NodeStateDumps, string[]][]) {
        options.signal?.throwIfAborted();
        try {
          const r = await shell.run(place.target, argv, {
            signal: options.signal,
            timeoutMs: 5000,
          });
          (dumps as unknown as Record<string, string>)[what] = r.stdout;
          if (dir) await writeFile(join(dir, `${place.name}.${what}.txt`), r.stdout);
        } catch (err) {
          if (options.signal?.aborted) throw err;
        }
      }
      return parseNodeState(dumps);
    }),
  );
}
