/**
 * The one module that imports @kubernetes/client-node (1.4.x: node-fetch based, runs on the
 * Node 20 of VS Code 1.90–1.100's extension host). Moving to client-node 2.x later changes
 * this file only: everything else sees `KubeConfigSet`, `ClusterClient` and `KubeError`.
 *
 * What client-node does for us: parsing kubeconfig files, every auth kind it supports (bearer
 * tokens, token files, client certificates, exec credential plugins, OIDC, proxies) through
 * `applyToHTTPSOptions`, the watch stream framing through its `Watch` class, and the exec
 * endpoint's WebSocket channel protocol through its `Exec` class. The requests
 * themselves go through node:https so that we control the deadline, page lists with
 * `limit`/`continue`, and turn each item into a slim record page by page (the generated API
 * classes would deserialize 150,000 pods into model objects first).
 */
import https from 'node:https';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
// Deep imports keep the generated API clients (most of the package) out of the bundle.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import { Exec } from '@kubernetes/client-node/dist/exec.js';
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { runTool, ToolError } from '../exec/runner';

export type KubeErrorKind =
  | 'config'
  | 'exec-plugin'
  | 'unreachable'
  | 'tls'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'expired'
  | 'server'
  | 'cancelled';

/** A failure talking to a cluster, said in one sentence (`message`). */
export class KubeError extends Error {
  constructor(
    readonly kind: KubeErrorKind,
    message: string,
    readonly status?: number,
    /** The API server's own Status message, when it sent one (admission refusals name the policy). */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

/** How long a request may wait for the server before we call it unreachable. */
export const REQUEST_TIMEOUT_MS = 7_000;

export interface KubeContextEntry {
  name: string;
  cluster: string;
  user: string;
  namespace: string | null;
  server: string | null;
  /** The file that defined the context. */
  file: string;
}

/** Kubeconfig files merged the way kubectl merges them (first definition of a name wins). */
export interface KubeConfigSet {
  files: string[];
  contexts: KubeContextEntry[];
  current: string | null;
  /** One sentence per file that could not be read. */
  problems: string[];
  /** Internal: the merged config (client-node's type stays inside this module). */
  readonly merged: KubeConfig;
}

/** Reads and merges `files`; missing files are skipped, unreadable ones land in `problems`. */
export function loadKubeConfigSet(files: readonly string[]): KubeConfigSet {
  const clusters = new Map<string, ReturnType<KubeConfig['getClusters']>[number]>();
  const users = new Map<string, ReturnType<KubeConfig['getUsers']>[number]>();
  const contexts = new Map<string, ReturnType<KubeConfig['getContexts']>[number]>();
  const origin = new Map<string, string>();
  const problems: string[] = [];
  let current: string | null = null;
  for (const file of files) {
    if (!existsSync(file)) continue;
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      problems.push(`${file} is not a valid kubeconfig: ${firstLine(err)}`);
      continue;
    }
    if (current === null && kc.getCurrentContext()) current = kc.getCurrentContext();
    for (const c of kc.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.getContexts()) {
      if (contexts.has(c.name)) continue;
      contexts.set(c.name, c);
      origin.set(c.name, file);
    }
  }
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext: current ?? undefined,
  });
  return {
    files: [...files],
    current,
    problems,
    merged,
    contexts: [...contexts.values()].map((c) => ({
      name: c.name,
      cluster: c.cluster,
      user: c.user,
      namespace: c.namespace ?? null,
      server: clusters.get(c.cluster)?.server ?? null,
      file: origin.get(c.name) ?? '',
    })),
  };
}

export interface ListOptions {
  fieldSelector?: string;
  labelSelector?: string;
  /** Page size (default 500, as kubectl's --chunk-size). */
  limit?: number;
  signal?: AbortSignal;
  /** Each page's items as it arrives (a view can paint the first rows before the rest). */
  onPage?: (items: readonly unknown[]) => void;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  stop(): void;
}

/** What a request is doing, for error sentences: `list nodes`, `get configmaps kube-proxy`. */
export interface RequestPurpose {
  verb: 'get' | 'list' | 'watch' | 'create' | 'delete';
  resource: string;
  namespace?: string;
  name?: string;
}

/** What `ClusterClient.exec` runs and where its output goes. */
export interface ExecRequest {
  namespace: string;
  pod: string;
  /** Empty or absent: the pod's only container. */
  container?: string;
  command: readonly string[];
  stdout: Writable;
  stderr: Writable;
  /** Sent on the stdin channel, then stdin is closed (needs `v5.channel.k8s.io`). */
  stdin?: string;
  /** Aborting closes the connection (the command itself keeps running in the container). */
  signal?: AbortSignal;
}

/** How an exec ended, from the status channel. */
export interface ExecOutcome {
  /** null when the command could not be started (the message says why). */
  exitCode: number | null;
  message: string;
}

export interface ExecHandle {
  done: Promise<ExecOutcome>;
  /** The channel protocol the server chose (`v5.channel.k8s.io`, `v4.channel.k8s.io`). */
  protocol: string;
  /** Closes the connection at once. */
  close(): void;
}

/** The metav1.Status sent on channel 3 (the v4/v5 remotecommand protocols). */
interface ExecStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; type?: string; message?: string }[] };
}

function exitOf(status: ExecStatus): ExecOutcome {
  if (status.status === 'Success') return { exitCode: 0, message: '' };
  const message = status.message ?? '';
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => (c.type ?? c.reason) === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return { exitCode: code, message };
  }
  return { exitCode: null, message };
}

/** A connection to one context's API server. */
export class ClusterClient {
  readonly context: string;
  readonly server: string;
  readonly user: string;
  private readonly kc: PluginKubeConfig;
  /** The user's exec credential plugin, which we run ourselves (see execCredential). */
  private readonly execPlugin: ExecPlugin | undefined;
  private credential: Promise<ExecCredentialStatus> | undefined;
  private credentialExpires = 0;

  /** @throws KubeError `config` when the context, its cluster or its user is missing. */
  constructor(set: KubeConfigSet, contextName?: string) {
    const name = contextName ?? set.current;
    if (!name) {
      throw new KubeError(
        'config',
        `No current context in ${describeFiles(set.files)}; pass a context name.`,
      );
    }
    const ctx = set.merged.getContextObject(name);
    if (!ctx) {
      throw new KubeError('config', `No context named '${name}' in ${describeFiles(set.files)}.`);
    }
    const cluster = set.merged.getCluster(ctx.cluster);
    if (!cluster) {
      throw new KubeError(
        'config',
        `Context '${name}' names cluster '${ctx.cluster}', which no kubeconfig file (${describeFiles(set.files)}) defines.`,
      );
    }
    if (ctx.user && !set.merged.getUser(ctx.user)) {
      throw new KubeError(
        'config',
        `Context '${name}' names user '${ctx.user}', which no kubeconfig file (${describeFiles(set.files)}) defines.`,
      );
    }
    const user = set.merged.getUser(ctx.user);
    this.execPlugin = execPluginOf(user);
    this.kc = new PluginKubeConfig();
    if (this.execPlugin) this.kc.credential = () => this.execCredential();
    this.kc.loadFromOptions({
      clusters: [cluster],
      // client-node 1.4 spawns exec plugins without a timeout and never kills a hung one;
      // the plugin is run through our runner instead, so it goes without its exec entry.
      users: user
        ? [this.execPlugin ? { ...user, exec: undefined, authProvider: undefined } : user]
        : [],
      contexts: [ctx],
      currentContext: name,
    });
    this.context = name;
    this.server = cluster.server;
    this.user = ctx.user;
  }

  /** GET one object; `null` when it does not exist (404). */
  async get(path: string, purpose: RequestPurpose, signal?: AbortSignal): Promise<unknown> {
    try {
      return JSON.parse(await this.request(path, purpose, signal));
    } catch (e) {
      if (e instanceof KubeError && e.kind === 'not-found') return null;
      throw e;
    }
  }

  /** POST `body` to `path` (create an object); resolves with the object the server stored. */
  async create(
    path: string,
    body: unknown,
    purpose: RequestPurpose,
    signal?: AbortSignal,
  ): Promise<unknown> {
    return JSON.parse(await this.request(path, purpose, signal, { method: 'POST', body }));
  }

  /** DELETE `path`; false when the object was already gone (404). */
  async remove(path: string, purpose: RequestPurpose, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.request(path, purpose, signal, { method: 'DELETE' });
      return true;
    } catch (e) {
      if (e instanceof KubeError && e.kind === 'not-found') return false;
      throw e;
    }
  }

  /**
   * Runs `command` in a container through the API's exec endpoint (client-node's `Exec`: a
   * WebSocket speaking the `v5`/`v4.channel.k8s.io` channel protocol, so kubectl is not needed).
   * Stdout and stderr bytes go to the given streams as they arrive; resolves when the status
   * channel reports the end, with the exit code it carries (`NonZeroExitCode` → its `ExitCode`
   * cause). A failure to start the command at all (e.g. the executable is not in the image)
   * resolves with `exitCode: null` and the server's message.
   */
  async exec(request: ExecRequest): Promise<ExecHandle> {
    const purpose: RequestPurpose = {
      verb: 'create',
      resource: 'pods/exec',
      namespace: request.namespace,
      name: request.pod,
    };
    if (request.signal?.aborted) throw new KubeError('cancelled', 'Cancelled.');
    await this.authenticate({});
    let settle: (outcome: ExecOutcome) => void = () => undefined;
    let fail: (err: KubeError) => void = () => undefined;
    const done = new Promise<ExecOutcome>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    done.catch(() => undefined);
    let status: ExecStatus | undefined;
    const stdin = request.stdin === undefined ? null : Readable.from([request.stdin]);
    // The handler's own streams default to this process's stdio, which a v5 close message
    // would end: give it the request's.
    const handler = new WebSocketHandler(this.kc, undefined, {
      stdin: stdin ?? Readable.from([]),
      stdout: request.stdout,
      stderr: request.stderr,
    });
    let socket: Awaited<ReturnType<Exec['exec']>>;
    try {
      socket = await withDeadline(
        new Exec(this.kc, handler).exec(
          request.namespace,
          request.pod,
          request.container ?? '',
          [...request.command],
          request.stdout,
          request.stderr,
          stdin,
          false,
          (s) => {
            status = s as ExecStatus;
          },
        ),
        REQUEST_TIMEOUT_MS,
        () => new KubeError('unreachable', this.unreachable('no answer in time')),
      );
    } catch (e) {
      throw this.execError(e, purpose);
    }
    const onAbort = (): void => socket.terminate();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('close', () => {
      request.signal?.removeEventListener('abort', onAbort);
      if (request.signal?.aborted) {
        fail(new KubeError('cancelled', 'Cancelled.'));
        return;
      }
      if (!status) {
        fail(
          new KubeError(
            'server',
            `The exec connection to pod ${request.namespace}/${request.pod} closed before the command's exit status arrived${
              request.stdin !== undefined && socket.protocol !== 'v5.channel.k8s.io'
                ? ` (the API server speaks ${socket.protocol || 'an old exec protocol'}, which cannot end stdin without closing the connection)`
                : ''
            }.`,
          ),
        );
        return;
      }
      settle(exitOf(status));
    });
    return { done, protocol: socket.protocol, close: () => socket.terminate() };
  }

  private execError(e: unknown, purpose: RequestPurpose): KubeError {
    if (e instanceof KubeError) return e;
    // ws says a refused upgrade as "Unexpected server response: 403" (the body is not kept).
    const event = e as { message?: string; error?: unknown };
    const m = /Unexpected server response: (\d+)/.exec(String(event.message ?? ''));
    if (m) return this.statusError(Number(m[1]), '', purpose);
    return this.toKubeError(event.error ?? e, purpose);
  }

  /**
   * Lists `path` page by page (`limit` + `continue`), turning each item into what the caller
   * keeps with `keep` before the next page is read. A 410 on a `continue` token (the list
   * took longer than the server keeps it) restarts the list once.
   */
  async list<T>(
    path: string,
    purpose: RequestPurpose,
    keep: (item: unknown) => T,
    options: ListOptions = {},
  ): Promise<ListResult<T>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.listOnce(path, purpose, keep, options);
      } catch (e) {
        if (!(e instanceof KubeError && e.kind === 'expired') || attempt >= 1) throw e;
      }
    }
  }

  private async listOnce<T>(
    path: string,
    purpose: RequestPurpose,
    keep: (item: unknown) => T,
    options: ListOptions,
  ): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont = '';
    let resourceVersion = '';
    do {
      const query = new URLSearchParams();
      query.set('limit', String(options.limit ?? 500));
      if (cont) query.set('continue', cont);
      if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
      if (options.labelSelector) query.set('labelSelector', options.labelSelector);
      const page = JSON.parse(
        await this.request(`${path}?${query.toString()}`, purpose, options.signal),
      ) as { metadata?: { continue?: string; resourceVersion?: string }; items?: unknown[] };
      const kept = (page.items ?? []).map(keep);
      for (const item of kept) items.push(item);
      options.onPage?.(kept);
      cont = page.metadata?.continue ?? '';
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (cont);
    return { items, resourceVersion };
  }

  /**
   * Watches `path` from `resourceVersion` with bookmarks on. `onEvent` gets each event;
   * `onEnd` is called once when the stream ends (null: the server closed it) unless `stop()`
   * was called first. An ERROR event (410 Expired) arrives through `onEvent`.
   */
  async watch(
    path: string,
    params: { resourceVersion: string; fieldSelector?: string; timeoutSeconds?: number },
    onEvent: (type: WatchEventType, object: unknown) => void,
    onEnd: (err: KubeError | null) => void,
  ): Promise<WatchHandle> {
    let stopped = false;
    const purpose: RequestPurpose = { verb: 'watch', resource: resourceOf(path) };
    const query: Record<string, string | number | boolean | undefined> = {
      resourceVersion: params.resourceVersion,
      allowWatchBookmarks: true,
      fieldSelector: params.fieldSelector,
      timeoutSeconds: params.timeoutSeconds,
    };
    const end = (err: unknown): void => {
      if (stopped) return;
      stopped = true;
      onEnd(err ? this.toKubeError(err, purpose) : null);
    };
    let controller: AbortController | undefined;
    try {
      // Credentials first, so that a missing plugin is said as such (the stream's own
      // error would only say that the request failed); the plugin's token is cached.
      await this.authenticate({});
      controller = await withDeadline(
        new Watch(this.kc).watch(
          path,
          query,
          (type, obj) => {
            if (!stopped) onEvent(type as WatchEventType, obj);
          },
          end,
        ),
        REQUEST_TIMEOUT_MS,
        () => new KubeError('unreachable', this.unreachable('no answer in time')),
      );
    } catch (e) {
      end(e);
    }
    return {
      stop: () => {
        stopped = true;
        controller?.abort();
      },
    };
  }

  /** The raw body of a GET, or a KubeError. */
  private async request(
    path: string,
    purpose: RequestPurpose,
    signal?: AbortSignal,
    send: { method: 'GET' | 'POST' | 'DELETE'; body?: unknown } = { method: 'GET' },
  ) {
    const payload = send.body === undefined ? undefined : JSON.stringify(send.body);
    const opts: https.RequestOptions = {
      method: send.method,
      headers: {
        Accept: 'application/json',
        ...(payload === undefined
          ? {}
          : {
              'Content-Type': 'application/json',
              'Content-Length': Buffer.byteLength(payload),
            }),
      },
    };
    await this.authenticate(opts);
    const url = new URL(this.server + path);
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise<string>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new KubeError('cancelled', 'Cancelled.'));
        return;
      }
      const timedOut = () => new KubeError('unreachable', this.unreachable('no answer in time'));
      // Until the response starts: a total deadline (connect, TLS, headers). After it: a
      // deadline on inactivity only, since a 5,000-node list may take longer to stream.
      const deadline = setTimeout(() => req.destroy(timedOut()), REQUEST_TIMEOUT_MS);
      const req = lib.request(url, opts, (res) => {
        clearTimeout(deadline);
        req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(timedOut()));
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(this.toKubeError(e, purpose)));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve(body);
          else reject(this.statusError(code, body, purpose));
        });
      });
      const onAbort = (): void => {
        req.destroy(new KubeError('cancelled', 'Cancelled.'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => reject(this.toKubeError(e, purpose)));
      req.on('close', () => {
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
      });
      req.end(payload);
    });
  }

  private unreachable(why: string): string {
    return `Cannot reach the API server of context '${this.context}' at ${this.server} (${why}).`;
  }

  private statusError(code: number, body: string, purpose: RequestPurpose): KubeError {
    let message = '';
    try {
      message = String((JSON.parse(body) as { message?: unknown }).message ?? '');
    } catch {
      message = body.slice(0, 200);
    }
    const what = describePurpose(purpose);
    const detail = message || undefined;
    switch (code) {
      case 401:
        this.credential = undefined;
        return new KubeError('unauthorized', this.unauthorizedText(), code, detail);
      case 403:
        return new KubeError(
          'forbidden',
          `User '${this.user}' may not ${what} on context '${this.context}' (403 Forbidden).`,
          code,
          detail,
        );
      case 404:
        return new KubeError(
          'not-found',
          `The server has no ${purpose.resource}${purpose.name ? ` '${purpose.name}'` : ''} (404).`,
          code,
          detail,
        );
      case 410:
        return new KubeError('expired', `The server expired the ${what} (410 Gone).`, code);
      default:
        return new KubeError(
          'server',
          `The API server answered ${code} to ${what}${message ? `: ${message}` : ''}.`,
          code,
          detail,
        );
    }
  }

  /** 401: what to run to get fresh credentials depends on how the user authenticates. */
  private unauthorizedText(): string {
    const u = this.kc.getCurrentUser();
    const lead = `The API server of context '${this.context}' rejected the credentials of user '${this.user}' (401 Unauthorized)`;
    if (u?.exec?.command) {
      const argv = [u.exec.command, ...(u.exec.args ?? [])].join(' ');
      return `${lead}; run \`${argv}\` to check that the credential plugin returns a fresh token, log in again with it, then refresh.`;
    }
    if (u?.certData || u?.certFile) {
      return `${lead}; the client certificate has probably expired or was revoked — export the kubeconfig again (kind: \`kind export kubeconfig --name <cluster>\`; kubeadm: \`kubeadm kubeconfig user\`) and refresh.`;
    }
    return `${lead}; the token has probably expired — get a new one (e.g. \`kubectl create token <serviceaccount>\`, or re-run your provider's get-credentials command) and refresh.`;
  }

  /** Runs the user's auth (exec plugin, token file…) into `opts`, or says why it failed. */
  private async authenticate(opts: https.RequestOptions): Promise<void> {
    try {
      // The plugin has its own deadline (and is killed at it); this one is a backstop.
      await withDeadline(
        this.kc.applyToHTTPSOptions(opts),
        REQUEST_TIMEOUT_MS + 2_000,
        () =>
          new KubeError(
            'config',
            `Reading the credentials of user '${this.user}' took longer than ${REQUEST_TIMEOUT_MS / 1000 + 2} s.`,
          ),
      );
    } catch (e) {
      if (e instanceof KubeError) throw e;
      throw new KubeError(
        'config',
        `The credentials of user '${this.user}' could not be read: ${firstLine(e)}.`,
      );
    }
  }

  /**
   * The ExecCredential of the user's plugin, run through the runner with the request deadline:
   * a plugin that hangs (waiting for a browser login, a stuck network call) is killed with its
   * process group when the deadline passes. One run serves concurrent requests; the result is
   * kept until its `expirationTimestamp`, or without one until the server answers 401 (as
   * client-go does).
   */
  private execCredential(): Promise<ExecCredentialStatus> {
    const exec = this.execPlugin as ExecPlugin;
    if (this.credential && (this.credentialExpires > Date.now() || this.credentialExpires < 0)) {
      return this.credential;
    }
    const argv = [exec.command, ...exec.args];
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const { name, value } of exec.env) env[name] = value;
    // What client-go hands a plugin (client.authentication.k8s.io ExecCredential spec).
    env['KUBERNETES_EXEC_INFO'] = JSON.stringify({
      apiVersion: exec.apiVersion,
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
    this.credentialExpires = -1;
    const run = runTool(argv, {
      timeoutMs: REQUEST_TIMEOUT_MS,
      forceKillAfterMs: 1000,
      killGroup: true,
      env,
    }).then(
      (r) => {
        const status = parseExecCredential(r.stdout);
        if (!status) {
          throw new KubeError(
            'exec-plugin',
            `The credential plugin '${exec.command}' of user '${this.user}' did not print an ExecCredential with a status (got: ${firstLine(r.stdout) || 'nothing'}).`,
          );
        }
        const expires = Date.parse(status.expirationTimestamp ?? '');
        this.credentialExpires = Number.isFinite(expires) ? expires : Infinity;
        return status;
      },
      (e: unknown) => {
        this.credentialExpires = 0;
        throw this.pluginError(exec.command, e);
      },
    );
    this.credential = run;
    run.catch(() => {
      if (this.credential === run) this.credential = undefined;
    });
    return run;
  }

  private pluginError(plugin: string, e: unknown): KubeError {
    if (e instanceof KubeError) return e;
    if (e instanceof ToolError && e.kind === 'not-found') {
      return new KubeError(
        'exec-plugin',
        `The kubeconfig user '${this.user}' needs the credential plugin '${plugin}', which is not installed or not on PATH${pluginHint(plugin)}.`,
      );
    }
    if (e instanceof ToolError && e.kind === 'timeout') {
      return new KubeError(
        'exec-plugin',
        `The credential plugin '${plugin}' of user '${this.user}' did not answer within ${REQUEST_TIMEOUT_MS / 1000} s and was stopped.`,
      );
    }
    const why = e instanceof ToolError ? e.stderr.trim().split('\n')[0] : firstLine(e);
    const code = e instanceof ToolError && e.exitCode !== null ? ` (exit code ${e.exitCode})` : '';
    return new KubeError(
      'exec-plugin',
      `The credential plugin '${plugin}' of user '${this.user}' failed${code}: ${why || 'no output'}.`,
    );
  }

  private toKubeError(e: unknown, purpose: RequestPurpose): KubeError {
    if (e instanceof KubeError) return e;
    const err = e as NodeJS.ErrnoException & { statusCode?: number; path?: string };
    if (typeof err.statusCode === 'number') return this.statusError(err.statusCode, '', purpose);
    const code = err.code ?? '';
    if (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
      return new KubeError(
        'tls',
        `TLS failure talking to ${this.server} for context '${this.context}': ${tlsReason(code, err.message)}.`,
      );
    }
    if (code === 'ABORT_ERR' || err.name === 'AbortError') {
      return new KubeError('cancelled', 'Cancelled.');
    }
    if (code in NET_REASONS) {
      return new KubeError('unreachable', this.unreachable(NET_REASONS[code] ?? code));
    }
    return new KubeError('server', `Talking to ${this.server} failed: ${firstLine(e)}.`);
  }
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'EPROTO',
]);

const NET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed',
  ERR_STREAM_PREMATURE_CLOSE: 'the connection closed mid-stream',
};

function tlsReason(code: string, message: string): string {
  switch (code) {
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return "the server's certificate is not signed by the kubeconfig's certificate-authority";
    case 'CERT_HAS_EXPIRED':
      return "the server's certificate has expired";
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return "the server's certificate does not name this host (set tls-server-name?)";
    default:
      return message.split('\n')[0] ?? code;
  }
}

/**
 * client-node's KubeConfig with the exec credential supplied by us: a certificate from the
 * plugin goes in before the agent is built from `opts`, the token after the user's headers.
 * Both our requests (applyToHTTPSOptions) and the Watch class (applyToFetchOptions, which
 * calls it) get it.
 */
class PluginKubeConfig extends KubeConfig {
  credential: (() => Promise<ExecCredentialStatus>) | undefined;

  override async applyToHTTPSOptions(
    opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0],
  ): Promise<void> {
    const status = await this.credential?.();
    if (status?.clientCertificateData) opts.cert = status.clientCertificateData;
    if (status?.clientKeyData) opts.key = status.clientKeyData;
    await super.applyToHTTPSOptions(opts);
    if (status?.token) opts.headers = { ...opts.headers, Authorization: `Bearer ${status.token}` };
  }
}

interface ExecPlugin {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
}

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** The `exec` entry of a kubeconfig user (or of a legacy auth provider's config). */
function execPluginOf(
  user: { exec?: unknown; authProvider?: unknown } | null,
): ExecPlugin | undefined {
  const o = (v: unknown): Record<string, unknown> =>
    typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  const exec = user?.exec ?? o(o(user?.authProvider)['config'])['exec'];
  const e = o(exec);
  if (typeof e['command'] !== 'string' || e['command'] === '') return undefined;
  return {
    command: e['command'],
    args: Array.isArray(e['args']) ? e['args'].map(String) : [],
    env: Array.isArray(e['env'])
      ? e['env'].map(o).map((v) => ({ name: String(v['name']), value: String(v['value'] ?? '') }))
      : [],
    apiVersion:
      typeof e['apiVersion'] === 'string' ? e['apiVersion'] : 'client.authentication.k8s.io/v1',
  };
}

function parseExecCredential(stdout: string): ExecCredentialStatus | undefined {
  try {
    const status = (JSON.parse(stdout) as { status?: unknown }).status;
    if (typeof status !== 'object' || status === null) return undefined;
    const s = status as Record<string, unknown>;
    const str = (k: string) => (typeof s[k] === 'string' ? s[k] : undefined);
    return {
      token: str('token'),
      clientCertificateData: str('clientCertificateData'),
      clientKeyData: str('clientKeyData'),
      expirationTimestamp: str('expirationTimestamp'),
    };
  } catch {
    return undefined;
  }
}

function pluginHint(plugin: string): string {
  const base = plugin.split('/').pop() ?? plugin;
  const hints: Record<string, string> = {
    aws: ' (install the AWS CLI v2)',
    'aws-iam-authenticator': ' (install aws-iam-authenticator)',
    kubelogin: ' (install kubelogin: `az aks install-cli`)',
    'gke-gcloud-auth-plugin': ' (`gcloud components install gke-gcloud-auth-plugin`)',
  };
  return hints[base] ?? '';
}

function describePurpose(p: RequestPurpose): string {
  const scope = p.namespace ? ` in namespace ${p.namespace}` : ' cluster-wide';
  return `${p.verb} ${p.resource}${p.name ? ` '${p.name}'` : ''}${scope}`;
}

/** `pods` from `/api/v1/pods`, `ippools` from `/apis/crd.projectcalico.org/v1/ippools`. */
function resourceOf(path: string): string {
  const parts = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  return parts[parts.length - 1] ?? path;
}

function describeFiles(files: readonly string[]): string {
  return files.length === 0 ? 'no kubeconfig file' : files.join(', ');
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (text.trim().split('\n')[0] ?? '').trim();
}

function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        // A WebSocket ErrorEvent is not an Error but carries the message ("Unexpected server
        // response: 403").
        const message = (e as { message?: unknown } | null)?.message;
        reject(
          e instanceof Error ? e : new Error(typeof message === 'string' ? message : String(e)),
        );
      },
    );
  });
}
