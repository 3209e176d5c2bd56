/**
 * `podpath trace [--kubeconfig FILE] [--context NAME] NS/POD_A NS/POD_B [--probe icmp|tcp:PORT|udp:PORT]
 * [--probe-container NAME] [--out DIR] [--duration S] [--max-mb N] [--snaplen N] [--json]`: a probe from pod A to
 * pod B of a live cluster, captured at every hop on both nodes at once and analyzed (see
 * platform/trace/podTrace.ts). The probe runs inside pod A (its first container, or
 * --probe-container), or from pod A's network namespace on its node when it cannot start there.
 * Progress, then the plan and the per-hop table on stdout; with
 * --json progress goes to stderr and stdout carries only the `podpath analyze --json` object plus "cluster",
 * "context", "mode", "plan", "probe", "files", "limits" and "timings".
 * The cluster cannot be reached or read: one line on stderr, exit 2 (cli.ts prints thrown
 * errors that way). The trace cannot go on (plan problems, no way onto the nodes): the
 * reason on stderr, exit 1. Ctrl-C or SIGTERM stops every capture before exiting.
 */
import { resolve } from 'node:path';
import type { TraceLimits, TraceResult } from '../platform/trace/podTrace';
import { TraceError, parseTraceProbe, tracePods } from '../platform/trace/podTrace';
import { nodeShellConsentText } from '../platform/shells/nodeShellConsent';
import type { CliIo } from './captureCommands';
import { formatAnalysis, parseArgs } from './captureCommands';
import { formatTable, UsageError } from './table';

const USAGE =
  'usage: podpath trace [--kubeconfig FILE] [--context NAME] NS/POD_A NS/POD_B [--probe icmp|tcp:PORT|udp:PORT] [--probe-container NAME] [--out DIR] [--duration S] [--max-mb N] [--snaplen N] [--node-shell-pods [--node-shell-image IMAGE] [--node-shell-namespace NS]] [--json]';

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

function positiveInt(value: string | undefined, option: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) {
    throw new UsageError(`--${option} takes a whole number from 1 to ${max}, not "${value}"`);
  }
  return n;
}

function defaultOutDir(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\..*$/, '')
    .replace('T', '-');
  return resolve(`podpath-trace-${stamp}`);
}

/** The object `trace --json` prints. */
export function traceJson(r: TraceResult): Record<string, unknown> {
  return {
    ...r.report,
    cluster: r.cluster,
    context: r.context,
    mode: r.mode,
    plan: r.plan,
    probe: r.probe,
    files: r.files,
    limits: r.limits,
    outDir: r.outDir,
    timings: r.timings,
  };
}

function formatTrace(r: TraceResult): string {
  const out: string[] = [];
  const where = r.cluster.kind
    ? `kind cluster ${r.cluster.kind.name} (${r.cluster.kind.provider})`
    : r.cluster.server;
  out.push(`${r.plan.title} — context ${r.context}, ${where}`);
  out.push('');
  out.push(
    formatTable(
      ['hop', 'node', 'pod', 'interface', 'filter'],
      r.plan.hops.map((h) => [h.name, h.node, h.pod ?? '-', h.interface, h.filter || '-']),
    ),
  );
  out.push('');
  if (r.probe) out.push(`Probe: ${r.probe.summary} — ${r.probe.where}`);
  for (const l of r.limits) out.push(`Limit: ${l}`);
  const t = r.timings;
  out.push(
    `Timings: plan ${t.planMs} ms, capture start ${t.captureStartMs} ms, probe ${t.probeMs} ms, stop ${t.stopMs} ms, analysis ${t.analysisMs} ms, total ${t.totalMs} ms`,
  );
  out.push(`Captures: ${r.outDir}`);
  out.push('');
  return `${out.join('\n')}\n${formatAnalysis(r.report)}`;
}

export async function runTraceCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, {
    flags: ['json', 'node-shell-pods'],
    options: [
      'kubeconfig',
      'context',
      'probe',
      'probe-container',
      'out',
      'duration',
      'max-mb',
      'snaplen',
      'node-shell-image',
      'node-shell-namespace',
    ],
  });
  if (parsed.positional.length !== 2) {
    throw new UsageError(`podpath trace takes two pods, NS/POD_A NS/POD_B (${USAGE})`);
  }
  const [podA, podB] = parsed.positional as [string, string];
  const probeText = parsed.options.get('probe') ?? 'icmp';
  const probe = parseTraceProbe(probeText);
  if (!probe) {
    throw new UsageError(`--probe takes icmp, tcp:PORT or udp:PORT, not "${probeText}"`);
  }
  const duration = positiveInt(parsed.options.get('duration'), 'duration', 3600);
  const maxMb = positiveInt(parsed.options.get('max-mb'), 'max-mb', 100_000);
  const snaplen = positiveInt(parsed.options.get('snaplen'), 'snaplen', 262_144);
  const limits: TraceLimits = {
    ...(duration !== undefined ? { durationSeconds: duration } : {}),
    ...(maxMb !== undefined ? { maxBytesPerHop: maxMb * 1024 * 1024 } : {}),
    ...(snaplen !== undefined ? { snaplen } : {}),
  };
  const json = parsed.flags.has('json');
  const nodeShellPods = parsed.flags.has('node-shell-pods');
  // With --json stdout carries only the object; progress goes to stderr.
  const say = json ? io.stderr : io.stdout;

  const controller = new AbortController();
  let cancelledBy: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals): void => {
    if (cancelledBy === undefined) {
      cancelledBy = name;
      io.stderr(`\n${name}: cancelling, stopping every capture…\n`);
      controller.abort(new DOMException(`Cancelled by ${name}`, 'AbortError'));
    } else {
      io.stderr(`${name} again: exiting now; captures on the nodes may still be running\n`);
      process.exit(SIGNAL_EXIT[name] ?? 130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await tracePods({
      kubeconfig: parsed.options.get('kubeconfig'),
      context: parsed.options.get('context'),
      podA,
      podB,
      probe,
      probeContainer: parsed.options.get('probe-container'),
      outDir: parsed.options.get('out') ?? defaultOutDir(),
      limits,
      signal: controller.signal,
      onProgress: (step, message) => say(`[${step}] ${message}\n`),
      // Nodes that are not kind containers are reached through privileged pods only when
      // the person said so with --node-shell-pods; what is created is printed first.
      nodeShellPods: {
        confirm: (request) => {
          const text = nodeShellConsentText(request);
          if (!nodeShellPods) {
            io.stderr(
              `podpath trace: ${text.message} Add --node-shell-pods to agree.\n${text.detail}\n`,
            );
            return Promise.resolve(false);
          }
          say(`[shell] ${text.message}\n`);
          return Promise.resolve(true);
        },
        image: parsed.options.get('node-shell-image'),
        namespace: parsed.options.get('node-shell-namespace'),
      },
    });
    io.stdout(
      json ? `${JSON.stringify(traceJson(result), null, 2)}\n` : `\n${formatTrace(result)}`,
    );
    return 0;
  } catch (err) {
    if (controller.signal.aborted) {
      io.stderr('podpath trace: cancelled; every capture was stopped\n');
      return (cancelledBy && SIGNAL_EXIT[cancelledBy]) ?? 130;
    }
    if (err instanceof TraceError) {
      io.stderr(`podpath trace: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
