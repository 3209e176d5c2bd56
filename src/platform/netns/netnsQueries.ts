/**
 * Read-only questions about the machine's network namespaces, links and processes,
 * shared by the lab build, its clean-up and the kernel probes.
 */
import { readFile, stat } from 'node:fs/promises';
import { runTool, ToolError } from '../exec/runner';
import type { ProcessIdentity } from '../../core/labs/runRecord';
import { parseProcStat } from '../../core/labs/runRecord';

/** Where `ip netns add` puts its bind mounts. */
export const NETNS_DIR = '/run/netns';

/** Waits `ms`, or rejects with a cancelled ToolError when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ToolError('cancelled', ['sleep'], null, ''));
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new ToolError('cancelled', ['sleep'], null, ''));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Names of every network namespace `ip netns` knows. */
export async function listNamespaces(signal?: AbortSignal): Promise<string[]> {
  const r = await runTool(['ip', 'netns', 'list'], { signal, timeoutMs: 10_000 });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/** Names of the links in the root namespace (`veth0@if3` → `veth0`). */
export async function listRootLinks(signal?: AbortSignal): Promise<string[]> {
  const r = await runTool(['ip', '-o', 'link', 'show'], { signal, timeoutMs: 10_000 });
  return r.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** Pids of the processes inside namespace `ns` (`ip netns pids`). */
export async function namespacePids(ns: string): Promise<number[]> {
  const r = await runTool(['ip', 'netns', 'pids', ns], { okExitCodes: [0, 1], timeoutMs: 10_000 });
  return r.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((p) => Number.isInteger(p) && p > 0);
}

/** Inode of a namespace's bind mount, which tells it apart from a later one of the same name. */
export async function namespaceInode(ns: string): Promise<number | undefined> {
  try {
    return (await stat(`${NETNS_DIR}/${ns}`)).ino;
  } catch {
    return undefined;
  }
}

/** The pid with its start time, or undefined when no such process runs. */
export async function processIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  try {
    const stat = parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
    // a zombie has exited: only its parent has not collected it yet
    if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return undefined;
    return { pid, startTime: stat.startTime };
  } catch {
    return undefined;
  }
}

/** True while the very process `id` names runs (not a later one with the same pid). */
export async function isRunning(id: ProcessIdentity): Promise<boolean> {
  const now = await processIdentity(id.pid);
  return now !== undefined && now.startTime === id.startTime;
}
