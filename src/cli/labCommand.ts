/**
 * `podpath lab list | run | clean`: the offline labs from a terminal. `run` prints
 * progress with timings and then the per-hop table (or, with --json, the same object
 * as `podpath analyze --json` plus "lab" and "timings"). Ctrl-C or SIGTERM during a
 * run cancels it and tears the lab down before exiting.
 */
import type { FaultKind, LabKubeProxyMode } from '../core/labs/catalog';
import { FAULTS, LAB_KUBE_PROXY_MODES, LABS, findLab } from '../core/labs/catalog';
import type { ServiceLabResult } from '../platform/labs/serviceLabRun';
import { cleanLeftovers } from '../platform/netns/labRuns';
import { LinkKindProbe, labAvailability } from '../platform/netns/kernelProbes';
import type { LabProbeKind, LabRunResult } from '../platform/labs/labRunner';
import { LabRunError, runLab } from '../platform/labs/labRunner';
import type { CliIo } from './captureCommands';
import { formatAnalysis, parseArgs } from './captureCommands';
import type { CliCommand } from './labKindCommands';
import { runLabCreate, runLabDelete, runLabRunKind } from './labKindCommands';
import { formatTable, UsageError } from './table';
import { describeCleanup } from '../core/labs/runRecord';

const USAGE =
  'usage: podpath lab list [--json] | podpath lab run LAB [--json] [--out DIR] [--keep] [--fault KIND] [--probe icmp|tcp] [--kube-proxy iptables|nftables] [--requests N] | podpath lab run MODE --kind [--name NAME] [--kube-proxy MODE] [--json] | podpath lab clean [--json] | podpath lab create --kind MODE [--name NAME] [--kube-proxy MODE] [--dry-run] [--out DIR] | podpath lab delete NAME';

/** Exit code of a run cancelled by a signal: 128 + its number, as shells report it. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };
const CANCELLED_EXIT = 130;

/**
 * @param trace `podpath trace` (passed in by the CLI's entry, which owns the command table),
 *   for `lab run MODE --kind` = create + trace.
 */
export async function runLabCommand(
  args: readonly string[],
  io: CliIo,
  trace?: CliCommand,
): Promise<number> {
  try {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'list':
        return await listLabs(rest, io);
      case 'run':
        if (rest.includes('--kind')) {
          if (!trace) throw new UsageError('lab run --kind needs the trace command');
          return await runLabRunKind(rest, io, { trace });
        }
        return await runOneLab(rest, io);
      case 'clean':
        return await cleanLabs(rest, io);
      case 'create':
        return await runLabCreate(rest, io);
      case 'delete':
        return await runLabDelete(rest, io);
      case undefined:
        throw new UsageError(USAGE);
      default:
        throw new UsageError(`unknown lab command ${sub}; ${USAGE}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`podpath lab: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function listLabs(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, { flags: ['json'] });
  if (parsed.positional.length > 0) throw new UsageError('podpath lab list takes no arguments');
  // one probe for every lab: the kernel is asked once, in a throwaway namespace
  const probe = new LinkKindProbe();
  const labs = await Promise.all(
    LABS.map(async (lab) => ({ lab, availability: await labAvailability(lab, probe) })),
  );
  if (parsed.flags.has('json')) {
    const out = labs.map(({ lab, availability }) => ({
      id: lab.id,
      title: lab.title,
      mode: lab.mode,
      sameNode: lab.sameNode,
      available: availability.available,
      ...(availability.reason ? { reason: availability.reason } : {}),
      faults: lab.faults,
    }));
    io.stdout(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  const rows = labs.map(({ lab, availability }) => [
    lab.id,
    lab.sameNode ? 'same node' : 'cross node',
    lab.title,
    availability.available
      ? 'available'
      : `unavailable: ${availability.reason ?? 'unknown reason'}`,
  ]);
  io.stdout(formatTable(['lab', 'pods', 'title', 'status'], rows) + '\n');
  return 0;
}

async function cleanLabs(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, { flags: ['json'] });
  if (parsed.positional.length > 0) throw new UsageError('podpath lab clean takes no arguments');
  // only what dead Podpath runs recorded; everything else is named and left alone
  const report = await cleanLeftovers({});
  if (parsed.flags.has('json')) {
    io.stdout(JSON.stringify(report, null, 2) + '\n');
    return 0;
  }
  io.stdout(describeCleanup(report).join('\n') + '\n');
  return 0;
}

function parseFault(value: string | undefined): FaultKind | undefined {
  if (value === undefined) return undefined;
  const fault = FAULTS.find((f) => f.kind === value)?.kind;
  if (!fault) {
    throw new UsageError(`unknown fault ${value}; one of: ${FAULTS.map((f) => f.kind).join(', ')}`);
  }
  return fault;
}

function parseProbe(value: string | undefined): LabProbeKind | undefined {
  if (value === undefined) return undefined;
  if (value !== 'icmp' && value !== 'tcp')
    throw new UsageError(`--probe is icmp or tcp, not ${value}`);
  return value;
}

function parseKubeProxy(value: string | undefined): LabKubeProxyMode | undefined {
  if (value === undefined) return undefined;
  const mode = LAB_KUBE_PROXY_MODES.find((m) => m === value);
  if (!mode)
    throw new UsageError(`--kube-proxy is ${LAB_KUBE_PROXY_MODES.join(' or ')}, not ${value}`);
  return mode;
}

function parseRequests(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new UsageError(`--requests is a whole number from 1 to 100000, not ${value}`);
  return n;
}

/**
 * The object `lab run --json` prints: the analysis, plus the lab and its timings, and
 * for a Service lab its `service` section (kube-proxy mode, distribution, shares check,
 * conntrack NAT, the probe's NAT steps).
 */
export function labRunJson(result: LabRunResult): Record<string, unknown> {
  return {
    ...result.report,
    lab: result.lab,
    ...(result.fault ? { fault: result.fault } : {}),
    timings: result.timings,
    outDir: result.outDir,
    kept: result.kept,
    ...(result.service ? { service: result.service } : {}),
  };
}

/** A Service lab's distribution, shares check and NAT, as text. */
export function formatServiceResult(s: ServiceLabResult): string {
  const rows = s.path.endpoints.map((e) => {
    const check = s.shares.find((c) => c.endpoint === e.pod);
    return [
      e.pod,
      e.address,
      e.chain ?? '-',
      `${(e.share * 100).toFixed(1)} %`,
      String(s.counts[e.pod] ?? 0),
      check ? `${check.range.low}…${check.range.high}` : '-',
      check ? (check.ok ? 'ok' : 'OUTSIDE') : '-',
    ];
  });
  const t = s.timings;
  return [
    `kube-proxy ${s.kubeProxy}: ${s.requests} requests via ${s.path.entry} from ${s.path.from}${s.path.masquerade ? ' (marked for masquerade)' : ''}; rules read back ${s.rulesAgree ? 'agree with' : 'DIFFER from'} the rules written`,
    formatTable(
      ['endpoint', 'address', 'rule', 'share', 'requests', '99.9 % range', 'check'],
      rows,
    ),
    ...s.findings,
    ...(s.probe.nat.length > 0
      ? [
          `Probe (served by ${s.probe.endpoint ?? 'none'}):`,
          ...s.probe.nat.map((n) => `  ${n.sentence}`),
        ]
      : []),
    `rules ${t.rulesMs} ms, requests ${t.requestsMs} ms, conntrack ${t.conntrackMs} ms, capture ${t.captureMs} ms, analysis ${t.analyzeMs} ms`,
    `Service lab: ${s.ok ? 'every check held' : 'a check FAILED'}`,
    '',
  ].join('\n');
}

async function runOneLab(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, {
    flags: ['json', 'keep'],
    options: ['out', 'fault', 'probe', 'kube-proxy', 'requests'],
  });
  if (parsed.positional.length !== 1) throw new UsageError('podpath lab run takes exactly one LAB');
  const labId = parsed.positional[0]!;
  const lab = findLab(labId);
  if (!lab)
    throw new UsageError(`unknown lab ${labId}; one of: ${LABS.map((l) => l.id).join(', ')}`);
  const fault = parseFault(parsed.options.get('fault'));
  if (fault && !lab.faults.includes(fault)) {
    throw new UsageError(
      `lab ${lab.id} cannot inject ${fault}; it can inject: ${lab.faults.join(', ')}`,
    );
  }
  const probe = parseProbe(parsed.options.get('probe'));
  const kubeProxy = parseKubeProxy(parsed.options.get('kube-proxy'));
  const requests = parseRequests(parsed.options.get('requests'));
  if (!lab.service && (kubeProxy || requests))
    throw new UsageError(
      `--kube-proxy and --requests are for the Service labs (${LABS.filter((l) => l.service)
        .map((l) => l.id)
        .join(', ')})`,
    );
  const json = parsed.flags.has('json');
  // With --json stdout carries only the object; progress goes to stderr.
  const say = json ? io.stderr : io.stdout;

  const controller = new AbortController();
  let signals = 0;
  let cancelledBy: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals): void => {
    signals++;
    cancelledBy ??= name;
    if (signals === 1) {
      io.stderr(`\n${name}: cancelling, tearing the lab down…\n`);
      controller.abort(new DOMException(`Cancelled by ${name}`, 'AbortError'));
    } else {
      io.stderr(`${name} again: exiting now; run \`podpath lab clean\` to remove leftovers\n`);
      process.exit(SIGNAL_EXIT[name] ?? CANCELLED_EXIT);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runLab(lab.id, {
      outDir: parsed.options.get('out'),
      keep: parsed.flags.has('keep'),
      fault,
      probe,
      ...(kubeProxy ? { kubeProxy } : {}),
      ...(requests ? { requests } : {}),
      signal: controller.signal,
      onProgress: (step) => say(`[${step.phase}] ${step.message}\n`),
    });
    if (json) {
      io.stdout(JSON.stringify(labRunJson(result), null, 2) + '\n');
      return result.service && !result.service.ok ? 1 : 0;
    }
    const tm = result.timings;
    say(
      `\n${lab.title}${result.fault ? `, fault: ${result.fault}` : ''} — build ${tm.buildMs} ms, capture ${tm.captureMs} ms, analyze ${tm.analyzeMs} ms, teardown ${tm.teardownMs} ms, total ${tm.totalMs} ms\n`,
    );
    say(`Captures: ${result.outDir}\n\n`);
    if (result.service) say(formatServiceResult(result.service) + '\n');
    say(formatAnalysis(result.report));
    // a Service lab whose shares, affinity, NAT or probe check failed is a failed run
    return result.service && !result.service.ok ? 1 : 0;
  } catch (err) {
    if (controller.signal.aborted) {
      io.stderr('podpath lab: cancelled; the lab was torn down\n');
      return (cancelledBy && SIGNAL_EXIT[cancelledBy]) ?? CANCELLED_EXIT;
    }
    if (err instanceof LabRunError) {
      io.stderr(`podpath lab: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
