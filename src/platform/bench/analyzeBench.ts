/**
 * The person's path, timed: `podpath analyze --json` over 8 hop files of N packets each
 * (1,000,000 by default), end to end in its own process, pcap first and then tcpdump -v
 * text, against `tcpdump -nn -v -r` over the same files in the same run. Peak memory comes
 * from the OS (`/usr/bin/time`'s maximum resident set size) for both.
 *
 * The hop files are the Flannel VXLAN lab's fixture hops (pod eth0 … VXLAN on the node
 * links … pod eth0) cycled, each cycle with its own ICMP id/seq (checksums fixed), so every
 * probe really crosses all 8 hops and correlation has a million keys per hop to match.
 * Then the panel's packet table is timed on one of those hops: the first page after the
 * analysis, a jump to a page deep in the hop, and a filter over the whole hop.
 */
import { closeSync, openSync, readFileSync, readdirSync, statSync, writeSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runTool } from '../exec/runner';
import { ethernetRecords, writeSyntheticPcap } from './benchPcap';
import { analyzeCaptureFiles } from '../capture/analyzeFiles';
import { analysisTables } from '../capture/packetTable';
import type { TableQuery } from '../../core/hops/tableFilter';

export const ANALYZE_PCAP_TARGET = 0.25;
export const ANALYZE_TEXT_TARGET = 0.6;
export const PEAK_MEMORY_TARGET_MB = 300;
export const FIRST_PAGE_TARGET_MS = 300;
export const JUMP_TARGET_MS = 100;
export const FILTER_TARGET_MS = 1000;

export interface AnalyzeBenchOptions {
  /** Packets per hop file. */
  packets: number;
  /** The fixture folder with 01-…pcap … 08-…pcap (Flannel VXLAN lab). */
  hopFixturesDir: string;
  workDir: string;
  /** The built CLI (dist/cli.js). */
  cliPath: string;
  signal?: AbortSignal;
  onProgress?: (msg: string) => void;
}

export interface TimedProcess {
  /** Wall-clock time. */
  ms: number;
  /** User + system CPU time (less sensitive than wall time to a busy machine). */
  cpuMs: number;
  peakMb: number;
}

export interface AnalyzeBenchResult {
  packetsPerHop: number;
  hops: number;
  pcapBytes: number;
  textBytes: number;
  /** tcpdump -nn -v -r over the 8 pcaps, one after another (sum), and its largest peak. */
  tcpdump: TimedProcess;
  /** `ratio` is wall time ÷ tcpdump's (the target); `cpuRatio` the same in CPU time. */
  analyzePcap: TimedProcess & { ratio: number; cpuRatio: number; seenHops: number };
  analyzeText: TimedProcess & { ratio: number; cpuRatio: number; seenHops: number };
  table: { firstPageMs: number; jumpMs: number; filterMs: number; filterMatching: number };
  targets: {
    pcapRatio: number;
    textRatio: number;
    peakMb: number;
    firstPageMs: number;
    jumpMs: number;
    filterMs: number;
  };
  met: {
    pcapRatio: boolean;
    textRatio: boolean;
    peakMb: boolean;
    firstPage: boolean;
    jump: boolean;
    filter: boolean;
  };
}

export interface HopSource {
  /** Frames of the hop's fixture with where their ICMP id and checksum sit. */
  frames: { data: Buffer; icmpAt: number }[];
}

/** Offset of the innermost ICMP header in an Ethernet frame (IPv4, optionally VXLAN). */
function icmpOffset(frame: Buffer): number {
  let o = 14;
  for (let depth = 0; depth < 2; depth++) {
    if (frame.readUInt16BE(o - 2) !== 0x0800) return -1;
    const ihl = (frame[o]! & 0x0f) * 4;
    const proto = frame[o + 9]!;
    if (proto === 1) return o + ihl;
    if (proto !== 17) return -1;
    // UDP 8 + VXLAN 8 + inner Ethernet 14.
    o = o + ihl + 8 + 8 + 14;
  }
  return -1;
}

export function loadHopSources(dir: string): HopSource[] {
  const names = readdirSync(dir)
    .filter((n) => /^\d\d-[^.]+(\.1)?\.pcap$/.test(n))
    .sort();
  return names.map((n) => ({
    frames: ethernetRecords(readFileSync(join(dir, n)))
      .map(({ data }) => ({ data: Buffer.from(data), icmpAt: icmpOffset(data) }))
      .filter((f) => f.icmpAt > 0),
  }));
}

/** RFC 1624 incremental checksum update for one 16-bit field changed from `from` to `to`. */
function adjustChecksum(sum: number, from: number, to: number): number {
  let s = (~sum & 0xffff) + (~from & 0xffff) + to;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * Writes `count` packets of one hop: the fixture's frames again and again, cycle c giving
 * each echo seq s the new number c·k + s (id carrying the overflow), 10 µs apart.
 */
export function writeHopPcap(path: string, source: HopSource, count: number, hop: number): number {
  const frames = source.frames;
  const perCycle = Math.max(1, frames.length);
  return writeSyntheticPcap(path, count, (i) => {
    const cycle = Math.floor(i / perCycle);
    const f = frames[i % perCycle]!;
    return {
      data: f.data,
      origLen: f.data.length,
      micros: i * 10 + hop * 3,
      patch: (block, at) => {
        const icmp = at + f.icmpAt;
        const oldId = block.readUInt16BE(icmp + 4);
        const oldSeq = block.readUInt16BE(icmp + 6);
        const n = cycle * perCycle + oldSeq;
        const seq = n & 0xffff;
        const id = (oldId + Math.floor(n / 65536)) & 0xffff;
        let sum = block.readUInt16BE(icmp + 2);
        sum = adjustChecksum(sum, oldId, id);
        sum = adjustChecksum(sum, oldSeq, seq);
        block.writeUInt16BE(id, icmp + 4);
        block.writeUInt16BE(seq, icmp + 6);
        block.writeUInt16BE(sum, icmp + 2);
      },
    };
  });
}

/** Runs argv under `/usr/bin/time`, which reports the peak resident set size from the OS. */
async function timed(
  argv: readonly string[],
  workDir: string,
  signal: AbortSignal | undefined,
  stdout: 'keep' | 'drop' | { file: string },
): Promise<TimedProcess & { stdout: string }> {
  const stdoutFile = typeof stdout === 'object' ? stdout.file : undefined;
  const report = join(workDir, 'time.txt');
  const fd = stdoutFile ? openSync(stdoutFile, 'w') : undefined;
  let batch = '';
  const started = performance.now();
  let result;
  try {
    result = await runTool(['/usr/bin/time', '-o', report, '-f', '%M %U %S', ...argv], {
      signal,
      collectStdout: stdout === 'keep',
      ...(fd !== undefined
        ? {
            onStdoutLine: (line: string) => {
              batch += line + '\n';
              if (batch.length > 1 << 20) {
                writeSync(fd, batch);
                batch = '';
              }
            },
          }
        : {}),
    });
    if (fd !== undefined) writeSync(fd, batch);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const ms = performance.now() - started;
  const [kb, user, sys] = ((await readFile(report, 'utf8')).trim().split('\n').pop() ?? '')
    .split(' ')
    .map(Number);
  return {
    ms,
    cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000,
    peakMb: (kb ?? NaN) / 1024,
    stdout: result.stdout,
  };
}

function seenHops(json: string): number {
  const report = JSON.parse(json) as { hops: { seen: boolean }[] };
  return report.hops.filter((h) => h.seen).length;
}

/** Runs the end-to-end analysis benchmark. Needs tcpdump and /usr/bin/time (Debian `time`). */
export async function runAnalyzeBench(options: AnalyzeBenchOptions): Promise<AnalyzeBenchResult> {
  const { packets, workDir, signal } = options;
  const progress = options.onProgress ?? ((): void => undefined);
  await mkdir(workDir, { recursive: true });
  const sources = loadHopSources(options.hopFixturesDir);
  if (sources.length !== 8 || sources.some((s) => s.frames.length === 0)) {
    throw new Error(`expected 8 hop pcaps with ICMP under ${options.hopFixturesDir}`);
  }
  const names = readdirSync(options.hopFixturesDir)
    .filter((n) => /^\d\d-[^.]+(\.1)?\.pcap$/.test(n))
    .sort();
  const pcaps = names.map((n) => join(workDir, n));
  const texts = names.map((n) => join(workDir, n.replace(/\.pcap$/, '.txt')));

  let pcapBytes = 0;
  for (const [h, path] of pcaps.entries()) {
    progress(`building ${path} (${packets.toLocaleString('en-US')} packets)`);
    pcapBytes += writeHopPcap(path, sources[h]!, packets, h);
  }

  // tcpdump renders each hop to text (the text we analyze), then once more with its output
  // thrown away; the faster of the two runs is its time (the fairest to tcpdump).
  let tcpdumpMs = 0;
  let tcpdumpCpuMs = 0;
  let tcpdumpPeak = 0;
  let textBytes = 0;
  for (const [h, path] of pcaps.entries()) {
    progress(`tcpdump -nn -v -r ${names[h]}`);
    const argv = ['tcpdump', '-nn', '-v', '-r', path];
    const toFile = await timed(argv, workDir, signal, { file: texts[h]! });
    const drained = await timed(argv, workDir, signal, 'drop');
    tcpdumpMs += Math.min(toFile.ms, drained.ms);
    tcpdumpCpuMs += Math.min(toFile.cpuMs, drained.cpuMs);
    tcpdumpPeak = Math.max(tcpdumpPeak, toFile.peakMb, drained.peakMb);
    textBytes += statSync(texts[h]!).size;
  }

  progress('podpath analyze --json over the 8 pcaps');
  const pcapRun = await timed(
    ['node', options.cliPath, 'analyze', '--json', ...pcaps],
    workDir,
    signal,
    'keep',
  );
  progress('podpath analyze --json over the 8 texts');
  const textRun = await timed(
    ['node', options.cliPath, 'analyze', '--json', ...texts],
    workDir,
    signal,
    'keep',
  );

  progress('packet table on one hop: first page, a jump, a filter');
  const table = await tableTimings(pcaps[3]!);

  const analyzePcap = {
    ms: pcapRun.ms,
    cpuMs: pcapRun.cpuMs,
    peakMb: pcapRun.peakMb,
    ratio: pcapRun.ms / tcpdumpMs,
    cpuRatio: pcapRun.cpuMs / tcpdumpCpuMs,
    seenHops: seenHops(pcapRun.stdout),
  };
  const analyzeText = {
    ms: textRun.ms,
    cpuMs: textRun.cpuMs,
    peakMb: textRun.peakMb,
    ratio: textRun.ms / tcpdumpMs,
    cpuRatio: textRun.cpuMs / tcpdumpCpuMs,
    seenHops: seenHops(textRun.stdout),
  };
  const targets = {
    pcapRatio: ANALYZE_PCAP_TARGET,
    textRatio: ANALYZE_TEXT_TARGET,
    peakMb: PEAK_MEMORY_TARGET_MB,
    firstPageMs: FIRST_PAGE_TARGET_MS,
    jumpMs: JUMP_TARGET_MS,
    filterMs: FILTER_TARGET_MS,
  };
  return {
    packetsPerHop: packets,
    hops: pcaps.length,
    pcapBytes,
    textBytes,
    tcpdump: { ms: tcpdumpMs, cpuMs: tcpdumpCpuMs, peakMb: tcpdumpPeak },
    analyzePcap,
    analyzeText,
    table,
    targets,
    met: {
      pcapRatio: analyzePcap.ratio <= targets.pcapRatio,
      textRatio: analyzeText.ratio <= targets.textRatio,
      peakMb: Math.max(analyzePcap.peakMb, analyzeText.peakMb) < targets.peakMb,
      firstPage: table.firstPageMs < targets.firstPageMs,
      jump: table.jumpMs < targets.jumpMs,
      filter: table.filterMs < targets.filterMs,
    },
  };
}

/** The panel's table over one analysed hop, timed as the host answers the webview. */
async function tableTimings(path: string): Promise<AnalyzeBenchResult['table']> {
  const analysis = await analyzeCaptureFiles([path]);
  const [table] = analysisTables(analysis);
  const q = (over: Partial<TableQuery>): TableQuery => ({
    filter: '',
    probeOnly: false,
    notSeenAtNextHop: false,
    sort: 'index',
    descending: false,
    offset: 0,
    count: 500,
    ...over,
  });
  let t = performance.now();
  await table!.query(q({}));
  const firstPageMs = performance.now() - t;
  t = performance.now();
  await table!.query(q({ offset: Math.floor((table!.total * 7) / 10) }));
  const jumpMs = performance.now() - t;
  t = performance.now();
  const filtered = await table!.query(q({ filter: '10.244.1.4 icmp', probeOnly: true }));
  const filterMs = performance.now() - t;
  return { firstPageMs, jumpMs, filterMs, filterMatching: filtered.matching };
}

/** Deletes the generated files. */
export async function removeBenchFiles(workDir: string): Promise<void> {
  await rm(workDir, { recursive: true, force: true });
}

/** The figures as lines for people. */
export function formatAnalyzeBench(r: AnalyzeBenchResult): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const ok = (b: boolean): string => (b ? 'ok' : 'MISSED');
  const n = r.packetsPerHop.toLocaleString('en-US');
  const mib = (b: number): string => `${(b / 1024 / 1024).toFixed(0)} MiB`;
  return [
    `hop files          ${r.hops} × ${n} packets: pcap ${mib(r.pcapBytes)}, tcpdump -v text ${mib(r.textBytes)}`,
    `tcpdump -nn -v -r  ${s(r.tcpdump.ms)} over the ${r.hops} pcaps (CPU ${s(r.tcpdump.cpuMs)}), peak ${r.tcpdump.peakMb.toFixed(0)} MB`,
    `analyze pcap       ${s(r.analyzePcap.ms)}  ratio ${r.analyzePcap.ratio.toFixed(3)} (target ≤ ${r.targets.pcapRatio}) ${ok(r.met.pcapRatio)}  CPU ${s(r.analyzePcap.cpuMs)} (${r.analyzePcap.cpuRatio.toFixed(3)} ×)  peak ${r.analyzePcap.peakMb.toFixed(0)} MB  ${r.analyzePcap.seenHops}/${r.hops} hops seen`,
    `analyze text       ${s(r.analyzeText.ms)}  ratio ${r.analyzeText.ratio.toFixed(3)} (target ≤ ${r.targets.textRatio}) ${ok(r.met.textRatio)}  CPU ${s(r.analyzeText.cpuMs)} (${r.analyzeText.cpuRatio.toFixed(3)} ×)  peak ${r.analyzeText.peakMb.toFixed(0)} MB  ${r.analyzeText.seenHops}/${r.hops} hops seen`,
    `peak memory        target < ${r.targets.peakMb} MB for all ${r.hops} hops: ${ok(r.met.peakMb)}`,
    `table first page   ${r.table.firstPageMs.toFixed(0)} ms (target < ${r.targets.firstPageMs}) ${ok(r.met.firstPage)}`,
    `table jump         ${r.table.jumpMs.toFixed(0)} ms (target < ${r.targets.jumpMs}) ${ok(r.met.jump)}`,
    `table filter       ${r.table.filterMs.toFixed(0)} ms over ${n} packets, ${r.table.filterMatching.toLocaleString('en-US')} match (target < ${r.targets.filterMs}) ${ok(r.met.filter)}`,
  ].join('\n');
}
