/**
 * The one process runner. Every external command in Podpath goes through here as
 * an argv array (never a shell string), with a timeout, an AbortSignal that kills
 * the child, and a `ToolError` that says what failed. A log sink sees every
 * command with its duration (the extension points it at the "Podpath" output channel).
 */
import { spawn } from 'node:child_process';

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

let commandLog: CommandLog | undefined;

/** Where every command's argv, outcome and duration is reported (one sink per process). */
export function setCommandLog(log: CommandLog | undefined): void {
  commandLog = log;
}

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
  /** Keep stdout in the result (default true). Turn off for long streams. */
  collectStdout?: boolean;
  /** Exit codes that count as success (default [0]). */
  okExitCodes?: readonly number[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Signal sent on cancel or timeout (default SIGTERM, then SIGKILL after 2 s). */
  killSignal?: NodeJS.Signals;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

const MAX_STDERR = 64 * 1024;

function firstLines(text: string, n: number): string {
  return text.split('\n').slice(0, n).join('\n');
}

/** Splits a byte stream into lines without holding more than one partial line. */
function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let rest = '';
  return {
    push(chunk: string) {
      const text = rest + chunk;
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        onLine(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
    },
    end() {
      if (rest.length > 0) onLine(rest);
      rest = '';
    },
  };
}

/**
 * Runs argv[0] with argv[1..] and resolves when it exits successfully; rejects
 * with a ToolError otherwise.
 */
export function runTool(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('runTool needs a command'));
  const started = Date.now();
  const okCodes = options.okExitCodes ?? [0];
  const collect = options.collectStdout ?? true;

  return new Promise<RunResult>((resolve, reject) => {
    const log = (exitCode: number | null, outcome: CommandLogEntry['outcome']): void => {
      commandLog?.({ argv, durationMs: Date.now() - started, exitCode, outcome });
    };
    if (options.signal?.aborted) {
      log(null, 'cancelled');
      reject(new ToolError('cancelled', argv, null, ''));
      return;
    }
    let stdout = '';
    let stderr = '';
    let settled = false;
    let killedFor: 'timeout' | 'cancelled' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;

    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });

    const outLines = options.onStdoutLine ? lineSplitter(options.onStdoutLine) : undefined;
    const errLines = options.onStderrLine ? lineSplitter(options.onStderrLine) : undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (collect) stdout += chunk;
      outLines?.push(chunk);
    });
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < MAX_STDERR) stderr += chunk;
      errLines?.push(chunk);
    });
    child.stdin.on('error', () => {
      /* the child may exit before reading its input */
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();

    const kill = (why: 'timeout' | 'cancelled'): void => {
      if (killedFor || settled) return;
      killedFor = why;
      child.kill(options.killSignal ?? 'SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
      killTimer.unref();
    };
    const onAbort = (): void => kill('cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.timeoutMs && options.timeoutMs > 0) {
      timeoutTimer = setTimeout(() => kill('timeout'), options.timeoutMs);
    }

    const finish = (): void => {
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (timeoutTimer) clearTimeout(timeoutTimer);
      if (killTimer) clearTimeout(killTimer);
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      finish();
      if (err.code === 'ENOENT') {
        log(null, 'not-found');
        reject(new ToolError('not-found', argv, null, ''));
      } else {
        log(null, 'exit');
        reject(new ToolError('exit', argv, null, err.message));
      }
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      finish();
      outLines?.end();
      errLines?.end();
      if (killedFor) {
        log(code, killedFor);
        reject(new ToolError(killedFor, argv, code, firstLines(stderr, 10)));
        return;
      }
      const exitCode = code ?? (signal ? 128 : -1);
      if (!okCodes.includes(exitCode)) {
        log(exitCode, 'exit');
        reject(new ToolError('exit', argv, exitCode, firstLines(stderr, 10)));
        return;
      }
      log(exitCode, 'ok');
      resolve({ stdout, stderr, exitCode, durationMs: Date.now() - started });
    });
  });
}

/** A long-running child the caller stops itself (tcpdump, bird). */
export interface ToolProcess {
  readonly argv: readonly string[];
  readonly pid: number | undefined;
  /** Resolves when the process has exited, with its result; rejects like runTool. */
  readonly done: Promise<RunResult>;
  /** Sends a signal (default SIGINT, which lets tcpdump flush and close its file). */
  stop(signal?: NodeJS.Signals): void;
}

/**
 * Starts argv and returns at once. `stop()` signals the child; a signal-caused exit
 * after stop() counts as success.
 */
export function startTool(argv: readonly string[], options: RunOptions = {}): ToolProcess {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('startTool needs a command');
  const started = Date.now();
  let stopped = false;
  let stdout = '';
  let stderr = '';
  const collect = options.collectStdout ?? false;
  const child = spawn(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
    detached: false,
  });
  const outLines = options.onStdoutLine ? lineSplitter(options.onStdoutLine) : undefined;
  const errLines = options.onStderrLine ? lineSplitter(options.onStderrLine) : undefined;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    if (collect) stdout += chunk;
    outLines?.push(chunk);
  });
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < MAX_STDERR) stderr += chunk;
    errLines?.push(chunk);
  });

  const done = new Promise<RunResult>((resolve, reject) => {
    let timeoutTimer: NodeJS.Timeout | undefined;
    let cancelled = false;
    let timedOut = false;
    const onAbort = (): void => {
      cancelled = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    if (options.timeoutMs && options.timeoutMs > 0) {
      timeoutTimer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }, options.timeoutMs);
    }
    const log = (exitCode: number | null, outcome: CommandLogEntry['outcome']): void => {
      commandLog?.({ argv, durationMs: Date.now() - started, exitCode, outcome });
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (timeoutTimer) clearTimeout(timeoutTimer);
      const kind: ToolErrorKind = err.code === 'ENOENT' ? 'not-found' : 'exit';
      log(null, kind);
      reject(new ToolError(kind, argv, null, err.message));
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (timeoutTimer) clearTimeout(timeoutTimer);
      outLines?.end();
      errLines?.end();
      const exitCode = code ?? (signal ? 128 : -1);
      const durationMs = Date.now() - started;
      if (cancelled || timedOut) {
        const kind = cancelled ? 'cancelled' : 'timeout';
        log(code, kind);
        reject(new ToolError(kind, argv, code, firstLines(stderr, 10)));
      } else if (exitCode === 0 || (stopped && (signal !== null || exitCode !== 0))) {
        log(exitCode, 'ok');
        resolve({ stdout, stderr, exitCode, durationMs });
      } else {
        log(exitCode, 'exit');
        reject(new ToolError('exit', argv, exitCode, firstLines(stderr, 10)));
      }
    });
  });
  // A caller that only stops the process must not see an unhandled rejection.
  done.catch(() => undefined);

  return {
    argv,
    pid: child.pid,
    done,
    stop(signal: NodeJS.Signals = 'SIGINT') {
      stopped = true;
      child.kill(signal);
    },
  };
}
