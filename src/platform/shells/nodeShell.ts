/**
 * NodeShell: "run this argv in this place and stream its stdout". The capture
 * session, the lab runner and the analysis depend on this interface only, so the
 * same code runs against network namespaces (offline lab), kind nodes and real
 * clusters.
 */
import type { RunOptions, RunResult, ToolProcess } from '../exec/runner';

/** A place a command runs: a node, or a pod's network namespace on a node. */
export interface ShellTarget {
  node: string;
  /** Pod name when the command must run inside the pod's network namespace. */
  pod?: string;
}

export interface NodeShell {
  /** Human-readable kind, for logs and errors: `netns`, `kind`, `pod`. */
  readonly kind: string;
  /**
   * True when commands run on another machine (a kind node container, a node-shell pod):
   * a capture there cannot write a local path, so tcpdump writes the pcap to its stdout
   * (`-U -w -`) and the capture session streams those bytes into the local file
   * (RunOptions.stdoutFile). Absent or false: the command shares this filesystem (netns).
   */
  readonly streamsCaptures?: boolean;
  /** Runs argv at target to completion. */
  run(target: ShellTarget, argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Starts a long-running argv at target (tcpdump, a daemon); the caller stops it. */
  start(target: ShellTarget, argv: readonly string[], options?: RunOptions): ToolProcess;
}
