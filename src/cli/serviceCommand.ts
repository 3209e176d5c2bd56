/**
 * `podpath service explain`: a node's kube-proxy rules (iptables, nftables or
 * IPVS dumps) and optionally Service manifests → each Service's paths,
 * endpoints with their shares, masquerade and findings.
 */
import { readFile } from 'node:fs/promises';
import { explainServices, toExplanationJson } from '../core/kubeproxy/explainService';
import { readServiceSpecs } from '../core/kubeproxy/serviceSpec';
import { formatShare } from '../core/kubeproxy/summarizeService';
import type { ExplainedService, ServiceExplanation, ServiceSpec } from '../core/kubeproxy/types';
import { parseArgs, type CliIo } from './captureCommands';
import { UsageError } from './table';

const SERVICE_USAGE =
  'usage: podpath service explain --rules FILE [--service NS/NAME] [--manifest FILE] [--json]';

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read the ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`,
    );
  }
}

/** `podpath service …` */
export async function runServiceCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'explain') throw new UsageError(SERVICE_USAGE);
  const parsed = parseArgs(rest, { flags: ['json'], options: ['rules', 'service', 'manifest'] });
  const rulesPath = parsed.options.get('rules') ?? parsed.positional[0];
  if (!rulesPath) throw new UsageError(`--rules FILE is needed\n${SERVICE_USAGE}`);
  const text = await readText(rulesPath, 'rules file');
  let specs: ServiceSpec[] = [];
  const manifestPath = parsed.options.get('manifest');
  if (manifestPath) {
    const read = readServiceSpecs(await readText(manifestPath, 'manifest'));
    if (read.services.length === 0)
      throw new UsageError(
        `no Service in ${manifestPath}${read.problems[0] ? ` (${read.problems[0]})` : ''}`,
      );
    specs = read.services;
  }
  const service = parsed.options.get('service');
  const explanation = explainServices(text, { specs, ...(service ? { service } : {}) });
  if (parsed.flags.has('json')) {
    io.stdout(JSON.stringify(toExplanationJson(explanation), null, 2) + '\n');
  } else {
    io.stdout(formatExplanation(explanation));
  }
  if (service && explanation.services.length === 0) {
    io.stderr(`podpath: no Service ${service} in ${rulesPath}\n`);
    return 1;
  }
  return 0;
}

function formatService(s: ExplainedService): string[] {
  const head = [
    `${s.namespace}/${s.name}  port ${s.port}/${s.protocol}`,
    s.clusterIP
      ? `cluster IP ${s.clusterIP}${s.servicePort !== null ? `:${s.servicePort}` : ''}`
      : '',
    s.nodePort !== null ? `node port ${s.nodePort}` : '',
    s.externalIPs.length ? `external IPs ${s.externalIPs.join(', ')}` : '',
    s.loadBalancerIPs.length ? `load-balancer IPs ${s.loadBalancerIPs.join(', ')}` : '',
  ].filter(Boolean);
  const lines = [head.join('  ')];
  if (s.endpoints.length === 0) lines.push('  endpoints: none');
  else {
    lines.push('  endpoints (share of new connections from a pod to the cluster IP):');
    for (const e of s.endpoints)
      lines.push(
        `    ${e.address.padEnd(22)} ${formatShare(e.share).padStart(6)}${e.chain ? `  ${e.chain}` : ''}${e.packets !== undefined ? `  ${e.packets} packets` : ''}`,
      );
  }
  if (s.affinitySeconds !== null) lines.push(`  affinity: ClientIP, ${s.affinitySeconds} s`);
  if (s.masquerade.length) {
    lines.push('  masquerade:');
    for (const m of s.masquerade) lines.push(`    - ${m}`);
  }
  if (s.findings.length) {
    lines.push('  findings:');
    for (const f of s.findings) lines.push(`    - ${f}`);
  }
  return lines;
}

/** The readable form printed without --json. */
export function formatExplanation(e: ServiceExplanation): string {
  const out = [`kube-proxy mode: ${e.mode}, ${e.services.length} Service port(s)`];
  for (const n of e.notes) out.push(`note: ${n}`);
  for (const s of e.services) out.push('', ...formatService(s));
  if (e.unread.length) {
    out.push('', `${e.unread.length} line(s) not read:`);
    for (const u of e.unread.slice(0, 10)) out.push(`  ${u}`);
    if (e.unread.length > 10) out.push(`  … (${e.unread.length - 10} more; --json lists them all)`);
  }
  return out.join('\n') + '\n';
}
