/**
 * Kubeconfig contexts for the Clusters view, read with @kubernetes/client-node's KubeConfig.
 * Which files: the `podpath.kubeconfig` setting when set, else `KUBECONFIG`, else
 * `~/.kube/config`; the setting and the variable may list several files separated by ':'.
 * Several files merge as kubectl merges them: the first file that names a context, cluster
 * or user wins, and the first file that sets current-context decides it. Missing files are
 * skipped (kubectl does the same); files that do not parse are reported, not thrown.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
// The deep import keeps the generated API clients out of the bundle's entry graph.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';

export interface KubeContextInfo {
  name: string;
  cluster: string;
  user: string;
  namespace: string | null;
  /** API server URL of the context's cluster, when the cluster is defined. */
  server: string | null;
  /** File the context came from. */
  file: string;
}

export interface KubeContextList {
  /** Files that were looked at, in order (existing or not). */
  files: string[];
  contexts: KubeContextInfo[];
  current: string | null;
  /** One sentence per file that could not be read. */
  problems: string[];
}

/**
 * The kubeconfig files to read.
 *
 * @param setting the `podpath.kubeconfig` setting ('' when unset).
 * @param env the environment (KUBECONFIG).
 * @param home the user's home directory.
 */
export function kubeconfigFiles(setting: string, env: NodeJS.ProcessEnv, home: string): string[] {
  const split = (s: string): string[] =>
    s
      .split(delimiter)
      .map((f) => f.trim())
      .filter((f) => f.length > 0)
      .map((f) => (f.startsWith('~/') ? join(home, f.slice(2)) : f));
  if (setting.trim()) return split(setting);
  const fromEnv = env['KUBECONFIG'];
  if (fromEnv?.trim()) return split(fromEnv);
  return [join(home, '.kube', 'config')];
}

/** Reads and merges the contexts of `files` (see the module comment for the rules). */
export function readKubeContexts(files: readonly string[]): KubeContextList {
  const contexts: KubeContextInfo[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  let current: string | null = null;
  for (const file of files) {
    if (!existsSync(file)) continue;
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      problems.push(
        `${file} is not a valid kubeconfig: ${err instanceof Error ? err.message : String(err)}`,
      );
      continue;
    }
    if (current === null && kc.getCurrentContext()) current = kc.getCurrentContext();
    for (const ctx of kc.getContexts()) {
      if (seen.has(ctx.name)) continue;
      seen.add(ctx.name);
      contexts.push({
        name: ctx.name,
        cluster: ctx.cluster,
        user: ctx.user,
        namespace: ctx.namespace ?? null,
        server: kc.getCluster(ctx.cluster)?.server ?? null,
        file,
      });
    }
  }
  return { files: [...files], contexts, current, problems };
}
