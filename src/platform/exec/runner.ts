/**
 * The one process runner. Every external command in Podpath goes through here as
 * an argv array (never a shell string). execa does the process work: the timeout and
 * the `cancelSignal`, the forced SIGKILL when a killed child does not exit within its
 * grace period, splitting stdout and stderr into lines, and killing children that are
 * still running when the extension host or the CLI exits. What this module adds is the
 * `ToolError` that says what failed (argv, exit code, first stderr lines), a log sink
 * that sees every command with its duration (the extension points it at the "Podpath"
 * output channel), and `stopAll()` for the extension's deactivate.
 *
 * execa is ESM-only and the extension bundle is CommonJS: it is loaded with `import()`,
 * which esbuild inlines into the bundle and which tsx leaves to Node's ESM loader in tests.
 */
import { constants } from 'node:os';
import type * as ExecaModule from 'execa';
import type { Options, Result, ResultPromise } from 'execa';

export type ToolErrorKind = 'not-found' | 'exit' | 'timeout' | 'cancelled';

export class ToolError extends Error {
  readonly kind: ToolErrorKind;
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  /** First lines of stderr (at most 10). */
  readonly stderr: string;

  constructor(
    kind: ToolErrorKind,
    argv: readonly string[],
    exitCode: number | null,
    stderr: string,
  ) {
    super(describeToolError(kind, argv, exitCode, stderr));
    this.name = 'ToolError';
    this.kind = kind;
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

function describeToolError(
  kind: ToolErrorKind,
  argv: readonly string[],
  exitCode: number | null,
  stderr: string,
): string {
  const cmd = argv.join(' ');
  switch (kind) {
    case 'not-found':
      return `${argv[0] ?? '?'} is not installed or not on PATH (running: ${cmd})`;
    case 'timeout':
      return `${cmd} did not finish in time`;
    case 'cancelled':
      return `${cmd} was cancelled`;
    case 'exit': {
      const why = stderr.trim().split('\n')[0];
      return `${cmd} failed with exit code ${exitCode ?? '?'}${why ? `: ${why}` : ''}`;
    }
  }
}

export interface CommandLogEntry {
  argv: readonly string[];
  durationMs: number;
  exitCode: number | null;
  outcome: 'ok' | ToolErrorKind;
}

export type CommandLog = (entry: CommandLogEntry) => void;

export interface RunOptions {
  signal?: AbortSignal;
  /** Milliseconds; 0 or absent means no limit. */
  timeoutMs?: number;
  /** Written to the child's stdin, then closed. Without it stdin is closed at once. */
  input?: string;
  /** Called with each complete stdout line as it arrives. */
  onStdoutLine?: (line: string) => void;
  /** Called with each complete stderr line as it arrives. */
  onStderrLine?: (line: string) => void;
  /**
   * Write the child's stdout, bytes as they come, to this local file (created or truncated)
   * instead of keeping or splitting it: a pcap streamed back with `tcpdump -U -w -` over
   * `docker exec` or an API exec. onStdoutLine and collectStdout are ignored with it.
   */
  stdoutFile?: string;
  /** Keep stdout in the result (default true for runTool, false for startTool). */
  collectStdout?: boolean;
  /** Exit codes that count as success (default [0]). */
  okExitCodes?: readonly number[];
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Signal sent on cancel or timeout (default SIGTERM). */
  killSignal?: NodeJS.Signals;
  /** How long a child may take to exit after killSignal before SIGKILL (default 2000 ms). */
  forceKillAfterMs?: number;
  /**
   * Leave the child running when this process exits (a daemon of a lab kept with --keep);
   * by default children die with the CLI or the extension host.
   */
  outliveParent?: boolean;
  /**
   * Run the child in its own process group and signal the whole group on timeout or cancel:
   * a shell script's children (a `sleep` under `sh`) would otherwise outlive it, keep its
   * pipes open and hold the result until they end (credential plugins are often scripts).
   */
  killGroup?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

/** A long-running child the caller stops itself (tcpdump, bird). */
export interface ToolProcess {
  readonly argv: readonly string[];
  /** The child's pid once it has been spawned (a moment after startTool returns). */
  readonly pid: number | undefined;
  /**
   * Resolves with the pid once the child has been spawned (undefined when it never was):
   * what a caller awaits before recording the pid, since `pid` is not set yet on return.
   */
  readonly spawned?: Promise<number | undefined>;
  /** Resolves when the process has exited, with its result; rejects like runTool. */
  readonly done: Promise<RunResult>;
  /** Sends a signal (default SIGINT, which lets tcpdump flush and close its file). */
  stop(signal?: NodeJS.Signals): void;
}

/** Stderr kept for the error message; the rest is still passed to onStderrLine. */
const MAX_STDERR = 64 * 1024;
const DEFAULT_FORCE_KILL_MS = 2000;

/** Process groups started with `killGroup` and still alive: killed if this process exits. */
const liveGroups = new Set<number>();
let exitHookSet = false;

function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is gone already.
  }
}

function firstLines(text: string, n: number): string {
  return text.split('\n').slice(0, n).join('\n');
}

/** The shell's convention for a child killed by a signal: 128 + the signal's number. */
function signalExitCode(signal: string | undefined): number {
  const n = signal ? constants.signals[signal as NodeJS.Signals] : undefined;
  return n === undefined ? -1 : 128 + n;
}

/**
 * Runs argv arrays through execa. One instance per process (see the module functions
 * below); it owns the log sink and the set of children still running.
 */
export class ProcessRunner {
  private log: CommandLog | undefined;
  /** execa, loaded on first use (an ESM module: see the top of this file). */
  private execa: Promise<typeof ExecaModule> | undefined;
  /** Children still running, each with the controller that cancels it (for stopAll). */
  private readonly running = new Map<ResultPromise, AbortController>();

  /** Where every command's argv, outcome and duration is reported. */
  setLog(log: CommandLog | undefined): void {
    this.log = log;
  }

  /** How many children are running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Runs argv[0] with argv[1..] and resolves when it exits with an ok exit code;
   * rejects with a ToolError otherwise.
   */
  run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv[0] === undefined) return Promise.reject(new Error('runTool needs a command'));
    return this.launch(argv, { collectStdout: true, ...options }).done;
  }

  /**
   * Starts argv and returns at once. `stop()` signals the child; any exit after stop()
   * counts as success.
   */
  start(argv: readonly string[], options: RunOptions = {}): ToolProcess {
    if (argv[0] === undefined) throw new Error('startTool needs a command');
    const tool = this.launch(argv, options);
    // A caller that only stops the process must not see an unhandled rejection.
    tool.done.catch(() => undefined);
    return tool;
  }

  /** The one spawn path behind run() and start(). */
  private launch(argv: readonly string[], options: RunOptions): ToolProcess {
    const [file, ...args] = argv as [string, ...string[]];
    const started = Date.now();
    let child: ResultPromise | undefined;
    let stopWith: NodeJS.Signals | undefined;
    let onSpawned: (pid: number | undefined) => void = () => undefined;
    const spawned = new Promise<number | undefined>((resolve) => (onSpawned = resolve));

    const finish = (outcome: CommandLogEntry['outcome'], exitCode: number | null): void => {
      this.log?.({ argv, durationMs: Date.now() - started, exitCode, outcome });
    };
    const fail = (kind: ToolErrorKind, exitCode: number | null, stderr: string): ToolError => {
      finish(kind, exitCode);
      return new ToolError(kind, argv, exitCode, firstLines(stderr, 10));
    };

    const done = (async (): Promise<RunResult> => {
      this.execa ??= import('execa');
      const { execa } = await this.execa;
      if (options.signal?.aborted) throw fail('cancelled', null, '');
      const collect = options.collectStdout ?? false;
      const onOut = options.onStdoutLine;
      const onErr = options.onStderrLine;
      let stderrKept = 0;
      const cancel = new AbortController();
      const execaOptions: Options = {
        reject: false,
        cancelSignal: options.signal
          ? AbortSignal.any([options.signal, cancel.signal])
          : cancel.signal,
        timeout: options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : 0,
        killSignal: options.killSignal ?? 'SIGTERM',
        forceKillAfterDelay: options.forceKillAfterMs ?? DEFAULT_FORCE_KILL_MS,
        cleanup: !options.outliveParent,
        detached: options.killGroup === true,
        env: options.env,
        extendEnv: options.env === undefined,
        cwd: options.cwd,
        stripFinalNewline: false,
        // No cap on what is collected (as before execa): a caller that expects a lot of
        // output streams it with onStdoutLine and collectStdout: false instead.
        maxBuffer: Number.MAX_SAFE_INTEGER,
        // A file target is written as it comes; keeping it in memory too would defeat it.
        ...(options.stdoutFile ? { buffer: { stdout: false, stderr: true } } : {}),
        ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
        // A generator transform gets one line at a time (execa splits them) and decides
        // what is kept in the result.
        stdout: options.stdoutFile
          ? { file: options.stdoutFile }
          : onOut
            ? function* (line: unknown) {
                onOut(String(line));
                if (collect) yield line;
              }
            : collect
              ? 'pipe'
              : 'ignore',
        // Without a line callback plain buffering is enough (a transform costs a stream
        // pipeline per command, measurable over the hundreds of `ip` calls of a lab build).
        stderr: onErr
          ? function* (line: unknown) {
              const text = String(line);
              onErr(text);
              if (stderrKept < MAX_STDERR) {
                stderrKept += text.length + 1;
                yield line;
              }
            }
          : 'pipe',
      };
      child = execa(file, args, execaOptions);
      onSpawned(child.pid);
      this.running.set(child, cancel);
      if (stopWith) child.kill(stopWith);
      const pgid = options.killGroup ? child.pid : undefined;
      const groupTimers: NodeJS.Timeout[] = [];
      let groupEnded = false;
      const endGroup = (): void => {
        groupEnded = true;
        const signal = options.killSignal ?? 'SIGTERM';
        signalGroup(pgid, signal);
        const force = setTimeout(
          () => signalGroup(pgid, 'SIGKILL'),
          options.forceKillAfterMs ?? DEFAULT_FORCE_KILL_MS,
        );
        force.unref();
        groupTimers.push(force);
      };
      if (pgid !== undefined) {
        liveGroups.add(pgid);
        if (!exitHookSet) {
          exitHookSet = true;
          process.once('exit', () => liveGroups.forEach((g) => signalGroup(g, 'SIGKILL')));
        }
        if (execaOptions.timeout) {
          const t = setTimeout(endGroup, execaOptions.timeout);
          t.unref();
          groupTimers.push(t);
        }
        execaOptions.cancelSignal?.addEventListener('abort', endGroup, { once: true });
      }
      let result: Result;
      try {
        result = await child;
      } finally {
        this.running.delete(child);
        if (pgid !== undefined) {
          groupTimers.forEach(clearTimeout);
          execaOptions.cancelSignal?.removeEventListener('abort', endGroup);
          // A timed-out or cancelled leader takes what it left in its group with it.
          if (groupEnded) signalGroup(pgid, 'SIGKILL');
          liveGroups.delete(pgid);
        }
      }
      const stdout = typeof result.stdout === 'string' ? result.stdout : '';
      const stderr = typeof result.stderr === 'string' ? result.stderr : '';
      const exitCode = result.exitCode ?? null;
      if (result.isCanceled) throw fail('cancelled', exitCode, stderr);
      if (result.timedOut) throw fail('timeout', exitCode, stderr);
      if (result.failed && exitCode === null && !result.signal) {
        // The child never ran (spawn failed) or execa itself failed.
        const code = (result as { code?: unknown }).code;
        if (code === 'ENOENT') throw fail('not-found', null, '');
        const message = (result as { originalMessage?: string }).originalMessage ?? result.message;
        throw fail('exit', null, message ?? '');
      }
      const code = exitCode ?? signalExitCode(result.signal);
      const okCodes = options.okExitCodes ?? [0];
      if (stopWith === undefined && !okCodes.includes(code)) throw fail('exit', code, stderr);
      finish('ok', code);
      return { stdout, stderr, exitCode: code, durationMs: Date.now() - started };
    })();
    // Never spawned (aborted first, execa failed to load): `spawned` still settles.
    done.then(
      () => onSpawned(undefined),
      () => onSpawned(undefined),
    );

    return {
      argv,
      get pid() {
        return child?.pid;
      },
      spawned,
      done,
      stop(signal: NodeJS.Signals = 'SIGINT') {
        stopWith = signal;
        child?.kill(signal);
      },
    };
  }

  /**
   * Cancels every child still running (killSignal, then SIGKILL after the grace period; each
   * rejects as 'cancelled') and waits for them to exit. For the extension's deactivate; the
   * process's own exit is covered by execa's `cleanup`.
   */
  async stopAll(): Promise<void> {
    const children = [...this.running];
    for (const [, cancel] of children) cancel.abort();
    await Promise.allSettled(children.map(([child]) => child));
  }
}

/** The process-wide runner used by the functions below. */
const processRunner = new ProcessRunner();

/** Where every command's argv, outcome and duration is reported (one sink per process). */
export function setCommandLog(log: CommandLog | undefined): void {
  processRunner.setLog(log);
}

/** See ProcessRunner.run. */
export function runTool(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return processRunner.run(argv, options);
}

/** See ProcessRunner.start. */
export function startTool(argv: readonly string[], options: RunOptions = {}): ToolProcess {
  return processRunner.start(argv, options);
}

/** See ProcessRunner.stopAll. */
export function stopAllTools(): Promise<void> {
  return processRunner.stopAll();
}
