/**
 * Kubeconfig contexts for the Clusters view and `podpath cluster`, read through kubeClient.ts.
 * Which files: the `podpath.kubeconfig` setting when set, else the `vs-kubernetes.kubeconfig`
 * setting (what vscode-kubernetes-tools users already have), else `KUBECONFIG`, else
 * `~/.kube/config`; the settings and the variable may list several files separated by ':'.
 * Several files merge as kubectl merges them: the first file that names a context, cluster
 * or user wins, and the first file that sets current-context decides it. Missing files are
 * skipped (kubectl does the same); files that do not parse are reported, not thrown.
 */
import { delimiter, join } from 'node:path';
import { loadKubeConfigSet } from './kubeClient';

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
 * @param vsKubernetes the `vs-kubernetes.kubeconfig` setting ('' when unset).
 */
export function kubeconfigFiles(
  setting: string,
  env: NodeJS.ProcessEnv,
  home: string,
  vsKubernetes = '',
): string[] {
  const split = (s: string): string[] =>
    s
      .split(delimiter)
      .map((f) => f.trim())
      .filter((f) => f.length > 0)
      .map((f) => (f.startsWith('~/') ? join(home, f.slice(2)) : f));
  if (setting.trim()) return split(setting);
  if (vsKubernetes.trim()) return split(vsKubernetes);
  const fromEnv = env['KUBECONFIG'];
  if (fromEnv?.trim()) return split(fromEnv);
  return [join(home, '.kube', 'config')];
}

/** Reads and merges the contexts of `files` (see the module comment for the rules). */
export function readKubeContexts(files: readonly string[]): KubeContextList {
  const set = loadKubeConfigSet(files);
  return {
    files: set.files,
    contexts: set.contexts,
    current: set.current,
    problems: set.problems,
  };
}
