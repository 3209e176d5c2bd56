/**
 * `podpath` — the terminal front end over the same core and platform as the
 * extension: parse, decode, analyze, plan, bench, the offline labs, live clusters and traces
 * between their pods.
 */
import { ToolError } from './platform/exec/runner';
import {
  runAnalyzeCommand,
  runDecodeCommand,
  runParseCommand,
  runPlanCommand,
  type CliIo,
} from './cli/captureCommands';
import { UsageError } from './cli/table';

const USAGE = `usage: podpath <command> [options]

  parse [--json] FILE                 tcpdump text -> packets (table, or NDJSON with --json)
  decode [--json] FILE                pcap/pcapng -> packets (table, or NDJSON with --json)
  analyze [--json] [--plan MODE] FILE...
                                      the files are the hops in order; follow the probe across them
  plan MODE [--json] [--same-node] [--cross-subnet]
                                      the hops of a CNI datapath and its diagram
  lab list [--json] | lab run LAB [--json] [--out DIR] [--keep] [--fault KIND] [--probe icmp|tcp]
  lab clean                           offline labs in network namespaces (needs root)
  lab run service-… [--kube-proxy iptables|nftables] [--requests N]
                                      Service labs: kube-proxy rules, N requests, shares, conntrack NAT
  lab create --kind MODE [--name NAME] [--kube-proxy iptables|nftables|ipvs] [--dry-run] [--out DIR]
  lab delete NAME                     lab clusters on kind (MODE: flannel-vxlan, flannel-host-gw,
                                      calico-bgp, calico-ipip, calico-vxlan, calico-vxlan-crosssubnet, kindnet)
  lab run MODE --kind [--name NAME] [--kube-proxy MODE] [--json] [--out DIR]
                                      create that lab cluster, then trace pod-a → pod-b
  cluster [--kubeconfig FILE] [--context NAME] [--json]
                                      nodes, pods, CNI and kube-proxy mode of a live cluster
  trace [--kubeconfig FILE] [--context NAME] NS/POD_A NS/POD_B [--probe icmp|tcp:PORT|udp:PORT]
        [--probe-container NAME] [--out DIR] [--duration S] [--max-mb N] [--snaplen N] [--json]
                                      capture a probe from pod A to pod B at every hop of a live
                                      cluster (kind nodes) and analyze it
  bench [--packets N]                 time our decoder and parser against tcpdump
  service explain --rules FILE [--service NS/NAME] [--manifest FILE] [--json]
                                      a node's kube-proxy rules (iptables, nftables, IPVS)
                                      -> each Service's endpoints, shares, NAT and findings

MODE: flannel-vxlan, flannel-host-gw, calico-bgp, calico-ipip, calico-vxlan,
      calico-crosssubnet, kubenet (append -same-node for two pods on one node)
`;

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'parse':
        return await runParseCommand(args, io);
      case 'decode':
        return await runDecodeCommand(args, io);
      case 'analyze':
        return await runAnalyzeCommand(args, io);
      case 'plan':
        return runPlanCommand(args, io);
      // The other families load on use: `decode` or `analyze` need not load the
      // Kubernetes client, the lab builder or the benchmarks (start-up time, memory).
      case 'bench':
        return await (await import('./cli/benchCommand')).runBenchCommand(args, io);
      case 'lab':
        // `lab run MODE --kind` ends with `podpath trace`, run through this same table.
        return await (
          await import('./cli/labCommand')
        ).runLabCommand(args, io, (a, i) => main(['trace', ...a], i));
      case 'service':
        return await (await import('./cli/serviceCommand')).runServiceCommand(args, io);
      case 'cluster':
        return await (await import('./cli/clusterCommand')).runClusterCommand(args, io);
      case 'trace':
        return await (await import('./cli/traceCommand')).runTraceCommand(args, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}' (try podpath --help)`);
    }
  } catch (e) {
    io.stderr(`podpath: ${describeError(e)}\n`);
    return e instanceof ToolError && e.kind === 'cancelled' ? 130 : 2;
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.name;
  return String(e);
}

if (require.main === module) {
  const io: CliIo = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    // A slow reader of the pipe (`| wc -l`, `| less`) makes the writer wait, not buffer.
    drained: () =>
      process.stdout.writableNeedDrain
        ? new Promise((resolve) => process.stdout.once('drain', resolve))
        : undefined,
  };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
