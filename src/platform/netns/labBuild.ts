/**
 * Builds and tears down the offline lab topologies (src/core/labs/catalog.ts) in
 * network namespaces: an underlay namespace with a bridge as the switch, a namespace
 * per node and per pod, and whatever the CNI mode programs (cni0, flannel.1, cali*
 * with proxy ARP, vxlan.calico, BIRD daemons). The commands come from
 * src/core/labs/labArgv.ts; this module runs them (the lists for different
 * namespaces concurrently), and records everything it makes in the run's ledger
 * (labRuns.ts) before making it, so teardown and clean-up remove exactly that.
 */
import { runTool, ToolError } from '../exec/runner';
import type { RunOptions, RunResult, ToolProcess } from '../exec/runner';
import type { NodeShell, ShellTarget } from '../shells/nodeShell';
import { NetnsNodeShell } from '../shells/netnsShell';
import type { FaultKind, LabDefinition } from '../../core/labs/catalog';
import type { PlanInput } from '../../core/datapath/types';
import type { CleanupReport } from '../../core/labs/runRecord';
import { linkCreatedBy } from '../../core/labs/runRecord';
import {
  UNDERLAY_ROLE,
  clientCommands,
  faultCommands,
  labNamespace,
  labNamespaces,
  nodeCommands,
  podCommands,
  underlayCommands,
  underlayPortCommands,
} from '../../core/labs/labArgv';
import type { LabInterface, LabInventory } from '../../core/labs/labInventory';
import { fillPlanInput, toInterfaces } from '../../core/labs/labInventory';
import { acquireLabLock, releaseLabLock } from './labLocks';
import { RunLedger, removeStaleRunsOf } from './labRuns';
import { startBird, stopDaemons, waitForBgp } from './labDaemons';
import { listNamespaces } from './netnsQueries';

export type { LabInterface, LabInventory };

export interface LabTopology {
  lab: LabDefinition;
  runId: string;
  /** `{node:'nodeA'}` → node namespace, `{node:'nodeA', pod:'podA'}` → pod namespace, `{node:'underlay'}` → the switch. */
  shell: NodeShell;
  /** All created, every name starts with `pp-`. */
  namespaces: string[];
  /** The run's record of everything it made; teardown removes exactly that. */
  ledger: RunLedger;
  inventory: LabInventory;
  /** lab.planInput with the real MACs and names filled in. */
  planInput: PlanInput;
  fault?: FaultKind;
  timings: { buildMs: number };
  /** BIRD daemons (calico-bgp), stopped by teardownLab. */
  daemons: ToolProcess[];
}

/** Raised when a build step fails; the topology has already been removed. */
export class LabBuildError extends Error {
  readonly step: string;
  override readonly cause: unknown;
  constructor(labId: string, step: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`Building lab ${labId} failed at "${step}" (everything it created was removed): ${why}`);
    this.name = 'LabBuildError';
    this.step = step;
    this.cause = cause;
  }
}

/** Runs argv lists one after the other (their links are already recorded, see runParallel). */
async function runSequence(
  cmds: readonly string[][],
  ledger: RunLedger,
  signal?: AbortSignal,
): Promise<void> {
  for (const argv of cmds) {
    try {
      await runTool(argv, { signal, timeoutMs: 10_000 });
    } catch (e) {
      // `ip` refused to make a root-namespace link: a link of that name is someone else's
      const link = linkCreatedBy(argv);
      if (link && link.namespace === undefined && e instanceof ToolError && e.kind === 'exit')
        await ledger.forgetLink(link);
      throw e;
    }
  }
}

/**
 * Runs independent sequences concurrently; waits for all, then throws the first failure.
 * Every link they create is recorded in the run's ledger first, in one write.
 */
async function runParallel(
  seqs: readonly string[][][],
  ledger: RunLedger,
  signal?: AbortSignal,
): Promise<void> {
  await ledger.addLinks(
    seqs.flat().flatMap((argv) => {
      const link = linkCreatedBy(argv);
      return link ? [link] : [];
    }),
  );
  const results = await Promise.allSettled(seqs.map((s) => runSequence(s, ledger, signal)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

async function readInterfaces(ns: string, signal?: AbortSignal): Promise<LabInterface[]> {
  const r = await runTool(['ip', '-d', '-n', ns, 'addr', 'show'], { signal });
  return toInterfaces(r.stdout);
}

/**
 * Builds `lab` in network namespaces, recording each thing in a run record before it
 * makes it. Removes this lab's own leftovers (runs whose process is gone) first, and
 * refuses to start when a namespace it needs exists and no run recorded it. On any
 * failure or abort it removes everything it made, then throws: a ToolError of kind
 * `cancelled` on abort, a LabBuildError otherwise.
 */
export async function buildLab(
  lab: LabDefinition,
  options: { signal?: AbortSignal; onProgress?: (step: string) => void; fault?: FaultKind } = {},
): Promise<LabTopology> {
  const { signal, onProgress, fault } = options;
  const started = Date.now();
  if (fault !== undefined && !lab.faults.includes(fault))
    throw new Error(
      `Fault ${fault} does not apply to lab ${lab.id} (it supports: ${lab.faults.join(', ') || 'none'})`,
    );
  const planned = labNamespaces(lab);
  const daemons: ToolProcess[] = [];
  let locked = false;
  let ledger: RunLedger | undefined;
  let step = 'remove leftovers of this lab';
  const progress = (s: string): void => {
    step = s;
    onProgress?.(s);
  };
  const checkAbort = (): void => {
    if (signal?.aborted) throw new ToolError('cancelled', ['buildLab', lab.id], null, '');
  };

  try {
    progress('wait for the lab to be free');
    await acquireLabLock(lab, signal);
    locked = true;
    progress('remove leftovers of this lab');
    await removeStaleRunsOf(lab);
    const taken = (await listNamespaces(signal)).filter((n) => planned.includes(n));
    if (taken.length > 0)
      throw new Error(
        `${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''} and no Podpath run recorded ${taken.length === 1 ? 'it' : 'them'}: Podpath leaves what it did not make alone; remove ${taken.length === 1 ? 'it' : 'them'} yourself (\`ip netns del NAME\`) if ${taken.length === 1 ? 'it is' : 'they are'} not in use`,
      );
    const run = await RunLedger.open(lab);
    ledger = run;
    checkAbort();

    progress('create namespaces');
    await run.addNamespaces(planned);
    const created = await Promise.allSettled(
      planned.map(async (ns) => {
        try {
          await runTool(['ip', 'netns', 'add', ns], { signal, timeoutMs: 10_000 });
        } catch (e) {
          // refused: not made, so not ours; cut short: it may exist, so it stays recorded
          if (e instanceof ToolError && e.kind === 'exit') await run.forgetNamespace(ns);
          throw e;
        }
      }),
    );
    await run.namespacesCreated(planned);
    const failed = created.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    checkAbort();

    progress('underlay switch');
    await runParallel([underlayCommands(lab)], run, signal);
    await runParallel(
      [
        ...lab.network.nodes.map((n) => underlayPortCommands(lab, n)),
        ...(lab.network.clients ?? []).map((c) => clientCommands(lab, c)),
      ],
      run,
      signal,
    );
    checkAbort();

    progress('nodes');
    await runParallel(
      lab.network.nodes.map((n) => nodeCommands(lab, n, fault)),
      run,
      signal,
    );
    checkAbort();

    progress('pods');
    await runParallel(
      lab.network.pods.map((p) => podCommands(lab, p, fault)),
      run,
      signal,
    );
    await runParallel([faultCommands(lab, fault)], run, signal);
    checkAbort();

    if (lab.network.routing === 'calico-bgp') {
      progress('start BIRD');
      await startBird(lab, fault, signal, daemons, run);
      progress('wait for BGP Established and routes');
      await waitForBgp(lab, fault, signal);
    }
    checkAbort();

    progress('inventory');
    const nodes = await Promise.all(
      lab.network.nodes.map(async (n) => {
        const namespace = labNamespace(lab, n.name);
        return { name: n.name, namespace, interfaces: await readInterfaces(namespace, signal) };
      }),
    );
    const pods = await Promise.all(
      lab.network.pods.map(async (p) => {
        const namespace = labNamespace(lab, p.name);
        return {
          name: p.name,
          node: p.node,
          namespace,
          interfaces: await readInterfaces(namespace, signal),
        };
      }),
    );
    checkAbort();

    const byTarget = new Map<string, string>();
    byTarget.set('underlay', labNamespace(lab, UNDERLAY_ROLE));
    for (const n of nodes) byTarget.set(n.name, n.namespace);
    for (const p of pods) byTarget.set(`${p.node}/${p.name}`, p.namespace);
    // a Service lab's outside client is addressed like a node: `{node:'client'}`
    for (const c of lab.network.clients ?? []) byTarget.set(c.name, labNamespace(lab, c.name));
    const netns = new NetnsNodeShell((t: ShellTarget) => {
      const key = t.pod !== undefined ? `${t.node}/${t.pod}` : t.node;
      const ns = byTarget.get(key);
      if (!ns)
        throw new Error(
          `lab ${lab.id} has no ${t.pod !== undefined ? `pod ${t.pod} on ` : ''}node ${t.node}`,
        );
      return ns;
    });

    const topology: LabTopology = {
      lab,
      runId: run.runId,
      shell: recordingShell(netns, run),
      namespaces: [...planned],
      ledger: run,
      inventory: { nodes, pods },
      planInput: fillPlanInput(lab.planInput, { nodes, pods }),
      timings: { buildMs: Date.now() - started },
      daemons,
    };
    if (fault !== undefined) topology.fault = fault;
    return topology;
  } catch (e) {
    await stopDaemons(daemons).catch(() => undefined);
    // the record lists everything this run made, including a namespace whose
    // `ip netns add` was cancelled after it had made it
    if (ledger) await ledger.teardown().catch(() => undefined);
    if (locked) await releaseLabLock(lab).catch(() => undefined);
    if (signal?.aborted || (e instanceof ToolError && e.kind === 'cancelled'))
      throw e instanceof ToolError && e.kind === 'cancelled'
        ? e
        : new ToolError('cancelled', ['buildLab', lab.id], null, '');
    throw new LabBuildError(lab.id, step, e);
  }
}

/**
 * Wraps the lab's shell so every process it starts (tcpdump, iperf3) is recorded with
 * the run: if the owner dies mid-capture, clean-up stops exactly those.
 */
function recordingShell(inner: NodeShell, ledger: RunLedger): NodeShell {
  return {
    kind: inner.kind,
    run: (target: ShellTarget, argv: readonly string[], options?: RunOptions): Promise<RunResult> =>
      inner.run(target, argv, options),
    start: (target: ShellTarget, argv: readonly string[], options?: RunOptions): ToolProcess => {
      const proc = inner.start(target, argv, options);
      void Promise.resolve(proc.spawned ?? proc.pid)
        .then((pid) => ledger.addProcess(pid, argv))
        .catch(() => undefined);
      return proc;
    },
  };
}

/**
 * Stops the lab's daemons and removes exactly what its run record lists (namespaces
 * and everything in them, links, files), then the record and the lab's lock.
 */
export async function teardownLab(
  topology: LabTopology,
): Promise<{ durationMs: number; report: CleanupReport }> {
  const started = Date.now();
  await stopDaemons(topology.daemons);
  const report = await topology.ledger.teardown();
  await releaseLabLock(topology.lab);
  return { durationMs: Date.now() - started, report };
}
