/**
 * Finds the lab clusters Podpath made: `kind get clusters`, then each cluster's node
 * labels through kubectl (the kind config labels every node `podpath.dev/lab=<name>`).
 * A cluster whose labels cannot be read is kept only when Podpath wrote its files
 * (the caller passes those names). Nothing here imports vscode.
 */
import {
  labClusterRows,
  labMarkerFromNodes,
  labNodesArgv,
  parseKindClusters,
  type LabClusterRow,
  type LabMarker,
} from '../../core/kindlab/labClusters';
import { runTool, ToolError } from '../exec/runner';
import type { StepRunner } from './kindLab';

export interface ListLabClustersOptions {
  signal?: AbortSignal;
  run?: StepRunner;
  /** Names of labs whose files Podpath wrote (e.g. folders under .podpath/kind). */
  known?: ReadonlySet<string>;
}

function reason(err: unknown): Error {
  if (err instanceof ToolError) {
    const last = err.stderr.trim().split('\n').pop();
    return new Error(
      err.kind === 'not-found'
        ? `${err.argv[0] ?? '?'} is not installed or not on PATH`
        : (last ?? err.message),
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * The Labs view's rows for the lab clusters on this machine.
 * @throws ToolError when `kind get clusters` itself fails (kind missing, Docker down).
 */
export async function listLabClusters(
  options: ListLabClustersOptions = {},
): Promise<LabClusterRow[]> {
  const run: StepRunner = options.run ?? ((argv, o) => runTool(argv, o));
  const { stdout } = await run(['kind', 'get', 'clusters'], {
    signal: options.signal,
    timeoutMs: 30_000,
  });
  const clusters = parseKindClusters(stdout);
  const markers = new Map<string, LabMarker | Error>();
  await Promise.all(
    clusters.map(async (name) => {
      try {
        const nodes = await run(labNodesArgv(name), {
          signal: options.signal,
          timeoutMs: 30_000,
        });
        markers.set(name, labMarkerFromNodes(nodes.stdout, name));
      } catch (err) {
        markers.set(name, reason(err));
      }
    }),
  );
  return labClusterRows(clusters, markers, options.known);
}
