/**
 * NodeShell over Linux network namespaces (the offline lab): every command runs
 * as `ip netns exec <namespace> argv…`, so a "node" and a "pod" are just
 * namespaces and the capture code cannot tell them from real ones.
 */
import { runTool, startTool } from '../exec/runner';
import type { RunOptions, RunResult, ToolProcess } from '../exec/runner';
import type { NodeShell, ShellTarget } from './nodeShell';

export class NetnsNodeShell implements NodeShell {
  readonly kind = 'netns';
  private readonly namespaceFor: (t: ShellTarget) => string;

  /** `namespaceFor` maps `{node}` / `{node, pod}` to a namespace name; it throws for unknown targets. */
  constructor(namespaceFor: (t: ShellTarget) => string) {
    this.namespaceFor = namespaceFor;
  }

  /** The full argv run for `argv` at `target` (for logs and tests). */
  argvFor(target: ShellTarget, argv: readonly string[]): string[] {
    if (argv.length === 0) throw new Error('NetnsNodeShell needs a command');
    return ['ip', 'netns', 'exec', this.namespaceFor(target), ...argv];
  }

  run(target: ShellTarget, argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    let full: string[];
    try {
      full = this.argvFor(target, argv);
    } catch (e) {
      return Promise.reject(e);
    }
    return runTool(full, options);
  }

  start(target: ShellTarget, argv: readonly string[], options?: RunOptions): ToolProcess {
    return startTool(this.argvFor(target, argv), options);
  }
}
