/**
 * Ownership of what a lab run makes. Each run writes /run/pp-lab/runs/<runId>.json
 * and adds to it *before* it creates each namespace or link and right after it starts
 * each process, so a crash at any point leaves a record of everything that may exist.
 * Tearing a run down removes exactly what its record lists, then the record;
 * cleanLeftovers does that for runs whose owning process is gone, and touches nothing
 * that no record lists: a `pp-` name alone proves nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabDefinition } from '../../core/labs/catalog';
import type {
  CleanupReport,
  ProcessIdentity,
  RecordedLink,
  RunRecord,
} from '../../core/labs/runRecord';
import {
  LAB_PREFIX,
  emptyCleanupReport,
  mergeCleanupReports,
  parseRunRecord,
} from '../../core/labs/runRecord';
import { runTool, ToolError } from '../exec/runner';
import { LAB_RUN_DIR, RUNS_DIR, runRecordPath } from './labPaths';
import { removeDeadLocks, selfIdentity } from './labLocks';
import {
  isRunning,
  listNamespaces,
  listRootLinks,
  namespaceInode,
  namespacePids,
  processIdentity,
  sleep,
} from './netnsQueries';

/**
 * The record of one run, written through on every change. Writes are serialised (a
 * build creates several namespaces at once) and atomic (temp file, then rename), so a
 * reader never sees half a record.
 */
export class RunLedger {
  private data: RunRecord;
  private writing: Promise<void> = Promise.resolve();
  private removed = false;

  private constructor(data: RunRecord) {
    this.data = data;
  }

  /** Starts the record of a new run of `lab`, owned by this process. */
  static async open(lab: LabDefinition, now: Date = new Date()): Promise<RunLedger> {
    const owner = await selfIdentity();
    const runId = `${lab.id}-${now.getTime().toString(36)}-${randomBytes(3).toString('hex')}`;
    const ledger = new RunLedger({
      version: 1,
      runId,
      lab: lab.id,
      short: lab.network.short,
      owner,
      startedAt: now.toISOString(),
      namespaces: [],
      links: [],
      processes: [],
      files: [],
    });
    await mkdir(RUNS_DIR, { recursive: true, mode: 0o700 });
    await ledger.save();
    return ledger;
  }

  get runId(): string {
    return this.data.runId;
  }

  /** A copy of the record as it stands. */
  get record(): RunRecord {
    return structuredClone(this.data);
  }

  private save(): Promise<void> {
    const next = this.writing.then(async () => {
      if (this.removed) return;
      const file = runRecordPath(this.data.runId);
      const tmp = `${file}.tmp`;
      await writeFile(tmp, JSON.stringify(this.data, null, 1) + '\n', { mode: 0o600 });
      await rename(tmp, file);
    });
    // a failed write must not stop later ones; the caller of this one sees the error
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Call before `ip netns add`: the names are then ours even if an add is cut short. */
  async addNamespaces(names: readonly string[]): Promise<void> {
    for (const name of names)
      if (!this.data.namespaces.some((n) => n.name === name)) this.data.namespaces.push({ name });
    await this.save();
  }

  /**
   * Call once `ip netns add` succeeded: the inode is kept, and clean-up later deletes the
   * name only while it still names this namespace.
   */
  async namespacesCreated(names: readonly string[]): Promise<void> {
    const inodes = await Promise.all(names.map((n) => namespaceInode(n)));
    names.forEach((name, i) => {
      const entry = this.data.namespaces.find((n) => n.name === name);
      const inode = inodes[i];
      if (entry && inode !== undefined) entry.inode = inode;
    });
    await this.save();
  }

  /** Call when a create failed for certain (the tool said no): the name is not ours. */
  async forgetNamespace(name: string): Promise<void> {
    this.data.namespaces = this.data.namespaces.filter((n) => n.name !== name);
    await this.save();
  }

  /** Call before `ip link add` (one write for a whole step's links). */
  async addLinks(links: readonly RecordedLink[]): Promise<void> {
    if (links.length === 0) return;
    this.data.links.push(...links);
    await this.save();
  }

  async forgetLink(link: RecordedLink): Promise<void> {
    this.data.links = this.data.links.filter(
      (l) => !(l.name === link.name && l.namespace === link.namespace),
    );
    await this.save();
  }

  /** Call right after starting a process (a daemon, a capture). */
  async addProcess(pid: number | undefined, argv: readonly string[]): Promise<void> {
    if (pid === undefined) return;
    const id = await processIdentity(pid);
    if (!id) return; // already exited: nothing to stop later
    this.data.processes.push({ ...id, argv: [...argv] });
    await this.save();
  }

  /** Call before writing files under the lab run folder. */
  async addFiles(files: readonly string[]): Promise<void> {
    this.data.files.push(...files.filter((f) => !this.data.files.includes(f)));
    await this.save();
  }

  /** Removes everything the record lists, then the record. */
  async teardown(): Promise<CleanupReport> {
    // no more writes: one landing after removeRun would bring the record back
    this.removed = true;
    await this.writing;
    return removeRun(this.record);
  }
}

/** Every readable run record, and a sentence for each file that is not one. */
export async function readRuns(): Promise<{ runs: RunRecord[]; unreadable: string[] }> {
  let entries: string[];
  try {
    entries = await readdir(RUNS_DIR);
  } catch {
    return { runs: [], unreadable: [] };
  }
  const runs: RunRecord[] = [];
  const unreadable: string[] = [];
  for (const e of entries.sort()) {
    if (!e.endsWith('.json')) continue;
    const file = path.join(RUNS_DIR, e);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue; // removed meanwhile by its run's teardown
    }
    const parsed = parseRunRecord(text, LAB_RUN_DIR);
    if (typeof parsed === 'string')
      unreadable.push(`${file}: not a Podpath run record (${parsed}); left it and all it names`);
    else runs.push(parsed);
  }
  return { runs, unreadable };
}

async function killProcesses(ids: readonly ProcessIdentity[]): Promise<number[]> {
  const mine: ProcessIdentity[] = [];
  for (const id of ids) if (await isRunning(id)) mine.push(id);
  for (const { pid } of mine) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const until = Date.now() + 1000;
  const stillRunning = async (): Promise<ProcessIdentity[]> => {
    const left: ProcessIdentity[] = [];
    for (const id of mine) if (await isRunning(id)) left.push(id);
    return left;
  };
  let left = await stillRunning();
  while (left.length > 0 && Date.now() < until) {
    await sleep(20);
    left = await stillRunning();
  }
  for (const { pid } of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  return mine.map((p) => p.pid);
}

/**
 * Removes what `record` lists and then the record: its processes (only while the pid
 * still names the same process), its namespaces (only while the name still names the
 * namespace it made), its root-namespace links and its files.
 */
export async function removeRun(record: RunRecord): Promise<CleanupReport> {
  const report = emptyCleanupReport();
  const run = `run ${record.runId}`;
  report.processes = await killProcesses(record.processes);

  const existing = new Set(await listNamespaces());
  const recordedPids = new Set(record.processes.map((p) => p.pid));
  await Promise.all(
    record.namespaces.map(async ({ name, inode }) => {
      if (!existing.has(name)) return;
      if (inode !== undefined && (await namespaceInode(name)) !== inode) {
        report.leftAlone.push(`${name}: not the namespace ${run} made (it was made again since)`);
        return;
      }
      // a person's shell in the lab (`ip netns exec … bash`) is not ours to kill:
      // deleting the name leaves it running in the (now unnamed) namespace
      const others = (await namespacePids(name).catch(() => [])).filter(
        (p) => !recordedPids.has(p) && p !== process.pid,
      );
      if (others.length > 0)
        report.leftAlone.push(
          `processes ${others.join(', ')} in ${name}: no Podpath run started them`,
        );
      await runTool(['ip', 'netns', 'del', name], { timeoutMs: 10_000 }).then(
        () => report.namespaces.push(name),
        (e: unknown) => report.leftAlone.push(`${name}: \`ip netns del\` failed (${errorText(e)})`),
      );
    }),
  );

  const rootLinks = record.links.filter((l) => l.namespace === undefined).map((l) => l.name);
  if (rootLinks.length > 0) {
    const present = new Set(await listRootLinks());
    for (const name of rootLinks.filter((l) => present.has(l)))
      await runTool(['ip', 'link', 'del', name], { timeoutMs: 10_000 }).then(
        () => report.links.push(name),
        (e: unknown) => report.leftAlone.push(`link ${name}: delete failed (${errorText(e)})`),
      );
  }

  for (const f of record.files) {
    try {
      await rm(f);
      report.files.push(f);
    } catch {
      /* never written, or gone */
    }
  }
  await rm(runRecordPath(record.runId), { force: true });
  report.runs.push(record.runId);
  return report;
}

function errorText(e: unknown): string {
  if (e instanceof ToolError) return e.stderr.trim().split('\n')[0] || e.message;
  return e instanceof Error ? e.message : String(e);
}

/** Which runs the current process may remove: those whose owner is gone. */
async function deadRuns(runs: readonly RunRecord[], report: CleanupReport): Promise<RunRecord[]> {
  const dead: RunRecord[] = [];
  for (const r of runs) {
    if (await isRunning(r.owner))
      report.leftAlone.push(
        `run ${r.runId} (${r.lab}) is alive (pid ${r.owner.pid}): ${r.namespaces.map((n) => n.name).join(', ') || 'nothing built yet'}`,
      );
    else dead.push(r);
  }
  return dead;
}

/**
 * Removes what Podpath runs whose process is gone left behind (a crash, a kill, a
 * `--keep` run from a terminal), and says what it removed and what it left alone:
 * runs that are alive, and every `pp-` namespace or root link no record lists.
 */
export async function cleanLeftovers(
  options: { signal?: AbortSignal } = {},
): Promise<CleanupReport> {
  const { signal } = options;
  const cancelled = (): boolean => signal?.aborted === true;
  // names first, records second: a run that starts in between is then never called foreign
  const namespaces = await listNamespaces(signal);
  const links = await listRootLinks(signal);
  const { runs, unreadable } = await readRuns();
  let report = emptyCleanupReport();
  report.leftAlone.push(...unreadable);
  for (const run of await deadRuns(runs, report)) {
    if (cancelled()) throw new ToolError('cancelled', ['cleanLeftovers'], null, '');
    report = mergeCleanupReports(report, await removeRun(run));
  }
  report.files.push(...(await removeDeadLocks()));

  const recordedNs = new Set(runs.flatMap((r) => r.namespaces.map((n) => n.name)));
  const recordedLinks = new Set(
    runs.flatMap((r) => r.links.filter((l) => l.namespace === undefined).map((l) => l.name)),
  );
  for (const ns of namespaces.filter((n) => n.startsWith(LAB_PREFIX) && !recordedNs.has(n)))
    report.leftAlone.push(`namespace ${ns}: no Podpath run recorded it`);
  for (const l of links.filter((n) => n.startsWith(LAB_PREFIX) && !recordedLinks.has(n)))
    report.leftAlone.push(`link ${l}: no Podpath run recorded it`);
  return report;
}

/**
 * Removes the runs of `lab` that are leftovers before a new build: those whose owner is
 * gone, and those of this very process (a kept run the extension host replaces).
 */
export async function removeStaleRunsOf(lab: LabDefinition): Promise<CleanupReport> {
  const { runs } = await readRuns();
  const me = await selfIdentity();
  let report = emptyCleanupReport();
  const sameLab = (r: RunRecord): boolean => r.short === lab.network.short;
  for (const r of runs.filter(sameLab)) {
    const mine = r.owner.pid === me.pid && r.owner.startTime === me.startTime;
    if (mine || !(await isRunning(r.owner)))
      report = mergeCleanupReports(report, await removeRun(r));
  }
  return report;
}
