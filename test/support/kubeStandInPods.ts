/**
 * Pod writes and pod exec for the API stand-in (kubeApiStandIn.ts): what PodNodeShell needs
 * from a cluster. POST creates a pod (generateName honoured) that turns Running a moment later
 * (or stays Pending with ImagePullBackOff / Unschedulable when a test says so), DELETE removes
 * it (and kills what was exec'd in it, as stopping its container would), an optional
 * PodSecurity "baseline" namespace refuses privileged / host-namespace pods with the
 * apiserver's wording, and the exec endpoint speaks the WebSocket channel protocol.
 *
 * Where the exec wire format comes from (read, not copied):
 * - kubernetes apimachinery `pkg/util/remotecommand/constants.go` and client-go
 *   `tools/remotecommand` (websocket.go, v4/v5 error decoders): subprotocols
 *   `v5.channel.k8s.io` / `v4.channel.k8s.io`; every binary message starts with its channel
 *   byte (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize); the status channel carries
 *   one JSON metav1.Status: `{"status":"Success"}`, or `Failure` with reason
 *   `NonZeroExitCode` and a cause `{type: "ExitCode", message: "<code>"}`, or an
 *   `InternalError` when the command could not start. v5 adds the close message
 *   `[255, channel]` a client sends to end stdin.
 * - client-node `dist/exec.js` / `web-socket-handler.js` (1.4.0): the query (`command` repeated,
 *   `stdout`/`stderr`/`stdin`/`tty` as true/false, `container`) and the protocols it offers.
 * - The OCI "executable file not found" message is what containerd/runc return for a missing
 *   binary (also in test/support/kindStandIn/docker); busybox sh says `exec: line 1: X: not found`.
 *
 * The exec runs on the offline lab: the pod's node maps to a lab namespace (same idea as the
 * docker stand-in's mapping file); the node-shell's `nsenter -t 1 -m -u -n -i --` prefix
 * (enter the host's namespaces) is removed, since the lab node namespace already is the "host",
 * and the rest runs under `ip netns exec <namespace>` (or directly when a node has no
 * namespace, for tests without root). Closing the client does not stop the command, as with
 * the real kubelet; deleting the pod does.
 *
 * An exec into one of the lab's own pods (the mapping's `pods`, pod A and pod B) runs the argv
 * in that pod's network namespace (`ip netns exec <pod's netns>`), as the container runtime
 * runs it inside the pod. Whether the pod's image has the executable is decided from the
 * image of the container exec'd into (IMAGE_TOOLS): images built on distroless or scratch
 * (`gcr.io/distroless/*`, `registry.k8s.io/pause`, the coredns image the lab's pods are
 * dressed in) ship no ping, curl or shell, so exec of those answers as containerd/runc do:
 * status Failure, reason InternalError, the OCI "executable file not found in $PATH" message.
 * An image listed with its tools has those; any other image is taken to have what this
 * machine has (the binaries that run are this machine's either way). A `container` the pod
 * does not have is refused before the upgrade, as the apiserver does (400, "container X is
 * not valid for pod Y").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

type Json = Record<string, unknown>;

/** A node's place on this machine. */
export interface ExecNode {
  name: string;
  /** Lab network namespace; absent: run directly (tests without root). */
  namespace?: string;
  /** The node's IP (a hostNetwork pod's podIP). */
  ip?: string;
}

/** One of the lab's pods (the docker stand-in mapping's `pods`). */
export interface ExecPod {
  namespace: string;
  name: string;
  /** The pod's lab network namespace. */
  netns: string;
}

/** An exec the stand-in ran inside a lab pod's network namespace. */
export interface PodExec {
  /** `namespace/name`. */
  pod: string;
  container: string;
  netns: string;
  argv: string[];
}

/**
 * Executables of some images a probe may be exec'd into, by image reference; an image that
 * matches none has whatever this machine has. distroless / scratch-based images have none.
 */
const IMAGE_TOOLS: [RegExp, readonly string[]][] = [
  [/^(gcr\.io|registry\.k8s\.io|k8s\.gcr\.io)\/(distroless\/|pause:|coredns\/coredns:)/, []],
  // busybox: its applets (ping, wget, nc, sh…), no curl.
  [/^(docker\.io\/)?(library\/)?busybox(:|@|$)/, ['ping', 'sh', 'wget', 'nc']],
  // netshoot: iputils ping, curl and the rest of a network toolbox.
  [/^(docker\.io\/)?nicolaka\/netshoot(:|@|$)/, ['ping', 'curl', 'sh', 'nc', 'tcpdump']],
];

/** Whether `image` has `tool` on its PATH (see IMAGE_TOOLS). */
export function imageHas(image: string, tool: string): boolean {
  const known = IMAGE_TOOLS.find(([re]) => re.test(image));
  return known ? known[1].includes(tool) : true;
}

export interface PodApiOptions {
  nodes?: ExecNode[];
  /** Executables missing from every pod image (run outside the host prefix). */
  missingTools?: string[];
  /** Namespaces whose PodSecurity `enforce` level is baseline. */
  baselineNamespaces?: string[];
  /** What a new pod becomes (default Running). */
  podOutcome?: (pod: Json) => 'Running' | 'ImagePullBackOff' | 'Unschedulable';
  /** Delay before a pod turns Running (ms, default 30). */
  startDelayMs?: number;
  /** Offer only these subprotocols (e.g. v4 only, as an older apiserver). */
  protocols?: string[];
  /**
   * The docker stand-in's mapping file (test/support/kindStandIn/docker): `crictl` run in an
   * exec answers for the mapped pods through that stand-in, and `nodes` default to its nodes.
   */
  kindMapping?: string;
}

const DOCKER_STAND_IN = join(__dirname, 'kindStandIn', 'docker');

/** The docker stand-in's mapping file (`nodes[{name, namespace, ip}]`) as exec nodes. */
export function execNodesFromMapping(file: string): ExecNode[] {
  const m = JSON.parse(readFileSync(file, 'utf8')) as { nodes?: ExecNode[] };
  return (m.nodes ?? []).map((n) => ({ name: n.name, namespace: n.namespace, ip: n.ip }));
}

/** The docker stand-in's mapping file's pods (`pods[{name, namespace, netns}]`). */
export function execPodsFromMapping(file: string): ExecPod[] {
  const m = JSON.parse(readFileSync(file, 'utf8')) as { pods?: ExecPod[] };
  return (m.pods ?? []).map((p) => ({ namespace: p.namespace, name: p.name, netns: p.netns }));
}

/** What PodApi needs from the store. */
export interface PodStore {
  upsert(object: unknown): Json;
  remove(apiVersion: string, kind: string, name: string, namespace?: string): boolean;
  get(apiVersion: string, kind: string, name: string, namespace?: string): Json | undefined;
  denied(user: string, verb: string, resource: string): boolean;
  hasNamespaces(): boolean;
}

export const HOST_PREFIX = ['nsenter', '-t', '1', '-m', '-u', '-n', '-i', '--'];

const SUPPORTED = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

function statusBody(code: number, reason: string, message: string, details?: Json): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

/** Index of `needle` as a contiguous run in `argv`, or -1. */
function indexOfRun(argv: readonly string[], needle: readonly string[]): number {
  for (let i = 0; i + needle.length <= argv.length; i++) {
    if (needle.every((t, j) => argv[i + j] === t)) return i;
  }
  return -1;
}

export class PodApi {
  private readonly wss: WebSocketServer;
  /** Processes exec'd per pod key (`ns/name`), killed when the pod is deleted. */
  private readonly running = new Map<string, Set<ChildProcess>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Argv of every exec, as received (for tests that check what a client ran). */
  readonly execs: string[][] = [];
  /** Every exec run inside one of the lab's pods, with the netns it ran in. */
  readonly podExecs: PodExec[] = [];
  /** A `crictl` on the exec's PATH that asks the docker stand-in (with kindMapping). */
  private readonly shimDir: string | undefined;
  private readonly nodes: ExecNode[];
  private readonly labPods: ExecPod[];

  constructor(
    private readonly store: PodStore,
    private readonly options: PodApiOptions = {},
  ) {
    const offered = options.protocols ?? SUPPORTED;
    this.nodes =
      options.nodes ?? (options.kindMapping ? execNodesFromMapping(options.kindMapping) : []);
    this.labPods = options.kindMapping ? execPodsFromMapping(options.kindMapping) : [];
    if (options.kindMapping) {
      this.shimDir = mkdtempSync(join(tmpdir(), 'pp-crictl-'));
      const shim = join(this.shimDir, 'crictl');
      writeFileSync(
        shim,
        `#!/bin/sh\nexec "${process.execPath}" "${DOCKER_STAND_IN}" exec "$PP_STANDIN_EXEC_NODE" crictl "$@"\n`,
      );
      chmodSync(shim, 0o755);
    }
    this.wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (protocols) => offered.find((p) => protocols.has(p)) ?? false,
    });
  }

  /** Kills everything still running (the stand-in is stopping). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    for (const set of this.running.values()) for (const c of set) c.kill('SIGKILL');
    this.running.clear();
    for (const client of this.wss.clients) client.terminate();
  }

  /** Removes the crictl shim (call once the stand-in is done for good). */
  dispose(): void {
    this.stop();
    if (this.shimDir) rmSync(this.shimDir, { recursive: true, force: true });
  }

  /** How many exec'd processes are still running, in all pods. */
  runningCount(): number {
    let n = 0;
    for (const set of this.running.values()) n += set.size;
    return n;
  }

  /** POST / DELETE on pods; false when the request is not one of those. */
  handleWrite(req: IncomingMessage, res: ServerResponse, user: string, path: string): boolean {
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(path);
    if (!m) return false;
    const namespace = decodeURIComponent(m[1] ?? '');
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (req.method === 'POST' && name === undefined) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.create(res, user, namespace, Buffer.concat(chunks).toString()));
      return true;
    }
    if (req.method === 'DELETE' && name !== undefined) {
      this.delete(res, user, namespace, name);
      return true;
    }
    return false;
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private forbidden(user: string, verb: string, resource: string, ns: string, name?: string) {
    const [base = resource, sub] = resource.split('/');
    return statusBody(
      403,
      'Forbidden',
      `${base}${name ? ` "${name}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "" in the namespace "${ns}"`,
      { name, kind: base, ...(sub ? {} : {}) },
    );
  }

  private create(res: ServerResponse, user: string, namespace: string, text: string): void {
    if (this.store.denied(user, 'create', 'pods')) {
      this.send(res, 403, this.forbidden(user, 'create', 'pods', namespace));
      return;
    }
    let pod: Json;
    try {
      pod = JSON.parse(text) as Json;
    } catch {
      this.send(res, 400, statusBody(400, 'BadRequest', 'the body is not JSON'));
      return;
    }
    if (this.store.hasNamespaces() && !this.store.get('v1', 'Namespace', namespace)) {
      this.send(
        res,
        404,
        statusBody(404, 'NotFound', `namespaces "${namespace}" not found`, {
          name: namespace,
          kind: 'namespaces',
        }),
      );
      return;
    }
    const meta = (pod['metadata'] ?? {}) as Json;
    if (!meta['name'] && typeof meta['generateName'] === 'string') {
      meta['name'] = `${meta['generateName']}${randomBytes(4).toString('hex').slice(0, 5)}`;
    }
    const name = String(meta['name'] ?? '');
    if (!name) {
      this.send(res, 422, statusBody(422, 'Invalid', 'Pod "" is invalid: metadata.name: Required'));
      return;
    }
    if (this.store.get('v1', 'Pod', name, namespace)) {
      this.send(res, 409, statusBody(409, 'AlreadyExists', `pods "${name}" already exists`));
      return;
    }
    const spec = (pod['spec'] ?? {}) as Json;
    if (this.options.baselineNamespaces?.includes(namespace)) {
      const refusal = baselineViolations(spec);
      if (refusal) {
        // The PodSecurity admission plugin's wording (pod-security-admission, "violates
        // PodSecurity \"baseline:latest\": …"), as kubectl prints it.
        this.send(
          res,
          403,
          statusBody(
            403,
            'Forbidden',
            `pods "${name}" is forbidden: violates PodSecurity "baseline:latest": ${refusal}`,
          ),
        );
        return;
      }
    }
    meta['namespace'] = namespace;
    pod['metadata'] = meta;
    pod['apiVersion'] = 'v1';
    pod['kind'] = 'Pod';
    pod['status'] = { phase: 'Pending', qosClass: 'BestEffort' };
    const stored = this.store.upsert(pod);
    this.send(res, 201, stored);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.advance(namespace, name);
    }, this.options.startDelayMs ?? 30);
    this.timers.add(timer);
  }

  /** Pending → Running (or the failure a test asked for). */
  private advance(namespace: string, name: string): void {
    const pod = this.store.get('v1', 'Pod', name, namespace);
    if (!pod) return;
    const spec = (pod['spec'] ?? {}) as Json;
    const containers = (spec['containers'] ?? []) as Json[];
    const outcome = this.options.podOutcome?.(pod) ?? 'Running';
    const nodeName = String(spec['nodeName'] ?? '');
    const node = this.nodes.find((n) => n.name === nodeName);
    if (outcome === 'Unschedulable') {
      pod['status'] = {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: `0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.`,
          },
        ],
      };
    } else if (outcome === 'ImagePullBackOff') {
      pod['status'] = {
        phase: 'Pending',
        containerStatuses: containers.map((c) => ({
          name: c['name'],
          image: c['image'],
          ready: false,
          restartCount: 0,
          state: {
            waiting: {
              reason: 'ImagePullBackOff',
              message: `Back-off pulling image "${String(c['image'])}"`,
            },
          },
        })),
      };
    } else {
      const ip = spec['hostNetwork'] === true ? (node?.ip ?? '172.18.0.2') : '10.244.9.9';
      pod['status'] = {
        phase: 'Running',
        hostIP: node?.ip ?? '172.18.0.2',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: containers.map((c) => ({
          name: c['name'],
          image: c['image'],
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } },
        })),
      };
    }
    this.store.upsert(pod);
  }

  private delete(res: ServerResponse, user: string, namespace: string, name: string): void {
    if (this.store.denied(user, 'delete', 'pods')) {
      this.send(res, 403, this.forbidden(user, 'delete', 'pods', namespace, name));
      return;
    }
    const pod = this.store.get('v1', 'Pod', name, namespace);
    if (!pod || !this.store.remove('v1', 'Pod', name, namespace)) {
      this.send(
        res,
        404,
        statusBody(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }),
      );
      return;
    }
    // Stopping the container ends what was exec'd in it (its cgroup goes away).
    const key = `${namespace}/${name}`;
    for (const c of this.running.get(key) ?? []) c.kill('SIGKILL');
    this.running.delete(key);
    this.send(res, 200, pod);
  }

  /** The exec endpoint's upgrade; false when the path is not a pod exec. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, user: string | null): boolean {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    if (!m) return false;
    const namespace = decodeURIComponent(m[1] ?? '');
    const name = decodeURIComponent(m[2] ?? '');
    const refuse = (code: number, text: string, body: Json): void => {
      const payload = JSON.stringify(body);
      socket.end(
        `HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
      );
    };
    if (!user) {
      refuse(401, 'Unauthorized', statusBody(401, 'Unauthorized', 'Unauthorized'));
      return true;
    }
    if (this.store.denied(user, 'create', 'pods/exec')) {
      refuse(403, 'Forbidden', this.forbidden(user, 'create', 'pods/exec', namespace, name));
      return true;
    }
    const pod = this.store.get('v1', 'Pod', name, namespace);
    if (!pod) {
      refuse(
        404,
        'Not Found',
        statusBody(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }),
      );
      return true;
    }
    const phase = String(((pod['status'] ?? {}) as Json)['phase'] ?? '');
    if (phase !== 'Running') {
      refuse(
        400,
        'Bad Request',
        statusBody(
          400,
          'BadRequest',
          `pod ${name} does not have a host assigned` /* apiserver's words for a Pending pod */,
        ),
      );
      return true;
    }
    const argv = url.searchParams.getAll('command');
    const container = url.searchParams.get('container') ?? '';
    const containers = (((pod['spec'] ?? {}) as Json)['containers'] ?? []) as Json[];
    if (container !== '' && !containers.some((c) => c['name'] === container)) {
      refuse(
        400,
        'Bad Request',
        statusBody(400, 'BadRequest', `container ${container} is not valid for pod ${name}`),
      );
      return true;
    }
    const flag = (k: string): boolean => ['true', '1'].includes(url.searchParams.get(k) ?? '');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.run(ws, pod, argv, container, {
        stdin: flag('stdin'),
        stdout: flag('stdout'),
        stderr: flag('stderr'),
      });
    });
    return true;
  }

  private run(
    ws: WebSocket,
    pod: Json,
    received: string[],
    containerName: string,
    io: { stdin: boolean; stdout: boolean; stderr: boolean },
  ): void {
    this.execs.push(received);
    const meta = pod['metadata'] as Json;
    const key = `${String(meta['namespace'])}/${String(meta['name'])}`;
    const nodeName = String(((pod['spec'] ?? {}) as Json)['nodeName'] ?? '');
    const node = this.nodes.find((n) => n.name === nodeName);
    const frame = (channel: number, data: Buffer | string): void => {
      if (ws.readyState !== ws.OPEN) return;
      const body = typeof data === 'string' ? Buffer.from(data) : data;
      ws.send(Buffer.concat([Buffer.from([channel]), body]));
    };
    let ended = false;
    const finish = (status: Json): void => {
      if (ended) return;
      ended = true;
      frame(3, JSON.stringify(status));
      // The apiserver closes the stream once the status is written.
      if (ws.readyState === ws.OPEN) ws.close(1000);
    };
    const internal = (message: string): void =>
      finish({ metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 });
    if (!node) {
      internal(`stand-in: node "${nodeName}" of pod ${key} is not mapped to a lab namespace`);
      return;
    }
    const notFound = (tool: string): string =>
      `error executing command in container: failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: unable to start container process: exec: "${tool}": executable file not found in $PATH: unknown`;
    const labPod = this.labPods.find((p) => `${p.namespace}/${p.name}` === key);
    if (labPod) {
      // Inside the lab's pod: its own netns, and only what its container's image has.
      const containers = (((pod['spec'] ?? {}) as Json)['containers'] ?? []) as Json[];
      const c = containers.find((x) => x['name'] === containerName) ?? containers[0] ?? {};
      const tool = received[0] ?? '';
      if (!imageHas(String(c['image'] ?? ''), tool)) {
        internal(notFound(tool));
        return;
      }
      this.podExecs.push({
        pod: key,
        container: String(c['name'] ?? ''),
        netns: labPod.netns,
        argv: [...received],
      });
      this.spawnExec(ws, key, 'ip', ['netns', 'exec', labPod.netns, ...received], received, io, {
        frame,
        finish,
        internal,
        env: process.env,
      });
      return;
    }
    let argv = [...received];
    const at = indexOfRun(argv, HOST_PREFIX);
    const onHost = at >= 0;
    if (onHost) argv.splice(at, HOST_PREFIX.length);
    if (argv.length === 0) {
      internal('you must specify at least one command for the container');
      return;
    }
    const missing = this.options.missingTools ?? [];
    if (!onHost && missing.includes(argv[0] ?? '')) {
      internal(notFound(argv[0] ?? ''));
      return;
    }
    if (!onHost && argv[0] === 'sh' && argv[1] === '-c' && missing.includes(argv[4] ?? '')) {
      // A preamble ending in `exec "$@"` of a tool the image lacks: busybox sh's words.
      argv = ['sh', '-c', `echo "sh: exec: line 1: ${argv[4] ?? ''}: not found" >&2; exit 127`];
    }
    const file = node.namespace ? 'ip' : (argv[0] ?? '');
    const args = node.namespace ? ['netns', 'exec', node.namespace, ...argv] : argv.slice(1);
    const env = this.shimDir
      ? {
          ...process.env,
          PATH: `${this.shimDir}${delimiter}${process.env.PATH ?? ''}`,
          PODPATH_KIND_STANDIN: this.options.kindMapping,
          PP_STANDIN_EXEC_NODE: node.name,
        }
      : process.env;
    this.spawnExec(ws, key, file, args, received, io, { frame, finish, internal, env });
  }

  /** Runs the exec's process, its output framed on channels 1 and 2, its exit on channel 3. */
  private spawnExec(
    ws: WebSocket,
    key: string,
    file: string,
    args: string[],
    received: string[],
    io: { stdin: boolean; stdout: boolean; stderr: boolean },
    out: {
      frame: (channel: number, data: Buffer | string) => void;
      finish: (status: Json) => void;
      internal: (message: string) => void;
      env: NodeJS.ProcessEnv;
    },
  ): void {
    const { frame, finish, internal, env } = out;
    // The command as the container sees it (for the runtime's words when it cannot start).
    const argv = file === 'ip' ? args.slice(3) : [file, ...args];
    const child = spawn(file, args, {
      stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env,
    });
    let set = this.running.get(key);
    if (!set) this.running.set(key, (set = new Set()));
    set.add(child);
    child.stdout?.on('data', (d: Buffer) => {
      if (io.stdout) frame(1, d);
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (io.stderr) frame(2, d);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const buf = isBinary ? data : Buffer.from(data);
      const channel = buf[0];
      if (channel === 0) child.stdin?.write(buf.subarray(1));
      else if (channel === 255 && buf[1] === 0) child.stdin?.end();
    });
    // A closed client does not stop the command (kubelet leaves it running), but stdin ends.
    ws.on('close', () => child.stdin?.end());
    child.on('error', (e) => {
      set.delete(child);
      internal(
        `error executing command in container: OCI runtime exec failed: exec failed: unable to start container process: exec: "${argv[0] ?? ''}": executable file not found in $PATH: unknown (${e.message})`,
      );
    });
    child.on('close', (code, signal) => {
      set.delete(child);
      const exit = code ?? (signal ? 137 : 1);
      if (exit === 0) finish({ metadata: {}, status: 'Success' });
      else {
        finish({
          metadata: {},
          status: 'Failure',
          message: `command terminated with non-zero exit code: error executing command [${received.join(' ')}], exit code ${exit}`,
          reason: 'NonZeroExitCode',
          details: { causes: [{ reason: 'ExitCode', message: String(exit) }] },
        });
      }
    });
  }
}

/** The PodSecurity "baseline" checks a node-shell pod trips, said as the admission plugin does. */
function baselineViolations(spec: Json): string | undefined {
  const parts: string[] = [];
  const host = ['hostNetwork', 'hostPID', 'hostIPC'].filter((k) => spec[k] === true);
  if (host.length > 0) parts.push(`host namespaces (${host.map((k) => `${k}=true`).join(', ')})`);
  const privileged = ((spec['containers'] ?? []) as Json[])
    .filter((c) => ((c['securityContext'] ?? {}) as Json)['privileged'] === true)
    .map((c) => `"${String(c['name'])}"`);
  if (privileged.length === 1) {
    parts.push(
      `privileged (container ${privileged[0]} must not set securityContext.privileged=true)`,
    );
  } else if (privileged.length > 1) {
    parts.push(
      `privileged (containers ${privileged.join(', ')} must not set securityContext.privileged=true)`,
    );
  }
  return parts.length > 0 ? parts.join(', ') : undefined;
}
