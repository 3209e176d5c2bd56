/**
 * One lock file per lab (`/run/pp-lab/pp-fv.lock`, holding `<pid> <start time>`): a
 * second run of the same lab waits while the first one's process lives, since both
 * would use the same namespace names. A lock whose process is gone is taken over.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabDefinition } from '../../core/labs/catalog';
import type { ProcessIdentity } from '../../core/labs/runRecord';
import { LAB_PREFIX } from '../../core/labs/runRecord';
import { LAB_RUN_DIR, lockPath } from './labPaths';
import { isRunning, processIdentity, sleep } from './netnsQueries';

const LOCK_WAIT_MS = 120_000;

/** The holder written in a lock file; `startTime` is missing in locks of older versions. */
type LockHolder = { pid: number; startTime?: number };

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    const [pid, startTime] = (await readFile(file, 'utf8')).trim().split(/\s+/).map(Number);
    if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return undefined;
    return startTime !== undefined && Number.isSafeInteger(startTime)
      ? { pid, startTime }
      : { pid };
  } catch {
    return undefined;
  }
}

async function holderAlive(h: LockHolder): Promise<boolean> {
  if (h.startTime !== undefined) return isRunning({ pid: h.pid, startTime: h.startTime });
  return (await processIdentity(h.pid)) !== undefined;
}

function same(h: LockHolder | undefined, me: ProcessIdentity): boolean {
  return h?.pid === me.pid && (h.startTime === undefined || h.startTime === me.startTime);
}

/** This process, as locks and run records name it. */
export async function selfIdentity(): Promise<ProcessIdentity> {
  const me = await processIdentity(process.pid);
  if (!me) throw new Error(`cannot read /proc/${process.pid}/stat: labs need Linux /proc`);
  return me;
}

/**
 * Takes the lab's lock, waiting while another live process holds it. Re-entrant for
 * the process that holds it (the extension host may keep a lab and run it again).
 */
export async function acquireLabLock(lab: LabDefinition, signal?: AbortSignal): Promise<void> {
  await mkdir(LAB_RUN_DIR, { recursive: true, mode: 0o700 });
  const me = await selfIdentity();
  const file = lockPath(lab.network.short);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await writeFile(file, `${me.pid} ${me.startTime}\n`, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readHolder(file);
    if (same(holder, me)) return;
    if (holder === undefined || !(await holderAlive(holder))) {
      await rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(
        `lab ${lab.id} is in use by process ${holder.pid} (waited ${LOCK_WAIT_MS / 1000} s)`,
      );
    await sleep(100, signal);
  }
}

/** Releases the lab's lock if this process holds it. */
export async function releaseLabLock(lab: LabDefinition): Promise<void> {
  const file = lockPath(lab.network.short);
  if (same(await readHolder(file), await selfIdentity())) await rm(file, { force: true });
}

/** Removes lock files whose process is gone; returns their paths. */
export async function removeDeadLocks(): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(LAB_RUN_DIR);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    if (!e.startsWith(LAB_PREFIX) || !e.endsWith('.lock')) continue;
    const file = path.join(LAB_RUN_DIR, e);
    const holder = await readHolder(file);
    if (holder !== undefined && (await holderAlive(holder))) continue;
    await rm(file, { force: true });
    removed.push(file);
  }
  return removed;
}
