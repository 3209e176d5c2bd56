/**
 * The labs' daemons: BIRD per node for calico-bgp (started in the node's namespace,
 * recorded in the run's ledger), the wait for BGP to converge, and stopping them.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { runTool, startTool, ToolError } from '../exec/runner';
import type { ToolProcess } from '../exec/runner';
import type { FaultKind, LabDefinition } from '../../core/labs/catalog';
import { renderBirdConfig } from '../../core/labs/birdConfig';
import { birdConfigFor, expectedBgpRoutes, labNamespace } from '../../core/labs/labArgv';
import { bgpEstablished, parseBirdProtocols } from '../../core/netstate/bird';
import { parseIpRoute } from '../../core/netstate/ipRoute';
import { LAB_RUN_DIR, birdFiles } from './labPaths';
import type { RunLedger } from './labRuns';
import { sleep } from './netnsQueries';

const BGP_TIMEOUT_MS = 15_000;

/**
 * Starts one BIRD per node (calico-bgp), recording its files before writing them and
 * its pid as soon as it runs.
 */
export async function startBird(
  lab: LabDefinition,
  fault: FaultKind | undefined,
  signal: AbortSignal | undefined,
  daemons: ToolProcess[],
  ledger: RunLedger,
): Promise<void> {
  await mkdir(LAB_RUN_DIR, { recursive: true, mode: 0o700 });
  for (const node of lab.network.nodes) {
    const ns = labNamespace(lab, node.name);
    const files = birdFiles(ns);
    const conf = renderBirdConfig(birdConfigFor(lab, node, fault, files.log));
    await ledger.addFiles([files.conf, files.socket, files.log]);
    await rm(files.socket, { force: true });
    await writeFile(files.conf, conf);
    const argv = ['ip', 'netns', 'exec', ns, 'bird', '-f', '-c', files.conf, '-s', files.socket];
    // BIRD outlives the CLI: a lab kept with --keep keeps its BGP routes, and the run
    // record lets the next clean-up stop it once this process is gone.
    const proc = startTool(argv, { signal, outliveParent: true });
    daemons.push(proc);
    // `ip netns exec` execs bird in place: the pid is BIRD's
    await ledger.addProcess(await (proc.spawned ?? proc.pid), argv);
  }
}

/** Waits until every node's BGP sessions are Established and the routes are in its kernel. */
export async function waitForBgp(
  lab: LabDefinition,
  fault: FaultKind | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + BGP_TIMEOUT_MS;
  const nodes = lab.network.nodes;
  const pending = new Set(nodes.map((n) => n.name));
  let last = '';
  while (pending.size > 0) {
    for (const node of nodes) {
      if (!pending.has(node.name)) continue;
      const ns = labNamespace(lab, node.name);
      const protocols = await runTool(['birdc', '-s', birdFiles(ns).socket, 'show', 'protocols'], {
        signal,
        timeoutMs: 2000,
      }).then(
        (r) => parseBirdProtocols(r.stdout),
        (e: unknown) => {
          if (e instanceof ToolError && e.kind === 'cancelled') throw e;
          return [];
        },
      );
      if (!bgpEstablished(protocols)) {
        last = `${node.name}: BGP not Established (${protocols.map((p) => `${p.name} ${p.info || p.state}`).join(', ') || 'BIRD not answering'})`;
        continue;
      }
      const wanted = expectedBgpRoutes(lab, node, fault);
      const routes = parseIpRoute(
        (await runTool(['ip', '-n', ns, 'route', 'show', 'proto', 'bird'], { signal })).stdout,
      );
      const missing = wanted.filter(
        (w) => !routes.some((r) => r.destination === w && r.type === 'unicast'),
      );
      if (missing.length === 0) pending.delete(node.name);
      else last = `${node.name}: Established but ${missing.join(', ')} not yet in the kernel`;
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline)
      throw new Error(`BGP did not converge within ${BGP_TIMEOUT_MS / 1000} s (${last})`);
    await sleep(100, signal);
  }
}

/** SIGTERM, then SIGKILL after 2 s for any daemon still running. */
export async function stopDaemons(daemons: readonly ToolProcess[]): Promise<void> {
  await Promise.all(
    daemons.map(async (d) => {
      d.stop('SIGTERM');
      const exited = await Promise.race([
        d.done.then(
          () => true,
          () => true,
        ),
        sleep(2000).then(() => false),
      ]);
      if (!exited) d.stop('SIGKILL');
    }),
  );
}
