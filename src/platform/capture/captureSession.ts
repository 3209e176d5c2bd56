/**
 * A capture session: tcpdump at every hop of a datapath at the same time, traffic,
 * a clean stop, and a text rendering next to each pcap.
 *
 * It knows nothing about network namespaces, kind or clusters: every command goes
 * through a NodeShell, so the same session runs in the offline lab and against real
 * nodes. Two tcpdump details matter for "no packet lost":
 * - `--immediate-mode`: with TPACKET_V3 libpcap hands packets over a block at a time,
 *   and a SIGINT before the block times out drops what is still in it (seen here:
 *   "0 packets captured, 8 received by filter").
 * - `-U` and SIGINT (never SIGKILL first): every packet is written as it arrives and
 *   tcpdump closes the file properly when interrupted.
 * `-Z root` keeps tcpdump from switching to the `tcpdump` user before it opens the
 * output file, so the file can be written wherever the caller points it.
 * Where the pcap is written depends on the shell: in network namespaces (one filesystem)
 * tcpdump writes the local path itself; a shell whose commands run on another machine
 * (`streamsCaptures`: a kind node, a node-shell pod) gets `-w -` and the bytes tcpdump
 * writes to stdout go, as they come, into the local file (RunOptions.stdoutFile) — with
 * `-U` each packet is flushed into the pipe as it is written.
 * Limits (as Retina's captures have): a duration after which the traffic is cut short
 * and the captures stop, a byte budget per hop (the local file is watched and that one
 * capture stopped with SIGINT when it reaches it), and a snap length (`-s`). A capture a
 * limit stopped says so in its result; that is not an error.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ToolProcess } from '../exec/runner';
import { ToolError, runTool } from '../exec/runner';
import type { NodeShell, ShellTarget } from '../shells/nodeShell';

export interface CaptureHop {
  /** File-name style hop name: `04-nodeA-eth0`; the pcap is `<name>.pcap`. */
  name: string;
  target: ShellTarget;
  interface: string;
  /** tcpdump filter expression, passed as one argv element (empty: capture everything). */
  filter: string;
}

export interface CaptureHopsOptions {
  shell: NodeShell;
  hops: readonly CaptureHop[];
  /** Folder the pcaps and text renderings are written to (must exist). */
  outDir: string;
  /** Sends the traffic once every capture listens; must honour the signal. */
  traffic: (signal: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Wait after the traffic before stopping the captures (default 200 ms). */
  settleMs?: number;
  /** How long every capture may take to start listening (default 10 s). */
  listenTimeoutMs?: number;
  /** How long a capture may take to exit after SIGINT before it is killed (default 3 s). */
  stopTimeoutMs?: number;
  limits?: CaptureLimits;
}

/** Retina-like limits on a capture session. */
export interface CaptureLimits {
  /** Longest the traffic may run once every capture listens; then the captures stop. */
  durationMs?: number;
  /** Bytes of pcap per hop; a hop's capture stops once its file reaches this (checked every 200 ms). */
  maxBytesPerHop?: number;
  /** Bytes kept of each packet (`tcpdump -s`, default 262144: whole packets). */
  snaplen?: number;
}

/** Which limit ended a capture early. */
export type CaptureLimitHit = 'duration' | 'size';

export interface CapturedHopFile {
  hop: string;
  pcap: string;
  text: string;
  /** Packets tcpdump wrote (its own "N packets captured" count). */
  packets: number;
  /** Bytes of the pcap file. */
  bytes: number;
  /** Set when a limit stopped this capture before the traffic was done. */
  limitedBy?: CaptureLimitHit;
}

export interface CaptureTimings {
  /** From starting the captures until every one of them listened. */
  startMs: number;
  trafficMs: number;
  settleMs: number;
  /** From SIGINT until every capture exited. */
  stopMs: number;
  renderMs: number;
  totalMs: number;
}

export interface CaptureResult {
  files: CapturedHopFile[];
  timings: CaptureTimings;
  /** True when the duration limit cut the traffic short. */
  durationLimitHit: boolean;
}

/** A capture that could not start or failed: names the hop and carries tcpdump's words. */
export class CaptureError extends Error {
  readonly hop: string;
  constructor(hop: string, message: string) {
    super(message);
    this.name = 'CaptureError';
    this.hop = hop;
  }
}

interface RunningCapture {
  hop: CaptureHop;
  pcap: string;
  process: ToolProcess;
  listening: Promise<void>;
  stderrLines: string[];
  /** Set once the process has exited, for whatever reason. */
  exited: boolean;
  limitedBy?: CaptureLimitHit;
}

/**
 * The argv that captures one hop into a pcap file; `pcapPath` `-` writes the pcap to
 * stdout (streamed back by shells on other machines).
 */
export function tcpdumpCaptureArgv(
  iface: string,
  pcapPath: string,
  filter: string,
  snaplen = 262144,
): string[] {
  const argv = ['tcpdump', '-i', iface, '-nn', '-U', '--immediate-mode', '-Z', 'root'];
  argv.push('-s', String(snaplen), '-w', pcapPath);
  if (filter.trim() !== '') argv.push(filter);
  return argv;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function tcpdumpWords(capture: RunningCapture, err: unknown): string {
  const fromStderr = capture.stderrLines
    .filter((l) => !/^tcpdump: listening on/.test(l) && l.trim() !== '')
    .slice(0, 3)
    .join(' ');
  if (fromStderr) return fromStderr;
  if (err instanceof ToolError) return err.stderr.trim() || err.message;
  return err instanceof Error ? err.message : String(err);
}

function startCapture(
  shell: NodeShell,
  hop: CaptureHop,
  outDir: string,
  listenTimeoutMs: number,
  snaplen: number | undefined,
): RunningCapture {
  const pcap = join(outDir, `${hop.name}.pcap`);
  const stderrLines: string[] = [];
  let markListening: () => void = () => undefined;
  const listeningSeen = new Promise<void>((resolve) => {
    markListening = resolve;
  });
  const streamed = shell.streamsCaptures === true;
  const argv = tcpdumpCaptureArgv(hop.interface, streamed ? '-' : pcap, hop.filter, snaplen);
  const tool = shell.start(hop.target, argv, {
    ...(streamed ? { stdoutFile: pcap } : {}),
    onStderrLine: (line) => {
      if (stderrLines.length < 50) stderrLines.push(line);
      if (line.includes('listening on')) markListening();
    },
  });
  const capture: RunningCapture = {
    hop,
    pcap,
    process: tool,
    stderrLines,
    listening: listeningSeen,
    exited: false,
  };
  const markExited = (): void => {
    capture.exited = true;
  };
  tool.done.then(markExited, markExited);
  // Listening, or a clear error: tcpdump died first, or stayed silent too long.
  capture.listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new CaptureError(
          hop.name,
          `Capture at ${hop.name} (${hop.interface}) did not start listening within ${listenTimeoutMs} ms`,
        ),
      );
    }, listenTimeoutMs);
    listeningSeen.then(() => {
      clearTimeout(timer);
      resolve();
    });
    tool.done.then(
      () => {
        clearTimeout(timer);
        reject(
          new CaptureError(
            hop.name,
            `Capture at ${hop.name} (${hop.interface}) exited before listening: ${tcpdumpWords(capture, undefined) || 'no message'}`,
          ),
        );
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(
          new CaptureError(
            hop.name,
            `Capture at ${hop.name} (${hop.interface}) failed: ${tcpdumpWords(capture, err)}`,
          ),
        );
      },
    );
  });
  capture.listening.catch(() => undefined);
  return capture;
}

/** SIGINT, wait for exit, SIGKILL after the timeout. Never throws. */
async function stopCapture(capture: RunningCapture, timeoutMs: number): Promise<void> {
  // Already gone (a size limit stopped it, or it died): nothing to signal.
  if (capture.exited) return;
  capture.process.stop('SIGINT');
  const exited = capture.process.done.then(
    () => true,
    () => true,
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ok = await Promise.race([exited, timedOut]);
  if (timer) clearTimeout(timer);
  if (!ok) {
    capture.process.stop('SIGKILL');
    await exited;
  }
}

function capturedCount(stderr: string): number | undefined {
  const m = /^(\d+) packets? captured/m.exec(stderr);
  return m?.[1] !== undefined ? Number(m[1]) : undefined;
}

/** Counts the packets in a `tcpdump -v` rendering: continuation lines start with whitespace. */
function countRenderedPackets(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (line !== '' && !/^\s/.test(line)) n++;
  return n;
}

/**
 * Captures every hop at once while `traffic` runs, stops cleanly, and renders each
 * pcap to text (`tcpdump -nn -e -v -r`) next to it. On abort or failure every capture
 * it started is stopped (and only those); files already written stay.
 */
export async function captureHops(options: CaptureHopsOptions): Promise<CaptureResult> {
  const { shell, hops, outDir } = options;
  const settleMs = options.settleMs ?? 200;
  const listenTimeoutMs = options.listenTimeoutMs ?? 10_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 3000;
  const progress = options.onProgress ?? (() => undefined);
  const names = new Set<string>();
  for (const hop of hops) {
    if (names.has(hop.name)) throw new Error(`Two capture hops are named ${hop.name}`);
    names.add(hop.name);
  }
  options.signal?.throwIfAborted();

  // One controller for the whole session: the caller's abort and our own failures
  // both end up here, and the traffic sees it.
  const session = new AbortController();
  const onOuterAbort = (): void => session.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const t0 = Date.now();
  const timings: CaptureTimings = {
    startMs: 0,
    trafficMs: 0,
    settleMs: 0,
    stopMs: 0,
    renderMs: 0,
    totalMs: 0,
  };
  const captures: RunningCapture[] = [];
  const limits = options.limits ?? {};
  let durationLimitHit = false;
  let sizeWatch: NodeJS.Timeout | undefined;
  let stopped = false;
  const stopAll = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    clearInterval(sizeWatch);
    const t = Date.now();
    await Promise.all(captures.map((c) => stopCapture(c, stopTimeoutMs)));
    timings.stopMs = Date.now() - t;
  };

  try {
    progress(`Starting ${hops.length} captures`);
    for (const hop of hops) {
      captures.push(startCapture(shell, hop, outDir, listenTimeoutMs, limits.snaplen));
    }
    const maxBytes = limits.maxBytesPerHop;
    if (maxBytes !== undefined && maxBytes > 0) {
      sizeWatch = setInterval(() => {
        for (const c of captures) {
          if (c.exited || c.limitedBy) continue;
          stat(c.pcap).then(
            (st) => {
              if (st.size < maxBytes || c.limitedBy || c.exited) return;
              c.limitedBy = 'size';
              progress(`${c.hop.name} reached ${maxBytes} bytes: that capture stops`);
              c.process.stop('SIGINT');
            },
            () => undefined,
          );
        }
      }, 200);
      sizeWatch.unref();
    }
    await raceAbort(Promise.all(captures.map((c) => c.listening)), session.signal);
    timings.startMs = Date.now() - t0;
    progress(`All ${hops.length} captures listening (${timings.startMs} ms)`);

    let t = Date.now();
    // The traffic gets its own signal so the duration limit can cut it short without
    // turning the session into a failure.
    const traffic = new AbortController();
    const onSessionAbort = (): void => traffic.abort(session.signal.reason);
    session.signal.addEventListener('abort', onSessionAbort, { once: true });
    const durationTimer =
      limits.durationMs !== undefined && limits.durationMs > 0
        ? setTimeout(() => {
            durationLimitHit = true;
            progress(`Duration limit (${limits.durationMs} ms) reached: stopping the captures`);
            traffic.abort(new Error('capture duration limit reached'));
          }, limits.durationMs)
        : undefined;
    try {
      await raceAbort(options.traffic(traffic.signal), traffic.signal);
    } catch (err) {
      if (!durationLimitHit || session.signal.aborted) throw err;
    } finally {
      clearTimeout(durationTimer);
      session.signal.removeEventListener('abort', onSessionAbort);
    }
    timings.trafficMs = Date.now() - t;
    progress(`Traffic sent (${timings.trafficMs} ms)`);

    t = Date.now();
    await sleep(settleMs, session.signal);
    timings.settleMs = Date.now() - t;
    // A capture that died during the traffic lost packets: say which.
    for (const c of captures) {
      if (c.exited && !c.limitedBy) {
        throw new CaptureError(
          c.hop.name,
          `Capture at ${c.hop.name} (${c.hop.interface}) stopped during the traffic: ${tcpdumpWords(c, undefined) || 'no message'}`,
        );
      }
    }
  } catch (err) {
    session.abort(err);
    await stopAll();
    options.signal?.removeEventListener('abort', onOuterAbort);
    throw err;
  }
  options.signal?.removeEventListener('abort', onOuterAbort);

  await stopAll();
  progress(`Captures stopped (${timings.stopMs} ms)`);

  const t = Date.now();
  const files = await Promise.all(
    captures.map(async (c): Promise<CapturedHopFile> => {
      const result = await c.process.done.catch((err: unknown) => {
        throw new CaptureError(
          c.hop.name,
          `Capture at ${c.hop.name} (${c.hop.interface}) failed: ${tcpdumpWords(c, err)}`,
        );
      });
      const text = join(outDir, `${c.hop.name}.txt`);
      const rendered = await runTool(['tcpdump', '-nn', '-e', '-v', '-r', c.pcap], {
        signal: options.signal,
        timeoutMs: 60_000,
      });
      await writeFile(text, rendered.stdout);
      const packets = capturedCount(result.stderr) ?? countRenderedPackets(rendered.stdout);
      const bytes = (await stat(c.pcap)).size;
      const limitedBy = c.limitedBy ?? (durationLimitHit ? 'duration' : undefined);
      return {
        hop: c.hop.name,
        pcap: c.pcap,
        text,
        packets,
        bytes,
        ...(limitedBy ? { limitedBy } : {}),
      };
    }),
  );
  timings.renderMs = Date.now() - t;
  timings.totalMs = Date.now() - t0;
  return { files, timings, durationLimitHit };
}

/** Rejects as soon as the signal aborts, without waiting for `work` to notice. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
