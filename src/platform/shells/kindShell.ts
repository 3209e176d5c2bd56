/**
 * NodeShell for kind clusters: every node is a container named after the node
 * (labels `io.x-k8s.kind.cluster` and `io.x-k8s.kind.role`), so a command runs
 * as `<provider> exec <node> argv…` with docker, podman or nerdctl. Inside a pod's
 * network namespace it runs as `nsenter --net=<path> argv…`, the path coming from
 * the node's container runtime (`crictl pods` → sandbox id → `crictl inspectp`).
 *
 * `<provider> exec` does not pass signals on to the process in the container, and
 * killing the client leaves that process running. So long-running commands start
 * behind a fixed `sh` preamble that reports their pid, and stop / cancel send the
 * signal with a second `exec … kill`: nothing is left behind on the node.
 */
import type { RunOptions, RunResult, ToolProcess } from '../exec/runner';
import { runTool, startTool, ToolError } from '../exec/runner';
import type { NodeShell, ShellTarget } from './nodeShell';
import { cachedPerPod, findPodSandbox, type PodSandbox } from './podSandbox';
import { killArgv, parsePidLine, RemotePid, withPidPreamble } from './remotePid';

export type { PodSandbox } from './podSandbox';

export type ContainerProvider = 'docker' | 'podman' | 'nerdctl';

const PROVIDERS: readonly ContainerProvider[] = ['docker', 'podman', 'nerdctl'];

export const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';
export const KIND_ROLE_LABEL = 'io.x-k8s.kind.role';

/** A kind node container. */
export interface KindNode {
  name: string;
  role: string;
}

/** `kind://docker/podpath-lab/podpath-lab-worker` → its parts, or undefined for other providerIDs. */
export function parseKindProviderId(
  providerId: string,
): { provider: ContainerProvider; cluster: string; node: string } | undefined {
  const m = /^kind:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(providerId);
  const provider = m?.[1];
  if (!m || !isProvider(provider)) return undefined;
  return { provider, cluster: m[2] ?? '', node: m[3] ?? '' };
}

function isProvider(s: string | undefined): s is ContainerProvider {
  return PROVIDERS.includes(s as ContainerProvider);
}

/**
 * Which container CLI runs the cluster: the node's providerID when known, then
 * `KIND_EXPERIMENTAL_PROVIDER` (as kind itself reads it), then the first of
 * docker, podman, nerdctl that answers `version`.
 */
export async function detectProvider(
  options: { providerId?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<ContainerProvider> {
  const fromId = options.providerId ? parseKindProviderId(options.providerId) : undefined;
  if (fromId) return fromId.provider;
  const fromEnv = (options.env ?? process.env).KIND_EXPERIMENTAL_PROVIDER;
  if (isProvider(fromEnv)) return fromEnv;
  for (const p of PROVIDERS) {
    try {
      await runTool([p, 'version', '--format', '{{.Client.Version}}'], {
        signal: options.signal,
        timeoutMs: 10_000,
      });
      return p;
    } catch (e) {
      if (e instanceof ToolError && e.kind === 'cancelled') throw e;
    }
  }
  throw new Error(
    'None of docker, podman or nerdctl is installed, so kind nodes cannot be reached; install the one your kind cluster runs on.',
  );
}

/** Raised when a command cannot reach a place: one sentence saying why and what to do. */
export class KindShellError extends Error {
  override readonly name = 'KindShellError';
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new KindShellError(`${what} did not print JSON.`);
  }
}

export class KindNodeShell implements NodeShell {
  readonly kind = 'kind';
  /** Commands run in a container: pcaps come back over `exec`'s stdout. */
  readonly streamsCaptures = true;
  readonly provider: ContainerProvider;
  readonly cluster: string;
  private readonly sandboxes = new Map<string, Promise<PodSandbox>>();

  constructor(options: { cluster: string; provider: ContainerProvider }) {
    this.cluster = options.cluster;
    this.provider = options.provider;
  }

  /** The cluster's node containers (`<provider> ps` filtered by the kind cluster label). */
  async listNodes(options: { signal?: AbortSignal } = {}): Promise<KindNode[]> {
    const result = await runTool(
      [
        this.provider,
        'ps',
        '--filter',
        `label=${KIND_CLUSTER_LABEL}=${this.cluster}`,
        '--format',
        `{{.Names}}\t{{.Label "${KIND_ROLE_LABEL}"}}`,
      ],
      { signal: options.signal, timeoutMs: 15_000 },
    );
    return result.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [name = '', role = ''] = l.split('\t');
        return { name: name.trim(), role: role.trim() };
      });
  }

  /** `<provider> exec [-i] <node> argv…` (node commands, no namespace switch). */
  execArgv(node: string, argv: readonly string[], interactive = false): string[] {
    if (argv.length === 0) throw new Error('KindNodeShell needs a command');
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(node)) {
      throw new KindShellError(`"${node}" is not a kind node container name.`);
    }
    return [this.provider, 'exec', ...(interactive ? ['-i'] : []), node, ...argv];
  }

  /**
   * The pod's sandbox on `node` and the path of its network namespace. `pod` is
   * `name` or `namespace/name`; resolved once per shell and cached.
   */
  podSandbox(node: string, pod: string, signal?: AbortSignal): Promise<PodSandbox> {
    return cachedPerPod(this.sandboxes, node, pod, async () => {
      const { id, netnsPath } = await findPodSandbox(
        {
          json: async (args, command) =>
            parseJson((await this.crictl(node, ['crictl', ...args], signal)).stdout, command),
          error: (message) => new KindShellError(message),
          noNetns: (id) =>
            `crictl inspectp ${id} on ${node} names no network namespace for ${pod}; capture on the pod's host-side interface instead.`,
        },
        node,
        pod,
      );
      return { id, netnsPath };
    });
  }

  private async crictl(
    node: string,
    argv: readonly string[],
    signal?: AbortSignal,
  ): Promise<RunResult> {
    try {
      return await runTool(this.execArgv(node, argv), { signal, timeoutMs: 20_000 });
    } catch (e) {
      if (
        e instanceof ToolError &&
        e.kind === 'exit' &&
        /crictl.*(not found|no such file)/i.test(e.stderr)
      ) {
        throw new KindShellError(
          `${node} has no crictl, so pod network namespaces cannot be found there; capture on the pod's host-side interface instead.`,
        );
      }
      throw e;
    }
  }

  /** The argv in the place `target` names: the node, or nsenter into the pod's network namespace. */
  private async placedArgv(
    target: ShellTarget,
    argv: readonly string[],
    signal?: AbortSignal,
  ): Promise<string[]> {
    if (target.pod === undefined) return [...argv];
    const sandbox = await this.podSandbox(target.node, target.pod, signal);
    return ['nsenter', `--net=${sandbox.netnsPath}`, ...argv];
  }

  async run(
    target: ShellTarget,
    argv: readonly string[],
    options: RunOptions = {},
  ): Promise<RunResult> {
    const placed = await this.placedArgv(target, argv, options.signal);
    try {
      return await runTool(
        this.execArgv(target.node, placed, options.input !== undefined),
        options,
      );
    } catch (e) {
      throw explainMissingTool(e, target.node, argv[0]);
    }
  }

  start(target: ShellTarget, argv: readonly string[], options: RunOptions = {}): ToolProcess {
    return new RemoteProcess(this, target, argv, options);
  }

  /** Starts the placed argv behind the pid preamble (used by RemoteProcess). */
  startPlaced(node: string, placed: readonly string[], options: RunOptions): ToolProcess {
    return startTool(this.execArgv(node, withPidPreamble(placed)), options);
  }

  /** Sends `signal` to a process in the node container (best effort). */
  async signalRemote(node: string, pid: number, signal: NodeJS.Signals): Promise<void> {
    await runTool(this.execArgv(node, killArgv(pid, signal)), {
      timeoutMs: 10_000,
      okExitCodes: [0, 1],
    });
  }

  /** `placedArgv` for RemoteProcess. */
  resolve(target: ShellTarget, argv: readonly string[], signal?: AbortSignal): Promise<string[]> {
    return this.placedArgv(target, argv, signal);
  }
}

/** A missing tool on a kind node says how to install it there (kind node images ship no tcpdump). */
function explainMissingTool(err: unknown, node: string, tool: string | undefined): unknown {
  if (
    tool !== undefined &&
    err instanceof ToolError &&
    err.kind === 'exit' &&
    (err.exitCode === 127 || err.exitCode === 126) &&
    /executable file not found|not found|no such file/i.test(err.stderr)
  ) {
    const pkg = tool === 'ip' || tool === 'bridge' ? 'iproute2' : tool;
    return new KindShellError(
      `${tool} is not installed on kind node ${node}; install it with \`docker exec ${node} sh -c 'apt-get update && apt-get install -y ${pkg}'\` (as the walkthroughs do) and try again.`,
    );
  }
  return err;
}

/**
 * A command started in a node container: resolves the pod's namespace first,
 * reads the remote pid from the preamble, and stops by signalling that pid.
 */
class RemoteProcess implements ToolProcess {
  readonly argv: readonly string[];
  readonly done: Promise<RunResult>;
  private inner: ToolProcess | undefined;
  private readonly remote: RemotePid;

  constructor(
    shell: KindNodeShell,
    target: ShellTarget,
    argv: readonly string[],
    options: RunOptions,
  ) {
    this.remote = new RemotePid((pid, sig) => {
      shell.signalRemote(target.node, pid, sig).catch(() => this.inner?.stop(sig));
      if (sig === 'SIGKILL') this.inner?.stop('SIGKILL');
    });
    const full = shell.execArgv(target.node, argv);
    this.argv = full;
    const { signal, ...rest } = options;
    const onAbort = (): void => this.stop('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    this.done = (async () => {
      const placed = await shell.resolve(target, argv, signal);
      signal?.throwIfAborted();
      const inner = shell.startPlaced(target.node, placed, {
        ...rest,
        onStderrLine: (line) => {
          const pid = this.remote.pid === undefined ? parsePidLine(line) : undefined;
          if (pid !== undefined) {
            this.remote.reported(pid);
            return;
          }
          rest.onStderrLine?.(line);
        },
      });
      this.inner = inner;
      try {
        return await inner.done;
      } catch (e) {
        if (signal?.aborted) throw new ToolError('cancelled', full, null, '');
        throw explainMissingTool(e, target.node, argv[0]);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    })();
    this.done.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.inner?.pid;
  }

  stop(signal: NodeJS.Signals = 'SIGINT'): void {
    // Not started yet (or the preamble has not spoken): signalled as soon as it has.
    this.remote.signal(signal);
  }
}
