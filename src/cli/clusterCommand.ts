/**
 * `podpath cluster [--kubeconfig FILE] [--context NAME] [--json]`: the Clusters view's picture
 * in a terminal — nodes, pods, the detected CNI and mode, kube-proxy's mode. Cannot reach or
 * read the cluster: one line on stderr, exit 2 (cli.ts prints thrown errors that way). A
 * resource that is forbidden while the rest reads is a warning on stderr, not a failure.
 */
import { homedir } from 'node:os';
import { ClusterClient, loadKubeConfigSet } from '../platform/kube/kubeClient';
import { readClusterPicture, type ClusterPicture } from '../platform/kube/clusterReader';
import { kubeconfigFiles } from '../platform/kube/kubeconfig';
import type { CliIo } from './captureCommands';
import { parseArgs } from './captureCommands';
import { formatTable, UsageError } from './table';

export async function runClusterCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, { flags: ['json'], options: ['kubeconfig', 'context'] });
  if (parsed.positional.length > 0)
    throw new UsageError('podpath cluster takes no positional argument');
  const files = kubeconfigFiles(parsed.options.get('kubeconfig') ?? '', process.env, homedir());
  const set = loadKubeConfigSet(files);
  for (const p of set.problems) io.stderr(`podpath: warning: ${p}\n`);
  const client = new ClusterClient(set, parsed.options.get('context'));
  const picture = await readClusterPicture(client);
  for (const p of picture.problems) io.stderr(`podpath: warning: ${p}\n`);
  io.stdout(
    parsed.flags.has('json')
      ? `${JSON.stringify(clusterJson(picture), null, 2)}\n`
      : formatPicture(picture),
  );
  return 0;
}

/** The `--json` object, with the fields the issue promises and nothing else. */
export function clusterJson(p: ClusterPicture): unknown {
  return {
    context: p.context,
    server: p.server,
    nodes: p.nodes.map((n) => ({
      name: n.name,
      roles: n.roles,
      ready: n.ready,
      internalIP: n.internalIP,
      podCIDRs: n.podCIDRs,
      provider: n.provider,
    })),
    pods: p.pods.map((q) => ({
      namespace: q.namespace,
      name: q.name,
      node: q.node,
      podIP: q.podIP,
      hostNetwork: q.hostNetwork,
      phase: q.phase,
    })),
    network: p.network,
    kubeProxy: p.kubeProxy,
  };
}

function formatPicture(p: ClusterPicture): string {
  const out: string[] = [];
  out.push(`Context ${p.context} at ${p.server}`);
  const mode =
    p.network.mode ??
    (p.network.cni === 'unknown' ? 'not detected' : 'not modelled by Podpath yet');
  out.push(`Network: ${p.network.cni}, ${mode}; kube-proxy: ${p.kubeProxy.mode}`);
  const details = Object.entries(p.network.details)
    .filter(
      ([k, v]) => v !== null && v !== undefined && typeof v !== 'object' && k !== 'serviceCIDR',
    )
    .map(([k, v]) => `${k} ${String(v)}`);
  if (details.length) out.push(`  ${details.join(' · ')}`);
  const svc = p.network.details['serviceCIDRs'];
  const podCidrs = [...new Set(p.nodes.flatMap((n) => n.podCIDRs))];
  out.push(
    `  Service CIDR: ${Array.isArray(svc) && svc.length > 0 ? svc.join(', ') : 'not readable'} · pod CIDRs (nodes): ${podCidrs.join(', ') || 'none set'}`,
  );
  for (const e of [...p.network.evidence, ...p.kubeProxy.evidence]) out.push(`  - ${e}`);
  out.push('', `Nodes (${p.nodes.length})`);
  out.push(
    formatTable(
      ['NAME', 'ROLES', 'READY', 'INTERNAL-IP', 'POD-CIDRS', 'PROVIDER', 'KUBELET'],
      p.nodes.map((n) => [
        n.name,
        n.roles.join(',') || '-',
        n.ready === null ? '?' : n.ready ? 'Ready' : 'NotReady',
        n.internalIP ?? '-',
        n.podCIDRs.join(',') || '-',
        n.provider ?? '-',
        n.kubeletVersion ?? '-',
      ]),
    ),
  );
  out.push('', `Pods (${p.pods.length})`);
  out.push(
    formatTable(
      ['NAMESPACE', 'NAME', 'NODE', 'POD-IP', 'PHASE'],
      p.pods.map((q) => [
        q.namespace,
        q.name,
        q.node ?? '-',
        `${q.podIP ?? '-'}${q.hostNetwork ? ' (host network)' : ''}`,
        q.phase ?? '-',
      ]),
    ),
  );
  return `${out.join('\n')}\n`;
}
