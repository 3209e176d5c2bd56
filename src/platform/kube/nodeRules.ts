/**
 * kube-proxy's rules read on a node through a NodeShell, for "explain this Service": the
 * dump of the mode the cluster's kube-proxy detection reported, or, when that is unknown,
 * iptables-save first and nft's kube-proxy table when iptables holds no Service rules.
 * Also opens the shell for one node: kind nodes through their container, other nodes
 * through a node-shell pod created only after consent.
 */
import type { ClusterClient } from './kubeClient';
import { KindNodeShell, parseKindProviderId } from '../shells/kindShell';
import { createPodNodeShell } from '../shells/podShell';
import type { NodeShellConsentRequest } from '../shells/nodeShellConsent';
import type { NodeShell } from '../shells/nodeShell';

/** The rule dumps Podpath reads on a node. */
export const NODE_RULE_DUMPS = {
  iptables: ['iptables-save'],
  nftables: ['nft', 'list', 'table', 'ip', 'kube-proxy'],
  ipvs: ['ipvsadm', '-Ln'],
} as const;

export type NodeRulesMode = keyof typeof NODE_RULE_DUMPS;

export interface NodeRules {
  mode: NodeRulesMode;
  text: string;
  argv: readonly string[];
}

const TIMEOUT_MS = 30_000;

function isDumpMode(mode: string | null | undefined): mode is NodeRulesMode {
  return mode === 'iptables' || mode === 'nftables' || mode === 'ipvs';
}

async function dump(
  shell: NodeShell,
  node: string,
  mode: NodeRulesMode,
  signal: AbortSignal | undefined,
): Promise<NodeRules> {
  const argv = NODE_RULE_DUMPS[mode];
  let r;
  try {
    r = await shell.run({ node }, argv, { timeoutMs: TIMEOUT_MS, ...(signal ? { signal } : {}) });
  } catch (err) {
    // Shells reject on a non-zero exit (ToolError) or when they cannot reach the node.
    if (signal?.aborted) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`\`${argv.join(' ')}\` on node ${node} failed: ${why}`);
  }
  if (r.exitCode !== 0) {
    const why = r.stderr.trim().split('\n').slice(-2).join(' ') || `exit code ${r.exitCode}`;
    throw new Error(`\`${argv.join(' ')}\` on node ${node} failed: ${why}`);
  }
  return { mode, text: r.stdout, argv };
}

/**
 * Reads kube-proxy's rules on `node`. `mode` is the cluster's detected kube-proxy mode;
 * anything but iptables/nftables/ipvs tries iptables-save, then nft, and throws with both
 * reasons when neither holds kube-proxy's Service rules.
 */
export async function readNodeRules(options: {
  shell: NodeShell;
  node: string;
  mode?: string | null;
  signal?: AbortSignal;
}): Promise<NodeRules> {
  const { shell, node, mode, signal } = options;
  if (isDumpMode(mode)) return dump(shell, node, mode, signal);
  const reasons: string[] = [];
  for (const m of ['iptables', 'nftables'] as const) {
    try {
      const rules = await dump(shell, node, m, signal);
      // iptables-save on an nftables-mode node still prints tables, without Service chains.
      const holdsServices =
        m === 'iptables'
          ? /^:KUBE-SERVICES /m.test(rules.text)
          : /\btable ip kube-proxy\b/.test(rules.text);
      if (holdsServices) return rules;
      reasons.push(`\`${rules.argv.join(' ')}\` has no kube-proxy Service rules`);
    } catch (err) {
      if (signal?.aborted) throw err;
      reasons.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new Error(
    `no kube-proxy rules were found on node ${node} (kube-proxy's mode is not known): ${reasons.join('; ')}`,
  );
}

/** A shell on one node and how to let it go (deletes a node-shell pod it created). */
export interface OpenedNodeShell {
  shell: NodeShell;
  via: 'kind' | 'pod';
  dispose(): Promise<void>;
}

/**
 * A NodeShell for `node`: its kind container when `providerId` is `kind://…`, otherwise a
 * privileged node-shell pod, created only when `confirm` says yes (prepare throws then).
 */
export async function openNodeShell(options: {
  client: ClusterClient;
  node: string;
  providerId: string | null;
  confirm: (request: NodeShellConsentRequest) => Promise<boolean>;
  image?: string;
  namespace?: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}): Promise<OpenedNodeShell> {
  const kind = options.providerId ? parseKindProviderId(options.providerId) : undefined;
  if (kind) {
    const shell = new KindNodeShell({ cluster: kind.cluster, provider: kind.provider });
    return { shell, via: 'kind', dispose: () => Promise.resolve() };
  }
  const shell = createPodNodeShell({
    client: options.client,
    confirm: options.confirm,
    ...(options.image ? { image: options.image } : {}),
    ...(options.namespace ? { namespace: options.namespace } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  // prepare deletes what it made when it fails or is refused.
  await shell.prepare([options.node], options.signal);
  return { shell, via: 'pod', dispose: () => shell.dispose() };
}
