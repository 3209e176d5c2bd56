/**
 * Stopping a command that runs through an exec (`docker exec`, the API's pod exec): the exec
 * passes no signal on, and ending it leaves the command running on the node. So the command
 * starts behind a fixed `sh` preamble that prints its pid on stderr (stdout stays the
 * command's, e.g. a pcap from `tcpdump -U -w -`) and then `exec`s it; a stop is a second exec
 * running `kill` with that pid. KindNodeShell and PodNodeShell both work this way.
 */

const PREAMBLE = 'echo "podpath-pid $$" >&2; exec "$@"';
const PID_LINE = /^podpath-pid (\d+)$/;

/** `sh -c '<preamble>' sh argv…`: argv, reporting its pid on stderr first. */
export function withPidPreamble(argv: readonly string[]): string[] {
  return ['sh', '-c', PREAMBLE, 'sh', ...argv];
}

/** The pid in the preamble's stderr line, or undefined for any other line. */
export function parsePidLine(line: string): number | undefined {
  const m = PID_LINE.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** `kill -s INT <pid>`: what the second exec runs to send `signal` to `pid`. */
export function killArgv(pid: number, signal: NodeJS.Signals): string[] {
  return ['kill', '-s', signal.replace(/^SIG/, ''), String(pid)];
}

/**
 * The pid a started command reported, and the signals meant for it: a stop asked for before
 * the preamble has spoken is sent as soon as it has.
 */
export class RemotePid {
  private value: number | undefined;
  private pending: NodeJS.Signals | undefined;

  /** `send` signals the remote process (a second exec `kill`). */
  constructor(private readonly send: (pid: number, signal: NodeJS.Signals) => void) {}

  /** The remote pid, once reported. */
  get pid(): number | undefined {
    return this.value;
  }

  /** The preamble reported `pid`: a signal asked for before now is sent. */
  reported(pid: number): void {
    this.value = pid;
    if (this.pending) this.send(pid, this.pending);
  }

  /** Sends `signal` now, or once the pid is known. */
  signal(signal: NodeJS.Signals): void {
    if (this.value === undefined) {
      this.pending = signal;
      return;
    }
    this.send(this.value, signal);
  }
}
