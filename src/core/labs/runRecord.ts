/**
 * What a lab run owns, as data: the run record written under /run/pp-lab/runs/
 * (src/platform/netns/labRuns.ts), its validation, and the clean-up report. The
 * record is the only thing clean-up trusts: a `pp-` name alone proves nothing, since
 * another tool (or a person) may use the same prefix.
 */

/** Everything the labs create carries this prefix (namespaces, links, files). */
export const LAB_PREFIX = 'pp-';

/** A process told apart from a later one that reuses its pid: /proc/<pid>/stat field 22. */
export interface ProcessIdentity {
  pid: number;
  /** Clock ticks after boot when the process started. */
  startTime: number;
}

export interface RecordedNamespace {
  name: string;
  /** Inode of /run/netns/<name> once created; absent while `ip netns add` runs. */
  inode?: number;
}

export interface RecordedLink {
  name: string;
  /** The namespace it was created in; absent for the root namespace. */
  namespace?: string;
}

export interface RecordedProcess extends ProcessIdentity {
  argv: string[];
}

export interface RunRecord {
  version: 1;
  runId: string;
  /** Lab id (`flannel-vxlan`) and its short name (`fv`, the namespace prefix). */
  lab: string;
  short: string;
  /** The process that built the run; the run is a leftover once it is gone. */
  owner: ProcessIdentity;
  /** ISO time the run started (for people reading the file). */
  startedAt: string;
  namespaces: RecordedNamespace[];
  links: RecordedLink[];
  processes: RecordedProcess[];
  /** Absolute paths under the lab run folder (BIRD configs, sockets, logs). */
  files: string[];
}

/** What a clean-up removed, and what it left alone and why (one sentence each). */
export interface CleanupReport {
  /** Run ids whose record was removed. */
  runs: string[];
  namespaces: string[];
  links: string[];
  processes: number[];
  files: string[];
  leftAlone: string[];
}

/** An empty report, to add to. */
export function emptyCleanupReport(): CleanupReport {
  return { runs: [], namespaces: [], links: [], processes: [], files: [], leftAlone: [] };
}

/** Adds `b` into `a` (both kept in order, no duplicates). */
export function mergeCleanupReports(a: CleanupReport, b: CleanupReport): CleanupReport {
  const union = <T>(x: readonly T[], y: readonly T[]): T[] => [...new Set([...x, ...y])];
  return {
    runs: union(a.runs, b.runs),
    namespaces: union(a.namespaces, b.namespaces),
    links: union(a.links, b.links),
    processes: union(a.processes, b.processes),
    files: union(a.files, b.files),
    leftAlone: union(a.leftAlone, b.leftAlone),
  };
}

/** True when the clean-up removed nothing. */
export function removedNothing(r: CleanupReport): boolean {
  return (
    r.runs.length + r.namespaces.length + r.links.length + r.processes.length + r.files.length === 0
  );
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The report in lines a person reads (CLI, output channel): first what was removed,
 * by name, then each thing left alone with its reason.
 */
export function describeCleanup(r: CleanupReport): string[] {
  const lines: string[] = [];
  if (removedNothing(r)) lines.push('Nothing to remove: no dead Podpath run left anything.');
  else {
    lines.push(
      `Removed ${plural(r.runs.length, 'dead run')}: ${plural(r.namespaces.length, 'namespace')}, ${plural(r.links.length, 'link')}, ${plural(r.processes.length, 'process', 'processes')}, ${plural(r.files.length, 'file')}.`,
    );
    if (r.runs.length > 0) lines.push(`  runs: ${r.runs.join(', ')}`);
    if (r.namespaces.length > 0) lines.push(`  namespaces: ${r.namespaces.join(', ')}`);
    if (r.links.length > 0) lines.push(`  links: ${r.links.join(', ')}`);
    if (r.processes.length > 0) lines.push(`  processes: ${r.processes.join(', ')}`);
    if (r.files.length > 0) lines.push(`  files: ${r.files.join(', ')}`);
  }
  for (const why of r.leftAlone) lines.push(`Left alone: ${why}`);
  return lines;
}

/**
 * State (field 3) and start time (field 22) from the text of /proc/<pid>/stat, or
 * undefined when unreadable.
 */
export function parseProcStat(stat: string): { state: string; startTime: number } | undefined {
  // field 2 is the command in parentheses and may hold spaces and ')': split after the last ')'
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state), so field 22 is rest[19]
  const state = rest[0];
  const startTime = Number(rest[19]);
  if (state === undefined || !Number.isSafeInteger(startTime) || startTime < 0) return undefined;
  return { state, startTime };
}

/**
 * The link an `ip [-n NS] link add NAME …` argv creates, so a build records it before
 * running it; undefined for any other command.
 */
export function linkCreatedBy(argv: readonly string[]): RecordedLink | undefined {
  if (argv[0] !== 'ip') return undefined;
  let i = 1;
  let namespace: string | undefined;
  if (argv[i] === '-n') {
    namespace = argv[i + 1];
    i += 2;
  }
  if (argv[i] !== 'link' || argv[i + 1] !== 'add') return undefined;
  const name = argv[i + 2];
  if (name === undefined) return undefined;
  return namespace === undefined ? { name } : { name, namespace };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPid(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isTicks(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function labName(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith(LAB_PREFIX) && /^[\w.-]{1,64}$/.test(v);
}

/**
 * Validates a run record read from disk. Names must carry the lab prefix and files
 * must sit under `runDir`, so that a damaged or planted record can never make clean-up
 * delete `eth0` or `/etc`. Returns the record or one sentence saying what is wrong.
 */
export function parseRunRecord(text: string, runDir: string): RunRecord | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `not JSON (${e instanceof Error ? e.message : String(e)})`;
  }
  if (!isObject(v)) return 'not an object';
  if (v.version !== 1) return `unknown version ${JSON.stringify(v.version)}`;
  const { runId, lab, short, owner, startedAt, namespaces, links, processes, files } = v;
  if (typeof runId !== 'string' || !/^[\w.-]{1,128}$/.test(runId)) return 'bad runId';
  if (typeof lab !== 'string' || typeof short !== 'string') return 'bad lab';
  if (!isObject(owner) || !isPid(owner.pid) || !isTicks(owner.startTime)) return 'bad owner';
  if (typeof startedAt !== 'string') return 'bad startedAt';
  if (!Array.isArray(namespaces) || !Array.isArray(links) || !Array.isArray(processes))
    return 'bad lists';
  if (!Array.isArray(files)) return 'bad files';
  const ns: RecordedNamespace[] = [];
  for (const n of namespaces) {
    if (!isObject(n) || !labName(n.name)) return `bad namespace ${JSON.stringify(n)}`;
    if (n.inode !== undefined && !isTicks(n.inode)) return `bad inode for ${n.name}`;
    ns.push(n.inode === undefined ? { name: n.name } : { name: n.name, inode: n.inode });
  }
  const ls: RecordedLink[] = [];
  for (const l of links) {
    if (!isObject(l) || typeof l.name !== 'string') return `bad link ${JSON.stringify(l)}`;
    if (l.namespace === undefined) {
      // only a root-namespace link is deleted by name: it must be one of ours by name too
      if (!labName(l.name)) return `bad root link ${JSON.stringify(l.name)}`;
      ls.push({ name: l.name });
    } else {
      if (!labName(l.namespace)) return `bad link namespace ${JSON.stringify(l.namespace)}`;
      ls.push({ name: l.name, namespace: l.namespace });
    }
  }
  const ps: RecordedProcess[] = [];
  for (const p of processes) {
    if (!isObject(p) || !isPid(p.pid) || !isTicks(p.startTime) || !Array.isArray(p.argv))
      return `bad process ${JSON.stringify(p)}`;
    ps.push({ pid: p.pid, startTime: p.startTime, argv: p.argv.map(String) });
  }
  const fs: string[] = [];
  const base = runDir.endsWith('/') ? runDir : `${runDir}/`;
  for (const f of files) {
    if (typeof f !== 'string' || !f.startsWith(base) || f.includes('/../') || f.endsWith('/..'))
      return `bad file ${JSON.stringify(f)}`;
    fs.push(f);
  }
  return {
    version: 1,
    runId,
    lab,
    short,
    owner: { pid: owner.pid, startTime: owner.startTime },
    startedAt,
    namespaces: ns,
    links: ls,
    processes: ps,
    files: fs,
  };
}
