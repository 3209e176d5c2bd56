/**
 * Capture files in, analysis out: the one path the CLI's `analyze`, the
 * extension's "Analyze capture files…" and the lab runner share. Each file is a
 * hop, in the order given; the hop name is the file name without its last
 * extension (`03-nodeA-vxlan.calico.pcap` → `03-nodeA-vxlan.calico`).
 *
 * Each file is streamed once into compact records (core/hops/hopRecords.ts) and
 * its packets are dropped as they are decoded, so memory grows by about 30 bytes
 * a packet whatever the packets hold. Afterwards only the few packets that stand
 * for the probe are read again, by their offsets, to describe them; the packet
 * table reads its pages the same way (`readPage`).
 */
import { basename } from 'node:path';
import type { CaptureIssue, Packet } from '../../core/packets/model';
import type { DatapathPlan } from '../../core/datapath/types';
import type { AnalysisReport } from '../../core/hops/types';
import { reportFromRecords } from '../../core/hops/analyzeHops';
import { Correlator, type Correlation } from '../../core/hops/correlation';
import { HopRecords, isTextNoise } from '../../core/hops/hopRecords';
import { icmpErrorsIn } from '../../core/hops/findings';
import type { IcmpErrorSeen } from '../../core/hops/findings';
import type { CaptureFileIndex, CaptureFormat } from './captureFile';
import { readCaptureFile, readPacketsAt } from './captureFile';

export interface AnalyzedCapture {
  name: string;
  path: string;
  format: CaptureFormat;
  /** Packets in the capture. */
  packets: number;
  /**
   * One compact record per packet, in capture order; the packets stay on disk. Empty
   * when the analysis was asked not to keep them (`keepRecords: false`).
   */
  records: HopRecords;
  index: CaptureFileIndex;
  issues: CaptureIssue[];
  /** The first ICMP errors seen in the capture (at most MAX_ICMP_ERRORS). */
  icmpErrors: IcmpErrorSeen[];
}

export interface FileAnalysis {
  report: AnalysisReport;
  captures: AnalyzedCapture[];
  correlation: Correlation;
}

/** `03-nodeA-vxlan.calico.pcap` → `03-nodeA-vxlan.calico`; `hop.txt` → `hop`. */
export function hopNameFromPath(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Streams one capture file into records. */
export async function recordCaptureFile(
  path: string,
  options: { signal?: AbortSignal } = {},
): Promise<AnalyzedCapture> {
  const records = new HopRecords(hopNameFromPath(path));
  const icmpErrors: IcmpErrorSeen[] = [];
  const { format, issues, index } = await readCaptureFile(
    path,
    (p, offset) => {
      if (isTextNoise(p)) return;
      records.add(p, offset);
      // ICMP errors are few and say why a probe stopped (fragmentation needed, MTU …):
      // kept as they pass, bounded, so the packets themselves need not be.
      if (icmpErrors.length < MAX_ICMP_ERRORS) icmpErrors.push(...icmpErrorsIn(records.name, [p]));
    },
    { signal: options.signal },
  );
  return {
    name: records.name,
    path,
    format,
    packets: records.length,
    records,
    index,
    issues,
    icmpErrors,
  };
}

/** ICMP errors kept per capture: enough to say why, never a whole flood. */
const MAX_ICMP_ERRORS = 64;

export async function analyzeCaptureFiles(
  paths: readonly string[],
  options: {
    plan?: DatapathPlan;
    signal?: AbortSignal;
    onProgress?: (message: string) => void;
    /**
     * Keep each hop's records for the packet table (default). The CLI does not: each
     * hop's records are dropped once it is correlated, so memory stays at one hop's.
     */
    keepRecords?: boolean;
  } = {},
): Promise<FileAnalysis> {
  const captures: AnalyzedCapture[] = [];
  const correlator = new Correlator();
  const described = new Map<number, Packet>();
  for (const [i, path] of paths.entries()) {
    options.signal?.throwIfAborted();
    options.onProgress?.(`Reading ${basename(path)} (${i + 1}/${paths.length})`);
    const capture = await recordCaptureFile(path, { signal: options.signal });
    // Correlated as soon as it is read; only the packet standing for the probe is read again.
    const match = correlator.add(capture.records);
    if (match.record >= 0) {
      const [packet] = await readPage(capture, match.record, 1);
      if (packet) described.set(i, packet);
    }
    if (options.keepRecords === false) capture.records = new HopRecords(capture.name);
    captures.push(capture);
  }
  const correlation = correlator.result();
  const report = reportFromRecords({
    hops: captures.map((c) => ({ name: c.name, length: c.packets })),
    issues: captures.map((c) => c.issues),
    correlation,
    packetAt: (hop) => described.get(hop),
    plan: options.plan,
  });
  return { report, captures, correlation };
}

/**
 * Packets `start` … `start + count − 1` of a capture, decoded again from its file through
 * the offsets in its records (a page of the packet table).
 */
export async function readPage(
  capture: Pick<AnalyzedCapture, 'records' | 'index'>,
  start: number,
  count: number,
): Promise<Packet[]> {
  const { records, index } = capture;
  const first = Math.max(0, start);
  const last = Math.min(records.length, first + count);
  if (last <= first) return [];
  const from = records.offset(first);
  const to = last < records.length ? records.offset(last) : undefined;
  if (from < 0) return [];
  const packets = await readPacketsAt(index, from, to, last - first);
  // Text delta timestamps (-ttt) only make sense from the top: the records keep the times
  // the whole read worked out.
  for (let i = 0; i < packets.length; i++) {
    const t = records.time(first + i);
    if (t === t) packets[i]!.ts = t;
  }
  return packets;
}
