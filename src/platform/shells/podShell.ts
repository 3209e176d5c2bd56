/**
 * NodeShell for any cluster: one short-lived privileged pod per node (`hostNetwork`,
 * `hostPID`, pinned by `nodeName`, tolerating every taint), created through the API only
 * after the person agreed (`confirm`), and commands run in it through the API's exec
 * endpoint (ClusterClient.exec: client-node's WebSocket exec, so kubectl is not needed).
 *
 * Where a command runs:
 * - node tools (`ip`, `bridge`, `crictl`, …) run in the host's namespaces and with the host's
 *   binaries: `nsenter -t 1 -m -u -n -i -- argv` (hostPID makes pid 1 the node's init);
 * - `imageTools` (default tcpdump, which most nodes do not ship) run from the pod's own image;
 *   hostNetwork already puts them in the node's network namespace;
 * - inside pod P's network namespace: the sandbox's netns path comes from the host's
 *   `crictl pods` / `crictl inspectp` (findPodSandbox, shared with KindNodeShell) and the
 *   argv runs behind `nsenter --net=<path>`; an image tool reaches the host's path through
 *   `/proc/1/root` (or `/proc/<sandbox pid>/ns/net`). Where the node has no crictl or names no
 *   namespace, the error says to capture on the pod's host-side interface instead.
 *
 * An exec does not pass signals on, and closing it leaves the command running in the pod: a
 * long-running command (`start`) starts behind a `sh` preamble that reports its pid on
 * stderr (stdout stays clean for a pcap streamed with `tcpdump -U -w -`), and stop / cancel
 * send the signal with a second exec `kill -s INT <pid>`. `dispose()` deletes every pod the
 * shell made, which also ends anything still running in them; `cleanupNodeShellPods` finds
 * pods left by a run that died (label `podpath.dev/owner`) and deletes them.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { RunOptions, RunResult, ToolProcess } from '../exec/runner';
import { ToolError } from '../exec/runner';
import type { ClusterClient, ExecOutcome } from '../kube/kubeClient';
import { KubeError } from '../kube/kubeClient';
import type { NodeShell, ShellTarget } from './nodeShell';
import { OWNER_LABEL, type NodeShellConsentRequest } from './nodeShellConsent';
import { cachedPerPod, findPodSandbox, type PodSandbox } from './podSandbox';
import { killArgv, parsePidLine, RemotePid, withPidPreamble } from './remotePid';

export { nodeShellConsentText, OWNER_LABEL } from './nodeShellConsent';
export type { NodeShellConsentRequest } from './nodeShellConsent';

/**
 * Default node-shell image: nicolaka/netshoot ships tcpdump, util-linux nsenter, iproute2,
 * ping and a shell in one multi-arch image, and is what people already use for
 * `kubectl debug node/…`. Pinned by tag (not `latest`) so every run gets the same tools and
 * a cluster that pre-pulls or mirrors images can allow exactly this one.
 */
export const DEFAULT_NODE_SHELL_IMAGE = 'nicolaka/netshoot:v0.13';
export const DEFAULT_NODE_SHELL_NAMESPACE = 'default';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
const NODE_ANNOTATION = 'podpath.dev/node';
const HOST_ANNOTATION = 'podpath.dev/host';
const PID_ANNOTATION = 'podpath.dev/pid';
const CONTAINER = 'shell';

/** Enter every namespace of the node's init process (the node itself). */
export const HOST_PREFIX: readonly string[] = ['nsenter', '-t', '1', '-m', '-u', '-n', '-i', '--'];

export interface PodNodeShellOptions {
  client: ClusterClient;
  /** Asked once per set of new nodes; false: nothing is created. */
  confirm: (request: NodeShellConsentRequest) => Promise<boolean>;
  /** Setting `podpath.nodeShell.image` (default DEFAULT_NODE_SHELL_IMAGE). */
  image?: string;
  /** Setting `podpath.nodeShell.namespace` (default `default`). */
  namespace?: string;
  /** The run's id for the owner label (default: made up, unique). */
  owner?: string;
  /** Safety net: the kubelet ends the pod after this long (default 3600 s). */
  deadlineSeconds?: number;
  /** How long a pod may take to be Running (default 120 s). */
  startTimeoutMs?: number;
  /** How often the pod is polled while it starts (default 500 ms). */
  pollMs?: number;
  /**
   * Where the node's root filesystem is seen from the node-shell container (default
   * `/proc/1/root`, reachable with hostPID + privileged): an image tool opens a pod's netns
   * path through it when the sandbox's pid is unknown.
   */
  hostRoot?: string;
  /** Executables taken from the image instead of the node (default: tcpdump). */
  imageTools?: readonly string[];
  onProgress?: (message: string) => void;
}

/** One sentence saying why node access failed and what lets it through. */
export class PodShellError extends Error {
  override readonly name = 'PodShellError';
  constructor(
    readonly kind: 'cancelled' | 'pod-security' | 'forbidden' | 'start' | 'tool' | 'netns',
    message: string,
  ) {
    super(message);
  }
}

/** The pod that gives access to `node`. */
export function nodeShellPodManifest(options: {
  node: string;
  namespace: string;
  image: string;
  owner: string;
  deadlineSeconds: number;
  pid?: number;
  host?: string;
}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'podpath-node-shell-',
      namespace: options.namespace,
      labels: { [OWNER_LABEL]: options.owner, [MANAGED_BY_LABEL]: 'podpath' },
      annotations: {
        [NODE_ANNOTATION]: options.node,
        ...(options.host ? { [HOST_ANNOTATION]: options.host } : {}),
        ...(options.pid !== undefined ? { [PID_ANNOTATION]: String(options.pid) } : {}),
      },
    },
    spec: {
      nodeName: options.node,
      hostNetwork: true,
      hostPID: true,
      restartPolicy: 'Never',
      activeDeadlineSeconds: options.deadlineSeconds,
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: CONTAINER,
          image: options.image,
          // Just stays alive; everything happens through exec.
          command: ['sleep', String(options.deadlineSeconds + 60)],
          securityContext: { privileged: true },
        },
      ],
    },
  };
}

interface PodJson {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: {
      state?: { waiting?: { reason?: string; message?: string } };
    }[];
  };
}

const BAD_WAITING = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** Translates API refusals of the node-shell pod into what lets it through. */
function explainRefusal(err: unknown, namespace: string, what: 'create' | 'exec'): unknown {
  if (!(err instanceof KubeError) || err.kind !== 'forbidden') return err;
  const policy = /violates PodSecurity "([^"]+)"/.exec(err.detail ?? '');
  if (policy) {
    return new PodShellError(
      'pod-security',
      `Namespace ${namespace} refuses privileged host pods (PodSecurity "${policy[1] ?? ''}"): label it with \`kubectl label namespace ${namespace} pod-security.kubernetes.io/enforce=privileged\`, or set podpath.nodeShell.namespace to a namespace that allows them.`,
    );
  }
  const verb = what === 'create' ? 'create on pods' : 'create on pods/exec';
  return new PodShellError(
    'forbidden',
    `${err.message.replace(/\.$/, '')}: node access needs the RBAC verb ${verb} (and get, list, delete on pods) in namespace ${namespace}; ask for it, or set podpath.nodeShell.namespace to a namespace where you have it.`,
  );
}

/** Why a pod that is not Running will not become Running, or undefined while it may. */
function stuckReason(pod: PodJson): string | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    // With nodeName set the kubelet itself admits the pod, and says why when it refuses.
    const why = [pod.status?.reason, pod.status?.message].filter(Boolean).join(': ');
    return `it ended (${phase}${why ? `, ${why}` : ''})`;
  }
  const unschedulable = pod.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  if (unschedulable) return `it cannot be scheduled: ${unschedulable.message ?? 'Unschedulable'}`;
  for (const cs of pod.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (w?.reason && BAD_WAITING.has(w.reason)) {
      return `${w.reason}${w.message ? `: ${w.message}` : ''}`;
    }
  }
  return undefined;
}

function waitingText(pod: PodJson): string {
  const w = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
  return `${pod.status?.phase ?? 'Pending'}${w ? `, ${w}` : ''}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new PodShellError('cancelled', 'Node access was cancelled.'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new PodShellError('cancelled', 'Node access was cancelled.'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const MAX_STDERR = 64 * 1024;

/** Line splitter that also keeps (some of) the text. */
class LineSink extends Writable {
  text = '';
  private partial = '';
  constructor(
    /** Returns false for a line that is not part of the output (the pid line). */
    private readonly onLine: ((line: string) => boolean | void) | undefined,
    private readonly keep: boolean,
    private readonly limit = Number.MAX_SAFE_INTEGER,
  ) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.take(chunk.toString('utf8'));
    cb();
  }
  override _final(cb: () => void): void {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
    cb();
  }
  private take(s: string): void {
    const parts = (this.partial + s).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) this.line(p);
  }
  private line(l: string): void {
    if (this.onLine?.(l) === false) return;
    if (this.keep && this.text.length < this.limit) this.text += `${l}\n`;
  }
}

function finished(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableFinished) {
      resolve();
      return;
    }
    stream.once('finish', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
    stream.end();
  });
}

export class PodNodeShell implements NodeShell {
  readonly kind = 'pod';
  /** Commands run on another machine: pcaps come back over the exec's stdout (`-w -`). */
  readonly streamsCaptures = true;
  readonly owner: string;
  readonly namespace: string;
  readonly image: string;
  private readonly client: ClusterClient;
  private readonly options: PodNodeShellOptions;
  private readonly deadlineSeconds: number;
  private readonly imageTools: ReadonlySet<string>;
  /** Node → its pod's name, once created (and Running). */
  private readonly pods = new Map<string, Promise<string>>();
  /** Every pod this shell created, whatever became of it. */
  private readonly created = new Set<string>();
  private readonly consented = new Set<string>();
  private readonly sandboxes = new Map<string, Promise<PodSandbox>>();
  private disposed = false;

  constructor(options: PodNodeShellOptions) {
    this.options = options;
    this.client = options.client;
    this.image = options.image?.trim() || DEFAULT_NODE_SHELL_IMAGE;
    this.namespace = options.namespace?.trim() || DEFAULT_NODE_SHELL_NAMESPACE;
    this.owner = options.owner ?? `pp-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    this.deadlineSeconds = options.deadlineSeconds ?? 3600;
    this.imageTools = new Set(options.imageTools ?? ['tcpdump']);
  }

  /** The pods made so far (namespace/name), for logs and tests. */
  get createdPods(): string[] {
    return [...this.created].map((n) => `${this.namespace}/${n}`);
  }

  /**
   * Asks once for every node not yet agreed to, then creates their pods in parallel and
   * waits until each is Running. Rejects (and deletes what it made) on refusal or failure.
   */
  async prepare(nodes: readonly string[], signal?: AbortSignal): Promise<void> {
    await this.askConsent(nodes);
    const results = await Promise.allSettled(nodes.map((n) => this.podFor(n, signal)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.dispose();
      throw failed.reason;
    }
  }

  /** Asks once for the nodes not agreed to yet; rejects when the answer is no. */
  private async askConsent(nodes: readonly string[]): Promise<void> {
    if (this.disposed) throw new PodShellError('cancelled', 'This node shell was disposed.');
    const fresh = [...new Set(nodes)].filter((n) => !this.consented.has(n));
    if (fresh.length > 0) {
      const ok = await this.options.confirm({
        context: this.client.context,
        server: this.client.server,
        namespace: this.namespace,
        nodes: fresh,
        image: this.image,
        owner: this.owner,
        deadlineSeconds: this.deadlineSeconds,
      });
      if (!ok) {
        throw new PodShellError(
          'cancelled',
          `Node access cancelled: no pod was created on ${fresh.join(', ')}.`,
        );
      }
      for (const n of fresh) this.consented.add(n);
    }
  }

  /** The Running pod on `node` (created on first use; asks for consent if not given yet). */
  private podFor(node: string, signal?: AbortSignal): Promise<string> {
    let pod = this.pods.get(node);
    if (!pod) {
      pod = (async () => {
        await this.askConsent([node]);
        return this.createPod(node, signal);
      })();
      this.pods.set(node, pod);
      pod.catch(() => this.pods.delete(node));
    }
    return pod.catch((e: unknown) => {
      if (e instanceof KubeError && e.kind === 'cancelled') {
        throw new PodShellError('cancelled', `Node access to ${node} was cancelled.`);
      }
      throw e;
    });
  }

  private podsPath(name?: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods${name ? `/${encodeURIComponent(name)}` : ''}`;
  }

  private async createPod(node: string, signal?: AbortSignal): Promise<string> {
    if (this.disposed) throw new PodShellError('cancelled', 'This node shell was disposed.');
    const progress = this.options.onProgress ?? (() => undefined);
    progress(`Creating a node-shell pod on ${node} (namespace ${this.namespace})`);
    // nodeName bypasses the scheduler: a pod for a node that does not exist would wait for
    // ever, so look first (a refusal to read nodes is not a reason to stop).
    const nodeObject = await this.client
      .get(
        `/api/v1/nodes/${encodeURIComponent(node)}`,
        { verb: 'get', resource: 'nodes', name: node },
        signal,
      )
      .catch((e: unknown) => {
        if (e instanceof KubeError && e.kind === 'cancelled') throw e;
        return undefined;
      });
    if (nodeObject === null) {
      throw new PodShellError('start', `Context ${this.client.context} has no node named ${node}.`);
    }
    let stored: PodJson;
    try {
      stored = (await this.client.create(
        this.podsPath(),
        nodeShellPodManifest({
          node,
          namespace: this.namespace,
          image: this.image,
          owner: this.owner,
          deadlineSeconds: this.deadlineSeconds,
          pid: process.pid,
          host: hostname(),
        }),
        { verb: 'create', resource: 'pods', namespace: this.namespace },
        signal,
      )) as PodJson;
    } catch (e) {
      throw explainRefusal(e, this.namespace, 'create');
    }
    const name = stored.metadata?.name ?? '';
    if (!name) throw new PodShellError('start', 'The API server returned a pod without a name.');
    this.created.add(name);
    // Disposed while the request was on its way: the pod is deleted with the rest.
    if (this.disposed) {
      await this.deletePod(name);
      throw new PodShellError('cancelled', 'Node access was cancelled.');
    }
    const timeoutMs = this.options.startTimeoutMs ?? 120_000;
    const started = Date.now();
    let last = '';
    for (;;) {
      // dispose() waits for pods still starting: stop waiting at once, it deletes them.
      if (this.disposed) throw new PodShellError('cancelled', 'Node access was cancelled.');
      const pod = (await this.client.get(
        this.podsPath(name),
        { verb: 'get', resource: 'pods', namespace: this.namespace, name },
        signal,
      )) as PodJson | null;
      if (!pod) {
        throw new PodShellError(
          'start',
          `Node-shell pod ${this.namespace}/${name} on ${node} disappeared while starting.`,
        );
      }
      if (pod.status?.phase === 'Running') {
        progress(`Node-shell pod ${name} is running on ${node}`);
        return name;
      }
      const stuck = stuckReason(pod);
      if (stuck) {
        throw new PodShellError(
          'start',
          `Node-shell pod ${this.namespace}/${name} on ${node} will not start: ${stuck}${/Image|ErrImage/.test(stuck) ? ` (check that the node can pull ${this.image}, or set podpath.nodeShell.image to an image it can)` : ''}.`,
        );
      }
      const now = waitingText(pod);
      if (now !== last) progress(`Node-shell pod ${name} on ${node}: ${now}`);
      last = now;
      if (Date.now() - started > timeoutMs) {
        throw new PodShellError(
          'start',
          `Node-shell pod ${this.namespace}/${name} on ${node} was not Running after ${Math.round(timeoutMs / 1000)} s (${now}).`,
        );
      }
      await sleep(this.options.pollMs ?? 500, signal);
    }
  }

  private async deletePod(name: string): Promise<void> {
    try {
      await this.client.remove(this.podsPath(name), {
        verb: 'delete',
        resource: 'pods',
        namespace: this.namespace,
        name,
      });
    } catch {
      // Best effort: a pod left behind is found again by cleanupNodeShellPods (owner label).
      return;
    }
    this.created.delete(name);
  }

  /** Deletes every pod this shell made (also the ones still starting). Never throws. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.allSettled([...this.pods.values()]);
    await Promise.all([...this.created].map((n) => this.deletePod(n)));
    this.pods.clear();
  }

  /** The pod sandbox's network namespace on `node`, from the host's crictl. */
  private podSandbox(node: string, pod: string, signal?: AbortSignal): Promise<PodSandbox> {
    return cachedPerPod(this.sandboxes, node, pod, () =>
      findPodSandbox(
        {
          json: async (args) => {
            const r = await this.exec(node, [...HOST_PREFIX, 'crictl', ...args], {
              signal,
              timeoutMs: 20_000,
              okExitCodes: [0, 1, 126, 127],
            });
            if (r.exitCode !== 0) {
              const why = r.stderr.trim().split('\n')[0] ?? '';
              throw new PodShellError(
                'netns',
                /not found|No such file|failed to execute/i.test(why)
                  ? `${node} has no crictl, so the network namespace of pod ${pod} cannot be found there; capture on the pod's host-side interface instead.`
                  : `crictl on ${node} failed (${why || `exit ${r.exitCode}`}); capture on the pod's host-side interface instead.`,
              );
            }
            try {
              return JSON.parse(r.stdout) as unknown;
            } catch {
              throw new PodShellError('netns', `crictl on ${node} did not print JSON.`);
            }
          },
          error: (message) => new PodShellError('netns', message),
          noNetns: () =>
            `crictl inspectp on ${node} names no network namespace for pod ${pod}; capture on the pod's host-side interface instead.`,
        },
        node,
        pod,
      ),
    );
  }

  /** argv as the exec runs it: on the host, from the image, or inside the pod's netns. */
  async placedArgv(
    target: ShellTarget,
    argv: readonly string[],
    signal?: AbortSignal,
  ): Promise<string[]> {
    if (argv.length === 0) throw new Error('PodNodeShell needs a command');
    const fromImage = this.imageTools.has(argv[0] ?? '');
    if (target.pod === undefined) return fromImage ? [...argv] : [...HOST_PREFIX, ...argv];
    const sandbox = await this.podSandbox(target.node, target.pod, signal);
    if (!fromImage) return [...HOST_PREFIX, 'nsenter', `--net=${sandbox.netnsPath}`, ...argv];
    // The image's mount namespace does not see the host's /run/netns: use the sandbox's pid
    // (hostPID shares the node's /proc), else the path through pid 1's root.
    const path =
      sandbox.pid !== undefined
        ? `/proc/${sandbox.pid}/ns/net`
        : sandbox.netnsPath.startsWith('/proc/')
          ? sandbox.netnsPath
          : `${this.options.hostRoot ?? '/proc/1/root'}${sandbox.netnsPath}`;
    return ['nsenter', `--net=${path}`, ...argv];
  }

  /**
   * One exec to completion in `node`'s pod. With `tracked`, the command runs behind the pid
   * preamble, so that a cancel or timeout can end it on the node too (closing the exec would
   * leave it running there).
   */
  private async exec(
    node: string,
    argv: readonly string[],
    options: RunOptions & {
      tracked?: boolean;
      onPid?: (pid: number) => void;
      stopped?: () => boolean;
    },
  ): Promise<RunResult> {
    const started = Date.now();
    const display = [`node-shell@${node}`, ...argv];
    const tracked = options.tracked === true || options.onPid !== undefined;
    const command = tracked ? withPidPreamble(argv) : [...argv];
    let remotePid: number | undefined;
    const pod = await this.podFor(node, options.signal);
    const controller = new AbortController();
    const timer =
      options.timeoutMs && options.timeoutMs > 0
        ? setTimeout(() => controller.abort('timeout'), options.timeoutMs)
        : undefined;
    const onAbort = (): void => controller.abort('cancelled');
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const stdoutSink: WriteStream | LineSink = options.stdoutFile
      ? createWriteStream(options.stdoutFile)
      : new LineSink(options.onStdoutLine, options.collectStdout ?? true);
    let pidSeen = !tracked;
    const stderrSink = new LineSink(
      (line) => {
        if (!pidSeen) {
          const pid = parsePidLine(line);
          if (pid !== undefined) {
            pidSeen = true;
            remotePid = pid;
            options.onPid?.(remotePid);
            return false;
          }
        }
        options.onStderrLine?.(line);
        return true;
      },
      true,
      MAX_STDERR,
    );
    // A pid line must not end up in the stderr a caller sees.
    let outcome: ExecOutcome;
    try {
      if (controller.signal.aborted) throw new KubeError('cancelled', 'Cancelled.');
      const handle = await this.client.exec({
        namespace: this.namespace,
        pod,
        container: CONTAINER,
        command,
        stdout: stdoutSink,
        stderr: stderrSink,
        stdin: options.input,
        signal: controller.signal,
      });
      outcome = await handle.done;
    } catch (e) {
      if (controller.signal.aborted) {
        // Closing the exec does not end the command on the node: signal it there.
        if (remotePid !== undefined) {
          await this.signalRemote(node, remotePid, 'SIGTERM').catch(() => undefined);
        }
        await Promise.all([finished(stdoutSink), finished(stderrSink)]);
        const kind = controller.signal.reason === 'timeout' ? 'timeout' : 'cancelled';
        throw new ToolError(kind, display, null, stderrSink.text);
      }
      throw explainRefusal(e, this.namespace, 'exec');
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
    await Promise.all([finished(stdoutSink), finished(stderrSink)]);
    const stderr = stderrSink.text;
    if (outcome.exitCode === null) {
      // The command never started: most often the executable is not in the image.
      if (/executable file not found|no such file/i.test(outcome.message)) {
        throw this.missingTool(command, node);
      }
      throw new ToolError('exit', display, null, outcome.message);
    }
    const code = outcome.exitCode;
    if (
      (code === 127 || code === 126) &&
      /not found|no such file|failed to execute/i.test(stderr)
    ) {
      throw this.missingTool(command, node);
    }
    const ok = options.okExitCodes ?? [0];
    if (!ok.includes(code) && !options.stopped?.()) {
      throw new ToolError('exit', display, code, stderr.split('\n').slice(0, 10).join('\n'));
    }
    return {
      stdout: stdoutSink instanceof LineSink ? stdoutSink.text : '',
      stderr,
      exitCode: code,
      durationMs: Date.now() - started,
    };
  }

  private missingTool(command: readonly string[], node: string): PodShellError {
    const tool = this.toolOf(command);
    if (this.imageTools.has(tool)) {
      return new PodShellError(
        'tool',
        `${tool} is not in the node-shell image ${this.image}; set podpath.nodeShell.image to an image that has ${tool} and nsenter (the default ${DEFAULT_NODE_SHELL_IMAGE} has both).`,
      );
    }
    return new PodShellError(
      'tool',
      `${tool} is not installed on node ${node}; install it there, or add it to an image set in podpath.nodeShell.image.`,
    );
  }

  /** The command's own executable, behind the preamble and nsenter prefixes. */
  private toolOf(command: readonly string[]): string {
    let rest = [...command];
    if (rest[0] === 'sh' && rest[1] === '-c') rest = rest.slice(4);
    if (rest[0] === 'nsenter' && rest[1] === '-t') rest = rest.slice(HOST_PREFIX.length);
    if (rest[0] === 'nsenter' && rest[1]?.startsWith('--net=')) rest = rest.slice(2);
    return rest[0] ?? '';
  }

  async run(
    target: ShellTarget,
    argv: readonly string[],
    options: RunOptions = {},
  ): Promise<RunResult> {
    const placed = await this.placedArgv(target, argv, options.signal);
    return this.exec(target.node, placed, { ...options, tracked: true });
  }

  start(target: ShellTarget, argv: readonly string[], options: RunOptions = {}): ToolProcess {
    return new PodProcess(this, target, argv, options);
  }

  /** Starts `placed` behind the pid preamble (for PodProcess). */
  execWithPid(
    node: string,
    placed: readonly string[],
    options: RunOptions,
    onPid: (pid: number) => void,
    stopped: () => boolean,
  ): Promise<RunResult> {
    return this.exec(node, placed, {
      ...options,
      collectStdout: options.collectStdout ?? false,
      onPid,
      stopped,
    });
  }

  /** Sends `signal` to a process on `node` with a second exec (best effort). */
  async signalRemote(node: string, pid: number, signal: NodeJS.Signals): Promise<void> {
    await this.exec(node, killArgv(pid, signal), {
      timeoutMs: 15_000,
      okExitCodes: [0, 1],
    });
  }
}

/** A command started in a node-shell pod; stopped by signalling its remote pid. */
class PodProcess implements ToolProcess {
  readonly argv: readonly string[];
  readonly done: Promise<RunResult>;
  readonly spawned: Promise<number | undefined>;
  private readonly remote: RemotePid;
  private stopRequested = false;

  constructor(
    shell: PodNodeShell,
    target: ShellTarget,
    argv: readonly string[],
    options: RunOptions,
  ) {
    this.remote = new RemotePid((pid, sig) => {
      shell.signalRemote(target.node, pid, sig).catch(() => undefined);
    });
    const shown = [`node-shell@${target.node}`, ...argv];
    this.argv = shown;
    const { signal, ...rest } = options;
    let markSpawned: (pid: number | undefined) => void = () => undefined;
    this.spawned = new Promise((resolve) => (markSpawned = resolve));
    // The exec keeps its own connection: cancel is a remote signal, then the exec ends.
    const onAbort = (): void => this.stop('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    this.done = (async () => {
      try {
        const placed = await shell.placedArgv(target, argv, signal);
        if (signal?.aborted) throw new ToolError('cancelled', shown, null, '');
        const result = await shell.execWithPid(
          target.node,
          placed,
          rest,
          (pid) => {
            markSpawned(pid);
            this.remote.reported(pid);
          },
          () => this.stopRequested,
        );
        if (signal?.aborted) throw new ToolError('cancelled', shown, null, result.stderr);
        return result;
      } finally {
        markSpawned(undefined);
        signal?.removeEventListener('abort', onAbort);
      }
    })();
    this.done.catch(() => undefined);
  }

  /** The remote pid (on the node, hostPID), once the preamble has reported it. */
  get pid(): number | undefined {
    return this.remote.pid;
  }

  stop(signal: NodeJS.Signals = 'SIGINT'): void {
    this.stopRequested = true;
    this.remote.signal(signal);
  }
}

/** A node-shell pod found by its labels. */
export interface NodeShellPodRef {
  namespace: string;
  name: string;
  node: string;
  owner: string;
  phase: string;
}

/**
 * Finds Podpath's node-shell pods (label `app.kubernetes.io/managed-by=podpath` with a
 * `podpath.dev/owner`) in every namespace and deletes those of `owner`, or, without one, those
 * whose run is over: the pod has ended (its deadline passed) or it names this machine and a
 * process that no longer runs. Returns the pods deleted.
 */
export async function cleanupNodeShellPods(
  client: ClusterClient,
  options: { owner?: string; signal?: AbortSignal; isAlive?: (pid: number) => boolean } = {},
): Promise<NodeShellPodRef[]> {
  const selector = options.owner
    ? `${MANAGED_BY_LABEL}=podpath,${OWNER_LABEL}=${options.owner}`
    : `${MANAGED_BY_LABEL}=podpath,${OWNER_LABEL}`;
  const isAlive = options.isAlive ?? processAlive;
  const here = hostname();
  const { items } = await client.list(
    '/api/v1/pods',
    { verb: 'list', resource: 'pods' },
    (o) => o as PodJson,
    { labelSelector: selector, signal: options.signal },
  );
  const dead = items.filter((p) => {
    if (options.owner) return true;
    const phase = p.status?.phase;
    if (phase === 'Failed' || phase === 'Succeeded') return true;
    const a = p.metadata?.annotations ?? {};
    const pid = Number(a[PID_ANNOTATION]);
    return a[HOST_ANNOTATION] === here && Number.isInteger(pid) && pid > 0 && !isAlive(pid);
  });
  const deleted: NodeShellPodRef[] = [];
  for (const p of dead) {
    const namespace = p.metadata?.namespace ?? 'default';
    const name = p.metadata?.name ?? '';
    const gone = await client.remove(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`,
      { verb: 'delete', resource: 'pods', namespace, name },
      options.signal,
    );
    if (gone) {
      deleted.push({
        namespace,
        name,
        node: p.metadata?.annotations?.[NODE_ANNOTATION] ?? '',
        owner: p.metadata?.labels?.[OWNER_LABEL] ?? '',
        phase: p.status?.phase ?? '',
      });
    }
  }
  return deleted;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A PodNodeShell; the lead's `nodeShellFor(nodes)` hook calls this and then `prepare(nodes)`. */
export function createPodNodeShell(options: PodNodeShellOptions): PodNodeShell {
  return new PodNodeShell(options);
}
