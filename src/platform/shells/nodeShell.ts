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
  /** Runs argv at target to completion. */
  run(target: ShellTarget, argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Starts a long-running argv at target (tcpdump, a daemon); the caller stops it. */
  start(target: ShellTarget, argv: readonly string[], options?: RunOptions): ToolProcess;
}
