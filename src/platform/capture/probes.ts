/**
 * Probe traffic for capture sessions, run through a NodeShell: ICMP echo (ping) from
 * the source pod, or a short real TCP exchange with iperf3 (server in the destination
 * pod, client in the source pod), or a connect to a port that is already there (a
 * trace between two pods of a real cluster: TCP or UDP with curl, which kind node
 * images ship). All are kept small so every hop's capture stays a handful of packets
 * and a lab run stays quick.
 */
import { ToolError } from '../exec/runner';
import type { NodeShell, ShellTarget } from '../shells/nodeShell';

export interface PingProbeOptions {
  from: ShellTarget;
  /** Destination IP. */
  to: string;
  /** Echo requests to send (default 3). */
  count?: number;
  /** Seconds between requests (default 0.2, the smallest an unprivileged ping allows). */
  intervalSeconds?: number;
  /** Seconds to wait for each reply (default 1). */
  waitSeconds?: number;
  /** ICMP payload size (`ping -s`); the IP packet is size + 28 bytes. */
  size?: number;
  /** Set Don't Fragment and never fragment locally (`ping -M do`): shows MTU problems. */
  dontFragment?: boolean;
  signal?: AbortSignal;
}

export interface ProbeOutcome {
  kind: 'icmp' | 'tcp' | 'udp';
  /** Requests sent / replies received (ping), or 1/1 for a completed TCP exchange. */
  sent: number;
  received: number;
  /** The tool's summary line, for people. */
  summary: string;
}

/** `ping -c 3 -i 0.2 -W 1 [-s size] <dst>`, as an argv. */
export function pingArgv(options: Omit<PingProbeOptions, 'from' | 'signal'>): string[] {
  const argv = ['ping', '-n', '-c', String(options.count ?? 3)];
  argv.push('-i', String(options.intervalSeconds ?? 0.2), '-W', String(options.waitSeconds ?? 1));
  if (options.size !== undefined) argv.push('-s', String(options.size));
  if (options.dontFragment) argv.push('-M', 'do');
  argv.push(options.to);
  return argv;
}

/**
 * Pings from the source. Lost replies are a result, not an error (ping exits 1 then):
 * a lab with a fault injected loses them on purpose.
 */
export async function runPingProbe(
  shell: NodeShell,
  options: PingProbeOptions,
): Promise<ProbeOutcome> {
  const count = options.count ?? 3;
  const interval = options.intervalSeconds ?? 0.2;
  const wait = options.waitSeconds ?? 1;
  const result = await shell.run(options.from, pingArgv(options), {
    signal: options.signal,
    okExitCodes: [0, 1],
    timeoutMs: Math.ceil((count * interval + wait) * 1000) + 5000,
  });
  return pingOutcome(result.stdout, count);
}

/**
 * A ping's outcome from its output (iputils' and busybox's statistics line alike), wherever it
 * ran: from the node into the pod's network namespace, or inside the pod through the API.
 */
export function pingOutcome(stdout: string, count: number): ProbeOutcome {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout);
  return {
    kind: 'icmp',
    sent: m?.[1] !== undefined ? Number(m[1]) : count,
    received: m?.[2] !== undefined ? Number(m[2]) : 0,
    summary: m?.[0] ?? stdout.trim().split('\n').pop() ?? '',
  };
}

export interface TcpProbeOptions {
  from: ShellTarget;
  /** Where the iperf3 server runs (the destination pod). */
  server: ShellTarget;
  /** Destination IP the client connects to. */
  to: string;
  port?: number;
  /** Bytes the client sends (iperf3 `-n`, default 64K): a few dozen segments, done at once. */
  bytes?: string;
  /** How long the client may take to connect (ms, default 3000). */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/** The iperf3 server argv: one test, then exit; flush so "Server listening" reaches a pipe at once. */
export function iperfServerArgv(port: number): string[] {
  return ['iperf3', '-s', '-1', '-p', String(port), '--forceflush'];
}

/** The iperf3 client argv: a small fixed amount of data so the capture stays small. */
export function iperfClientArgv(
  to: string,
  port: number,
  bytes: string,
  connectTimeoutMs: number,
): string[] {
  return [
    'iperf3',
    '-c',
    to,
    '-p',
    String(port),
    '-n',
    bytes,
    '--connect-timeout',
    String(connectTimeoutMs),
  ];
}

/**
 * A real TCP exchange: iperf3 server (`-s -1`) in the destination, client in the source.
 * A connection that cannot be made (a broken datapath) is a result with received 0,
 * not an error; a missing iperf3 or a server that cannot start is an error.
 */
export async function runTcpProbe(
  shell: NodeShell,
  options: TcpProbeOptions,
): Promise<ProbeOutcome> {
  const port = options.port ?? 5201;
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
  let markListening: () => void = () => undefined;
  const listening = new Promise<void>((resolve) => {
    markListening = resolve;
  });
  const server = shell.start(options.server, iperfServerArgv(port), {
    signal: options.signal,
    onStdoutLine: (line) => {
      if (/listening on/i.test(line)) markListening();
    },
  });
  try {
    await Promise.race([
      listening,
      server.done.then(
        () => {
          throw new Error('iperf3 server exited before listening');
        },
        (err: unknown) => {
          throw err instanceof ToolError ? new Error(`iperf3 server failed: ${err.message}`) : err;
        },
      ),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error('iperf3 server did not start listening within 5 s')),
          5000,
        ).unref(),
      ),
    ]);
    const client = await shell.run(
      options.from,
      iperfClientArgv(options.to, port, options.bytes ?? '64K', connectTimeoutMs),
      { signal: options.signal, okExitCodes: [0, 1], timeoutMs: connectTimeoutMs + 10_000 },
    );
    const ok = client.exitCode === 0;
    const summary = ok
      ? (
          client.stdout
            .trim()
            .split('\n')
            .find((l) => /receiver/.test(l)) ?? 'iperf3 done'
        ).trim()
      : ((client.stderr.trim() || client.stdout.trim()).split('\n')[0] ?? 'iperf3 failed');
    return { kind: 'tcp', sent: 1, received: ok ? 1 : 0, summary };
  } finally {
    // A one-off server exits by itself after a test; after a failed connect it is still waiting.
    server.stop('SIGTERM');
    await server.done.catch(() => undefined);
  }
}

export interface PortProbeOptions {
  from: ShellTarget;
  protocol: 'tcp' | 'udp';
  /** Destination IP. */
  to: string;
  port: number;
  /** Seconds the whole probe may take (default 3). */
  maxSeconds?: number;
  signal?: AbortSignal;
}

/**
 * The curl argv of a port probe. TCP: connect (and send an HTTP GET, which any server may
 * ignore); `-w` prints the connect time, 0 when no connection was made. UDP: a TFTP read
 * request, the one UDP datagram curl can send to an arbitrary port.
 */
export function portProbeArgv(options: Omit<PortProbeOptions, 'from' | 'signal'>): string[] {
  const max = String(options.maxSeconds ?? 3);
  const host = options.to.includes(':') ? `[${options.to}]` : options.to;
  if (options.protocol === 'tcp') {
    return [
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '--connect-timeout',
      max,
      '-m',
      max,
      '-w',
      '%{time_connect} %{http_code}',
      `http://${host}:${options.port}/`,
    ];
  }
  return [
    'curl',
    '-s',
    '-o',
    '/dev/null',
    '-m',
    max,
    `tftp://${host}:${options.port}/podpath-probe`,
  ];
}

/**
 * A TCP connect or a UDP datagram from the source to a port of the destination, with curl
 * run at the source (the pod's network namespace, entered from its node, so the pod's
 * image need not have curl). A refused or unanswered probe is a result, not an error: the
 * packets still crossed the datapath. A missing curl is an error that says so.
 */
export async function runPortProbe(
  shell: NodeShell,
  options: PortProbeOptions,
): Promise<ProbeOutcome> {
  const argv = portProbeArgv(options);
  let result;
  try {
    result = await shell.run(options.from, argv, {
      signal: options.signal,
      // curl's exit codes say how the connection went; none of them is a failure here.
      okExitCodes: [...Array(100).keys()],
      timeoutMs: ((options.maxSeconds ?? 3) + 5) * 1000,
    });
  } catch (e) {
    if (
      e instanceof ToolError &&
      (e.kind === 'not-found' || e.exitCode === 127 || e.exitCode === 126)
    ) {
      throw new Error(
        `curl is not installed where the ${options.protocol.toUpperCase()} probe runs (node ${options.from.node}); install curl there or use --probe icmp.`,
      );
    }
    throw e;
  }
  return portOutcome(options, result.stdout, result.exitCode);
}

/** A port probe's outcome from curl's `-w` output and exit code, wherever curl ran. */
export function portOutcome(
  options: Pick<PortProbeOptions, 'protocol' | 'to' | 'port'>,
  stdout: string,
  exitCode: number,
): ProbeOutcome {
  const result = { stdout, exitCode };
  if (options.protocol === 'tcp') {
    const [connect = '0', code = '000'] = result.stdout.trim().split(/\s+/);
    const connected = Number(connect) > 0;
    return {
      kind: 'tcp',
      sent: 1,
      received: connected ? 1 : 0,
      summary: connected
        ? `TCP connection to ${options.to}:${options.port} made in ${Math.round(Number(connect) * 1000)} ms${code !== '000' ? ` (HTTP ${code})` : ''}`
        : `TCP connection to ${options.to}:${options.port} not made (curl exit ${result.exitCode})`,
    };
  }
  return {
    kind: 'udp',
    sent: 1,
    received: result.exitCode === 0 ? 1 : 0,
    summary: `UDP datagram sent to ${options.to}:${options.port} (curl exit ${result.exitCode}; an answer is not required)`,
  };
}
