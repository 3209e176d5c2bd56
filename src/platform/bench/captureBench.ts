/**
 * `podpath bench`: how fast Podpath reads captures compared with tcpdump itself.
 *
 * It builds a large pcap (1,000,000 packets by default) by cycling the real
 * Ethernet packets of the fixture captures with monotonic timestamps, has
 * `tcpdump -nn -v -r` render it to text once, then times in the same run:
 * tcpdump's rendering, our pcap decode to the packet model, and our parse of
 * tcpdump's text. Both of ours go through `readCaptureFile`, counting packets
 * without keeping them, and resident memory is sampled throughout to show that
 * streaming keeps it bounded.
 */
import { closeSync, openSync, readFileSync, readdirSync, statSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runTool } from '../exec/runner';
import { readCaptureFile } from '../capture/captureFile';
import type { PcapRecord } from './benchPcap';
import { ethernetRecords, writeSyntheticPcap } from './benchPcap';

export const DECODE_TARGET = 0.25;
export const PARSE_TARGET = 0.6;

export interface BenchOptions {
  /** Packets in the generated pcap (default 1,000,000). */
  packets?: number;
  /** Searched recursively for `*.pcap` files with Ethernet frames. */
  fixturesDir: string;
  /** Where the generated pcap and tcpdump's text go (created if missing). */
  workDir: string;
  signal?: AbortSignal;
  onProgress?: (msg: string) => void;
  /** More timings measured on the same files (e.g. hop correlation), in milliseconds. */
  extraTimings?: (files: { pcapPath: string; textPath: string }) => Promise<Record<string, number>>;
}

export interface BenchResult {
  packets: number;
  /** Fixture pcaps and distinct packets cycled to build the file. */
  sourceFiles: number;
  sourcePackets: number;
  pcapPath: string;
  textPath: string;
  pcapBytes: number;
  textBytes: number;
  buildMs: number;
  /**
   * tcpdump's rendering time: the faster of `tcpdump -nn -v -r` with its stdout
   * drained and the same run streamed into the text file (both through the runner).
   */
  tcpdumpMs: number;
  tcpdumpDrainedMs: number;
  tcpdumpToFileMs: number;
  decodeMs: number;
  decodedPackets: number;
  decodeIssues: number;
  parseMs: number;
  parsedPackets: number;
  parseIssues: number;
  /** decodeMs ÷ tcpdumpMs; the target is {@link DECODE_TARGET}. */
  decodeRatio: number;
  /** parseMs ÷ tcpdumpMs; the target is {@link PARSE_TARGET}. */
  parseRatio: number;
  decodeTarget: number;
  parseTarget: number;
  decodeMet: boolean;
  parseMet: boolean;
  /** Resident set size in MiB: before decoding, and the peaks while decoding and parsing. */
  rssBaselineMb: number;
  rssPeakDecodeMb: number;
  rssPeakParseMb: number;
  extra: Record<string, number>;
}

function findPcaps(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findPcaps(path));
    else if (name.endsWith('.pcap')) out.push(path);
  }
  return out;
}

/** Samples resident memory on a timer and on demand, keeping the peak. */
class RssSampler {
  peak = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.peak = process.memoryUsage.rss();
    this.timer = setInterval(() => this.sample(), 20);
    this.timer.unref();
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

const MIB = 1024 * 1024;

export async function timedRead(
  path: string,
  signal: AbortSignal | undefined,
): Promise<{ ms: number; packets: number; issues: number; peakRss: number }> {
  const sampler = new RssSampler();
  sampler.start();
  let count = 0;
  const started = performance.now();
  const result = await readCaptureFile(
    path,
    () => {
      // Touch every packet as a consumer would; sample memory now and then.
      if ((++count & 0xffff) === 0) sampler.sample();
    },
    { signal },
  );
  const ms = performance.now() - started;
  return { ms, packets: result.packets, issues: result.issues.length, peakRss: sampler.stop() };
}

/**
 * Runs the capture benchmark. Needs `tcpdump` on PATH (through the runner, so a
 * missing tcpdump is a ToolError of kind `not-found`).
 */
export async function runCaptureBench(options: BenchOptions): Promise<BenchResult> {
  const count = options.packets ?? 1_000_000;
  const { signal } = options;
  const progress = options.onProgress ?? ((): void => undefined);
  await mkdir(options.workDir, { recursive: true });
  const pcapPath = join(options.workDir, `bench-${count}.pcap`);
  const textPath = join(options.workDir, `bench-${count}.txt`);

  const files = findPcaps(options.fixturesDir);
  const sources: PcapRecord[] = [];
  let sourceFiles = 0;
  for (const file of files) {
    const records = ethernetRecords(readFileSync(file));
    if (records.length > 0) sourceFiles++;
    sources.push(...records);
  }
  if (sources.length === 0) {
    throw new Error(`no Ethernet pcap fixtures found under ${options.fixturesDir}`);
  }

  progress(`building ${count} packets from ${sources.length} packets of ${sourceFiles} pcaps`);
  let t = performance.now();
  const pcapBytes = writeSyntheticPcap(pcapPath, count, (i) => {
    const rec = sources[i % sources.length]!;
    return { data: rec.data, origLen: rec.origLen, micros: i * 10 };
  });
  const buildMs = performance.now() - t;
  signal?.throwIfAborted();

  progress('tcpdump -nn -v -r: rendering to text');
  const argv = ['tcpdump', '-nn', '-v', '-r', pcapPath];
  const fd = openSync(textPath, 'w');
  let textBytes = 0;
  let toFileMs: number;
  try {
    let batch = '';
    const flush = (): void => {
      textBytes += writeSync(fd, batch);
      batch = '';
    };
    t = performance.now();
    await runTool(argv, {
      signal,
      collectStdout: false,
      onStdoutLine: (line) => {
        batch += line + '\n';
        if (batch.length > 1 << 20) flush();
      },
    });
    flush();
    toFileMs = performance.now() - t;
  } finally {
    closeSync(fd);
  }

  progress('tcpdump -nn -v -r: timing its rendering alone');
  t = performance.now();
  await runTool(argv, { signal, collectStdout: false });
  const drainedMs = performance.now() - t;
  // The faster of the two runs is the fairest figure for tcpdump (it makes our ratios worse).
  const tcpdumpMs = Math.min(drainedMs, toFileMs);

  const rssBaseline = process.memoryUsage.rss();
  progress('decoding the pcap');
  const decode = await timedRead(pcapPath, signal);
  progress('parsing tcpdump text');
  const parse = await timedRead(textPath, signal);

  let extra: Record<string, number> = {};
  if (options.extraTimings) {
    progress('extra timings');
    extra = await options.extraTimings({ pcapPath, textPath });
  }

  return {
    packets: count,
    sourceFiles,
    sourcePackets: sources.length,
    pcapPath,
    textPath,
    pcapBytes,
    textBytes,
    buildMs,
    tcpdumpMs,
    tcpdumpDrainedMs: drainedMs,
    tcpdumpToFileMs: toFileMs,
    decodeMs: decode.ms,
    decodedPackets: decode.packets,
    decodeIssues: decode.issues,
    parseMs: parse.ms,
    parsedPackets: parse.packets,
    parseIssues: parse.issues,
    decodeRatio: decode.ms / tcpdumpMs,
    parseRatio: parse.ms / tcpdumpMs,
    decodeTarget: DECODE_TARGET,
    parseTarget: PARSE_TARGET,
    decodeMet: decode.ms / tcpdumpMs <= DECODE_TARGET,
    parseMet: parse.ms / tcpdumpMs <= PARSE_TARGET,
    rssBaselineMb: rssBaseline / MIB,
    rssPeakDecodeMb: decode.peakRss / MIB,
    rssPeakParseMb: parse.peakRss / MIB,
    extra,
  };
}

/** The result as the few lines `podpath bench` prints. */
export function formatBenchResult(r: BenchResult): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
  const lines = [
    `packets            ${r.packets.toLocaleString('en-US')} (cycled from ${r.sourcePackets} packets of ${r.sourceFiles} fixture pcaps)`,
    `pcap / text size   ${(r.pcapBytes / MIB).toFixed(1)} MiB / ${(r.textBytes / MIB).toFixed(1)} MiB`,
    `tcpdump -nn -v -r  ${s(r.tcpdumpMs)} (stdout drained ${s(r.tcpdumpDrainedMs)}, into the text file ${s(r.tcpdumpToFileMs)})`,
    `pcap decode        ${s(r.decodeMs)}  ratio ${r.decodeRatio.toFixed(3)} (target ≤ ${r.decodeTarget}) ${verdict(r.decodeMet)}  ${r.decodedPackets} packets`,
    `text parse         ${s(r.parseMs)}  ratio ${r.parseRatio.toFixed(3)} (target ≤ ${r.parseTarget}) ${verdict(r.parseMet)}  ${r.parsedPackets} packets`,
    `peak RSS           ${r.rssBaselineMb.toFixed(0)} MiB before, ${r.rssPeakDecodeMb.toFixed(0)} MiB decoding, ${r.rssPeakParseMb.toFixed(0)} MiB parsing`,
  ];
  for (const [name, ms] of Object.entries(r.extra)) lines.push(`${name.padEnd(18)} ${s(ms)}`);
  return lines.join('\n');
}
