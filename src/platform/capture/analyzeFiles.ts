/**
 * Capture files in, analysis out: the one path the CLI's `analyze`, the
 * extension's "Analyze capture files…" and the lab runner share. Each file is a
 * hop, in the order given; the hop name is the file name without its last
 * extension (`03-nodeA-vxlan.calico.pcap` → `03-nodeA-vxlan.calico`).
 */
import { basename } from 'node:path';
import type { CaptureIssue, Packet } from '../../core/packets/model';
import type { DatapathPlan } from '../../core/datapath/types';
import type { AnalysisReport } from '../../core/hops/types';
import { analyzeHops } from '../../core/hops/analyzeHops';
import type { CaptureFormat } from './captureFile';
import { loadCaptureFile } from './captureFile';

export interface AnalyzedCapture {
  name: string;
  path: string;
  format: CaptureFormat;
  packets: Packet[];
  issues: CaptureIssue[];
}

export interface FileAnalysis {
  report: AnalysisReport;
  captures: AnalyzedCapture[];
}

/** `03-nodeA-vxlan.calico.pcap` → `03-nodeA-vxlan.calico`; `hop.txt` → `hop`. */
export function hopNameFromPath(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

export async function analyzeCaptureFiles(
  paths: readonly string[],
  options: {
    plan?: DatapathPlan;
    signal?: AbortSignal;
    onProgress?: (message: string) => void;
  } = {},
): Promise<FileAnalysis> {
  const captures: AnalyzedCapture[] = [];
  for (const [i, path] of paths.entries()) {
    options.signal?.throwIfAborted();
    options.onProgress?.(`Reading ${basename(path)} (${i + 1}/${paths.length})`);
    const loaded = await loadCaptureFile(path, { signal: options.signal });
    captures.push({ name: hopNameFromPath(path), path, ...loaded });
  }
  options.onProgress?.('Correlating packets across hops');
  const report = analyzeHops(
    captures.map((c) => ({ name: c.name, packets: c.packets, issues: c.issues })),
    { plan: options.plan },
  );
  return { report, captures };
}
