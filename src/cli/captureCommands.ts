/**
 * `podpath parse`, `podpath decode` and `podpath analyze`: capture files in,
 * NDJSON / tables / the analysis object out. Reading streams; `parse` and
 * `decode` hold one chunk of the file's packets at most: between chunks they wait
 * until stdout has taken what was written (a pipe to a slow reader fills up, and
 * without waiting the output would pile up in memory). `analyze` keeps a compact
 * record per packet, not the packets (see platform/capture/analyzeFiles.ts).
 */
import { basename } from 'node:path';
import type { CaptureIssue, Packet } from '../core/packets/model';
import { summarizePacket } from '../core/packets/packetSummary';
import { buildDatapathPlan, defaultPlanInput, isCniMode, CNI_MODES } from '../core/datapath/plans';
import { inputProblems, lossHeadline } from '../core/hops/findings';
import type { DatapathPlan } from '../core/datapath/types';
import { buildSequenceDiagram } from '../core/diagram/sequenceDiagram';
import type { AnalysisReport } from '../core/hops/types';
import { detectCaptureFormat, readCaptureFile } from '../platform/capture/captureFile';
import { analyzeCaptureFiles } from '../platform/capture/analyzeFiles';
import { BufferedWriter, formatTable, UsageError } from './table';

export interface CliIo {
  stdout: (s: string) => unknown;
  stderr: (s: string) => unknown;
  /** A promise that settles when stdout can take more, or undefined when it can now. */
  drained?: () => Promise<unknown> | undefined;
}

interface ParsedArgs {
  flags: Set<string>;
  options: Map<string, string>;
  positional: string[];
}

/** Splits argv into --flags, --option value pairs and positionals, rejecting unknown ones. */
export function parseArgs(
  args: readonly string[],
  known: { flags?: readonly string[]; options?: readonly string[] },
): ParsedArgs {
  const flags = new Set<string>();
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (known.flags?.includes(name)) {
        if (eq > 0) throw new UsageError(`--${name} takes no value`);
        flags.add(name);
      } else if (known.options?.includes(name)) {
        const value = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
        options.set(name, value);
      } else {
        throw new UsageError(`unknown option ${a}`);
      }
    } else {
      positional.push(a);
    }
  }
  return { flags, options, positional };
}

function oneFile(parsed: ParsedArgs, command: string): string {
  if (parsed.positional.length !== 1) {
    throw new UsageError(`podpath ${command} takes exactly one FILE`);
  }
  return parsed.positional[0]!;
}

function packetTableRow(p: Packet, n: number): string[] {
  const s = summarizePacket(p);
  return [
    String(n),
    s.time,
    `${s.source} → ${s.destination}`,
    s.protocol,
    s.ttl === null ? '' : String(s.ttl),
    s.length === null ? '' : String(s.length),
    s.encapsulation,
    s.info,
  ];
}

const PACKET_HEADER = ['#', 'time', 'source → destination', 'proto', 'TTL', 'len', 'encap', 'info'];

function reportIssues(issues: readonly CaptureIssue[], file: string, io: CliIo): void {
  for (const i of issues) io.stderr(`${file}:${i.at}: ${i.message}\n`);
}

async function streamPackets(
  command: 'parse' | 'decode',
  args: readonly string[],
  io: CliIo,
): Promise<number> {
  const parsed = parseArgs(args, { flags: ['json'] });
  const file = oneFile(parsed, command);
  const format = await detectCaptureFormat(file);
  if (command === 'parse' && format !== 'text') {
    throw new UsageError(`${file} is a ${format} capture, not tcpdump text: use podpath decode`);
  }
  if (command === 'decode' && format === 'text') {
    throw new UsageError(
      `${file} is not a pcap or pcapng file: use podpath parse for tcpdump text`,
    );
  }
  const out = new BufferedWriter(io.stdout);
  const json = parsed.flags.has('json');
  const rows: string[][] = [];
  let n = 0;
  // Tables are printed in pages so a long capture still streams.
  const flushRows = (): void => {
    if (rows.length === 0) return;
    out.line(formatTable(PACKET_HEADER, rows));
    rows.length = 0;
  };
  const result = await readCaptureFile(
    file,
    (p) => {
      n++;
      if (json) out.line(JSON.stringify(p));
      else {
        rows.push(packetTableRow(p, n));
        if (rows.length >= 1000) flushRows();
      }
    },
    {
      betweenChunks: () => {
        flushRows();
        out.flush();
        return io.drained?.();
      },
    },
  );
  flushRows();
  out.flush();
  const fatal = result.issues.find((i) => i.fatal);
  if (fatal && result.packets === 0) {
    // Said plainly and only once: no packets, and why.
    io.stderr(`${inputProblems([{ file, format: result.format, issues: [fatal] }]).join(' ')}\n`);
    return 1;
  }
  reportIssues(result.issues, file, io);
  if (fatal) {
    io.stderr(`${file}: stopped early after ${result.packets} packets: ${fatal.message}\n`);
    return 1;
  }
  return 0;
}

export function runParseCommand(args: readonly string[], io: CliIo): Promise<number> {
  return streamPackets('parse', args, io);
}

export function runDecodeCommand(args: readonly string[], io: CliIo): Promise<number> {
  return streamPackets('decode', args, io);
}

/** `flannel-vxlan`, `flannel-vxlan-same-node`, `calico-crosssubnet-cross-subnet`… → a plan. */
export function planFromName(
  name: string,
  opts: { sameNode?: boolean; crossSubnet?: boolean } = {},
): DatapathPlan {
  let mode = name;
  let sameNode = opts.sameNode ?? false;
  let crossSubnet = opts.crossSubnet ?? false;
  if (mode.endsWith('-same-node')) {
    mode = mode.slice(0, -'-same-node'.length);
    sameNode = true;
  }
  if (mode.endsWith('-cross-subnet')) {
    mode = mode.slice(0, -'-cross-subnet'.length);
    crossSubnet = true;
  }
  if (!isCniMode(mode)) {
    throw new UsageError(
      `unknown CNI mode '${name}': use one of ${CNI_MODES.map((m) => m.mode).join(', ')}`,
    );
  }
  return buildDatapathPlan(defaultPlanInput(mode, { sameNode, crossSubnet }));
}

function cell(v: number | string | null | undefined): string {
  return v === null || v === undefined ? '-' : String(v);
}

/** The per-hop table and findings that `analyze` and `lab run` print for people. */
export function formatAnalysis(report: AnalysisReport): string {
  // Lengths worked out from frame lengths (tcpdump -e without -v) are marked with ~.
  const derived = (h: AnalysisReport['hops'][number], v: string): string =>
    h.lengthsDerived && v !== '-' ? `~${v}` : v;
  const rows = report.hops.map((h) => [
    h.name,
    String(h.packets),
    h.match === 'flow' ? 'flow' : h.seen ? 'yes' : 'NO',
    cell(h.ttl),
    derived(h, cell(h.innerLength)),
    derived(h, cell(h.outerLength)),
    derived(h, h.overheadBytes === null ? '-' : `+${h.overheadBytes}`),
    h.encapsulation
      ? [
          h.encapsulation.type,
          h.encapsulation.dstPort !== null ? `udp ${h.encapsulation.dstPort}` : '',
          h.encapsulation.vni !== null ? `vni ${h.encapsulation.vni}` : '',
        ]
          .filter(Boolean)
          .join(' ')
      : '-',
    h.timeOffsetMs === null ? '-' : h.timeOffsetMs.toFixed(3),
  ]);
  const table = formatTable(
    ['hop', 'packets', 'seen', 'TTL', 'inner', 'outer', 'overhead', 'encapsulation', 'Δt ms'],
    rows,
  );
  const missing = `Probe ${lossHeadline(report)}.`;
  const notes: string[] = [];
  if (report.matchedBy === 'flow') {
    notes.push(
      '"flow": no packet in common with the first hop, only the same flow (see findings).',
    );
  }
  if (report.hops.some((h) => h.lengthsDerived)) {
    notes.push('~: worked out from the frame lengths tcpdump -e printed (no -v in the capture).');
  }
  const findings = report.findings.map((f) => `- ${f}`).join('\n');
  const legend = notes.length > 0 ? `${notes.join('\n')}\n` : '';
  return `${table}\n\n${legend}${missing}\n${findings ? `\nFindings:\n${findings}\n` : ''}`;
}

export async function runAnalyzeCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, { flags: ['json', 'same-node'], options: ['plan'] });
  if (parsed.positional.length === 0) {
    throw new UsageError('podpath analyze needs the capture FILEs, one per hop, in hop order');
  }
  const planName = parsed.options.get('plan');
  const plan = planName
    ? planFromName(planName, { sameNode: parsed.flags.has('same-node') })
    : undefined;
  // The CLI prints the report only: no hop's records need to outlive its correlation.
  const { report, captures } = await analyzeCaptureFiles(parsed.positional, {
    plan,
    keepRecords: false,
  });
  for (const c of captures) reportIssues(c.issues, c.path, io);
  const problems = inputProblems(
    captures.map((c) => ({ file: basename(c.path), format: c.format, issues: c.issues })),
  );
  if (parsed.flags.has('json')) io.stdout(JSON.stringify(report, null, 2) + '\n');
  else {
    // Bad input first: it changes how everything below reads.
    if (problems.length > 0) io.stdout(`${problems.join('\n')}\n\n`);
    io.stdout(formatAnalysis(report));
  }
  return 0;
}

export function runPlanCommand(args: readonly string[], io: CliIo): number {
  const parsed = parseArgs(args, { flags: ['json', 'same-node', 'cross-subnet'] });
  if (parsed.positional.length !== 1) {
    throw new UsageError(`podpath plan takes one MODE: ${CNI_MODES.map((m) => m.mode).join(', ')}`);
  }
  const plan = planFromName(parsed.positional[0]!, {
    sameNode: parsed.flags.has('same-node'),
    crossSubnet: parsed.flags.has('cross-subnet'),
  });
  const diagram = buildSequenceDiagram({ plan });
  if (parsed.flags.has('json')) {
    io.stdout(JSON.stringify({ ...plan, diagram }, null, 2) + '\n');
    return 0;
  }
  const rows = plan.hops.map((h) => [
    h.name,
    h.action,
    String(h.expectedTtl),
    String(h.mtu),
    h.encapsulation ? `${h.encapsulation.type} +${h.encapsulation.overheadBytes} B` : '-',
    h.filter,
  ]);
  io.stdout(`${plan.title}\n\n`);
  io.stdout(formatTable(['hop', 'action', 'TTL', 'MTU', 'encapsulation', 'tcpdump filter'], rows));
  io.stdout('\n\n');
  for (const h of plan.hops) io.stdout(`${h.name}: ${h.description}\n`);
  if (plan.notes.length) io.stdout(`\n${plan.notes.map((n) => `- ${n}`).join('\n')}\n`);
  io.stdout(`\n${diagram}\n`);
  return 0;
}
