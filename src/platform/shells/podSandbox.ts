/**
 * A pod's network namespace on its node, from the node's container runtime: `crictl pods`
 * (ready sandboxes, exact name) → sandbox id → `crictl inspectp` → the namespace path.
 * KindNodeShell and PodNodeShell reach crictl in different ways (`docker exec`, a node-shell
 * pod's exec) and raise their own error classes; the lookup itself is this one.
 */

/** What a pod target resolves to on its node. */
export interface PodSandbox {
  id: string;
  /** `/var/run/netns/cni-…`, or `/proc/<pid>/ns/net` when only the pid is known. */
  netnsPath: string;
  /** The sandbox's pid on the node, when crictl names one. */
  pid?: number;
}

/** How one shell runs crictl on a node and words what goes wrong. */
export interface CrictlAccess {
  /**
   * Runs `crictl <args…>` on the node and resolves to its stdout parsed as JSON; rejects with
   * the shell's own error when crictl cannot run or prints no JSON. `command` is
   * `crictl pods` or `crictl inspectp`, for that error.
   */
  json(args: readonly string[], command: string): Promise<unknown>;
  /** The shell's error carrying one sentence. */
  error(message: string): Error;
  /** The sentence for a sandbox whose `crictl inspectp` names no network namespace. */
  noNetns(sandboxId: string): string;
}

interface CrictlPodList {
  items?: { id?: string; metadata?: { name?: string; namespace?: string } }[];
}

interface CrictlInspect {
  info?: {
    pid?: number;
    runtimeSpec?: { linux?: { namespaces?: { type?: string; path?: string }[] } };
  };
}

/** The ready sandbox of `pod` (`name` or `namespace/name`) on `node` and its network namespace. */
export async function findPodSandbox(
  crictl: CrictlAccess,
  node: string,
  pod: string,
): Promise<PodSandbox> {
  const [namespace, name] = pod.includes('/') ? pod.split('/', 2) : [undefined, pod];
  if (!name) throw crictl.error(`"${pod}" is not a pod name.`);
  const listArgs = ['pods', '--name', name, '--state', 'ready', '-o', 'json'];
  if (namespace) listArgs.push('--namespace', namespace);
  const list = (await crictl.json(listArgs, 'crictl pods')) as CrictlPodList;
  // --name matches by regular expression; keep the exact name.
  const items = (list.items ?? []).filter(
    (i) =>
      i.metadata?.name === name && (namespace === undefined || i.metadata?.namespace === namespace),
  );
  const first = items[0];
  if (!first?.id) {
    throw crictl.error(`No ready sandbox for pod ${pod} on ${node} (crictl pods found none).`);
  }
  if (items.length > 1) {
    throw crictl.error(
      `Pod name ${name} matches ${items.length} sandboxes on ${node}; give it as namespace/name.`,
    );
  }
  const id = first.id;
  const inspect = (await crictl.json(
    ['inspectp', '-o', 'json', id],
    'crictl inspectp',
  )) as CrictlInspect;
  const path = inspect.info?.runtimeSpec?.linux?.namespaces?.find(
    (n) => n.type === 'network',
  )?.path;
  const pid = inspect.info?.pid;
  const knownPid = pid !== undefined && pid > 0 ? { pid } : {};
  if (path) return { id, netnsPath: path, ...knownPid };
  if (pid !== undefined && pid > 0) return { id, netnsPath: `/proc/${pid}/ns/net`, pid };
  throw crictl.error(crictl.noNetns(id));
}

/**
 * `lookUp()` once per node and pod in `cache`; a lookup that fails is forgotten, so the next
 * call tries again.
 */
export function cachedPerPod<T>(
  cache: Map<string, Promise<T>>,
  node: string,
  pod: string,
  lookUp: () => Promise<T>,
): Promise<T> {
  const key = `${node}\u0000${pod}`;
  let found = cache.get(key);
  if (!found) {
    found = lookUp();
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}
