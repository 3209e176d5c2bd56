/**
 * A small, faithful stand-in for a Kubernetes API server, for tests and the cluster benchmark
 * (no cluster can run on the test machines). HTTPS on 127.0.0.1 with its own CA (made with
 * Debian's `openssl` CLI), bearer-token and client-certificate authentication, discovery,
 * list with field/label selectors and `limit`/`continue`, watch, server-side Table printing
 * for nodes and pods (what kubectl asks for), and Status errors.
 *
 * Where the wire format comes from:
 * - Kubernetes API conventions and "API concepts" (kubernetes/website
 *   content/en/docs/reference/using-api/api-concepts.md): list paging with `limit`/`continue`
 *   and 410 Expired for a stale token, watch streams as newline-delimited `{type, object}`
 *   events, BOOKMARK events carrying only `metadata.resourceVersion` when
 *   `allowWatchBookmarks=true`, and an ERROR event with a 410 Status for a resourceVersion
 *   that is too old (sent with HTTP 200, then the stream ends).
 * - The recorded wire examples in /work/shared/fixtures/kube-objects/wire/ (copied into
 *   test/fixtures/kube-objects/): the exact 410 Status bodies and messages, the watch line
 *   framing, and the BOOKMARK object shape.
 * - Status bodies for 401/403/404 follow the apiserver's wording
 *   (`nodes is forbidden: User "x" cannot list resource "nodes" in API group "" at the
 *   cluster scope`).
 *
 * Deliberate simplifications: a list is not a consistent snapshot across pages (pages read
 * the current objects after the continue key), and only the field selectors the apiserver
 * supports for the resources used here are implemented.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../src/platform/exec/runner';
import { PodApi, type PodApiOptions } from './kubeStandInPods';

export interface ResourceType {
  group: string;
  version: string;
  /** Plural, as in the URL. */
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
}

export const STANDARD_RESOURCES: ResourceType[] = [
  {
    group: '',
    version: 'v1',
    resource: 'nodes',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
  },
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'] },
  {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
    shortNames: ['cm'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'services',
    kind: 'Service',
    namespaced: true,
    shortNames: ['svc'],
  },
  {
    group: 'apps',
    version: 'v1',
    resource: 'daemonsets',
    kind: 'DaemonSet',
    namespaced: true,
    shortNames: ['ds'],
  },
];

export const CALICO_CRD_RESOURCES: ResourceType[] = [
  {
    group: 'crd.projectcalico.org',
    version: 'v1',
    resource: 'ippools',
    kind: 'IPPool',
    namespaced: false,
  },
];

/**
 * API groups a newer or Calico-operator cluster serves besides the CRD pools: the v3 pools of
 * the Calico API server, the operator's Installation and networking.k8s.io ServiceCIDRs (GA
 * in 1.33). Left out of the default set so that tests also see them absent (404).
 */
export const NETWORK_EXTRA_RESOURCES: ResourceType[] = [
  {
    group: 'projectcalico.org',
    version: 'v3',
    resource: 'ippools',
    kind: 'IPPool',
    namespaced: false,
  },
  {
    group: 'operator.tigera.io',
    version: 'v1',
    resource: 'installations',
    kind: 'Installation',
    namespaced: false,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'servicecidrs',
    kind: 'ServiceCIDR',
    namespaced: false,
  },
];

export interface Certificates {
  dir: string;
  caFile: string;
  caPem: string;
  certFile: string;
  keyFile: string;
  /** A client certificate for user `cert-user` (CN), signed by the same CA. */
  clientCertFile: string;
  clientKeyFile: string;
}

/** A fresh CA, a server certificate for 127.0.0.1/localhost and a client certificate. */
export async function makeCertificates(
  dir = mkdtempSync(join(tmpdir(), 'pp-kube-')),
): Promise<Certificates> {
  const f = (n: string) => join(dir, n);
  const ossl = (args: string[]) => runTool(['openssl', ...args], { timeoutMs: 30_000 });
  await ossl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=podpath-standin-ca',
  ]);
  writeFileSync(
    f('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  await ossl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=kube-apiserver',
  ]);
  await ossl([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.crt'),
    '-days',
    '2',
    '-extfile',
    f('server.ext'),
  ]);
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  await ossl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('client.key'),
    '-out',
    f('client.csr'),
    '-subj',
    '/O=system:masters/CN=cert-user',
  ]);
  await ossl([
    'x509',
    '-req',
    '-in',
    f('client.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('client.crt'),
    '-days',
    '2',
    '-extfile',
    f('client.ext'),
  ]);
  return {
    dir,
    caFile: f('ca.crt'),
    caPem: readFileSync(f('ca.crt'), 'utf8'),
    certFile: f('server.crt'),
    keyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
  };
}

type Json = Record<string, unknown>;

interface StoredEvent {
  rv: number;
  rt: ResourceType;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Json;
  previous: Json | null;
}

interface Watcher {
  rt: ResourceType;
  namespace: string | null;
  match: (o: Json) => boolean;
  table: boolean;
  res: ServerResponse;
  bookmarks: boolean;
  /** A half-open connection: nothing more is written, nothing closes. */
  frozen?: boolean;
}

export interface StandInOptions {
  certs: Certificates;
  /** Bearer token → user name. */
  tokens?: Record<string, string>;
  /** `user verb resource` triples that get 403 (e.g. `alice list pods`). */
  deny?: string[];
  resources?: ResourceType[];
  /** How often a watch with bookmarks gets a BOOKMARK (ms). */
  bookmarkIntervalMs?: number;
  /** Events kept for watch resumption; older resourceVersions get 410. */
  historyLimit?: number;
  port?: number;
  /** Pod create/delete and exec (kubeStandInPods.ts): lab node mapping, PodSecurity, outcomes. */
  pods?: PodApiOptions;
}

/** The store and HTTPS front of the stand-in. Objects survive `restart()`, like etcd. */
export class KubeApiStandIn {
  private readonly resources: ResourceType[];
  private readonly objects = new Map<string, Map<string, Json>>();
  private readonly sortedKeys = new Map<string, string[] | null>();
  /** pods by spec.nodeName, as the apiserver's watch cache indexes them. */
  private readonly podsByNode = new Map<string, Set<string>>();
  private history: StoredEvent[] = [];
  /** Serialized list items by stored object (replaced objects drop out with their key). */
  private readonly encoded = new WeakMap<Json, string>();
  private oldestRv = 1;
  private rv = 1;
  private server: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly watchers = new Set<Watcher>();
  private bookmarkTimer: NodeJS.Timeout | undefined;
  port = 0;
  /** Requests seen (method, URL), for tests that check what a client asked. */
  readonly requests: string[] = [];
  /** Pod writes and exec. */
  readonly podApi: PodApi;

  constructor(private readonly options: StandInOptions) {
    this.resources = options.resources ?? [...STANDARD_RESOURCES, ...CALICO_CRD_RESOURCES];
    for (const r of this.resources) this.objects.set(this.typeKey(r), new Map());
    this.podApi = new PodApi(
      {
        upsert: (o) => this.upsert(o),
        remove: (a, k, n, ns) => this.remove(a, k, n, ns),
        get: (a, k, n, ns) => this.get(a, k, n, ns),
        denied: (user, verb, resource) =>
          (this.options.deny ?? []).includes(`${user} ${verb} ${resource}`),
        hasNamespaces: () => (this.objects.get('/namespaces')?.size ?? 0) > 0,
      },
      options.pods,
    );
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  async start(): Promise<void> {
    const { certs } = this.options;
    this.server = https.createServer(
      {
        key: readFileSync(certs.keyFile),
        cert: readFileSync(certs.certFile),
        ca: readFileSync(certs.caFile),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => this.handle(req, res),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.requests.push(`${req.method ?? 'GET'} ${req.url ?? ''}`);
      if (!this.podApi.upgrade(req, socket, head, this.authenticate(req))) socket.destroy();
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: TLSSocket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    const port = this.port || this.options.port || 0;
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.bookmarkTimer = setInterval(
      () => this.sendBookmarks(),
      this.options.bookmarkIntervalMs ?? 1000,
    );
    this.bookmarkTimer.unref();
  }

  /** Stops listening and cuts every connection (watches end abruptly, as in a crash). */
  async stop(): Promise<void> {
    clearInterval(this.bookmarkTimer);
    this.podApi.stop();
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    this.server = undefined;
  }

  /** Stop, then listen again on the same port with the same objects. */
  async restart(pauseMs = 0): Promise<void> {
    await this.stop();
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    await this.start();
  }

  /** Forgets the event history: watches from an older resourceVersion get 410 Expired. */
  compact(): void {
    this.history = [];
    this.oldestRv = this.rv + 1;
  }

  /** Ends every open watch with a 410 ERROR event (as after an etcd compaction). */
  expireWatches(): void {
    for (const w of [...this.watchers]) {
      this.writeEvent(
        w,
        'ERROR',
        expiredStatus(`too old resource version: ${this.rv} (${this.rv + 1})`),
      );
      w.res.end();
      this.watchers.delete(w);
    }
    this.compact();
  }

  /** Open watches go silent without closing (a half-open TCP connection). */
  freezeWatches(): void {
    for (const w of this.watchers) w.frozen = true;
  }

  openWatchCount(): number {
    return this.watchers.size;
  }

  private typeKey(r: ResourceType): string {
    return `${r.group}/${r.resource}`;
  }

  private find(apiVersionOrGroup: string, kindOrResource: string): ResourceType {
    const rt = this.resources.find(
      (r) =>
        (r.kind === kindOrResource || r.resource === kindOrResource) &&
        (apiVersionOrGroup === r.group ||
          apiVersionOrGroup === (r.group ? `${r.group}/${r.version}` : r.version)),
    );
    if (!rt) throw new Error(`stand-in: no resource ${apiVersionOrGroup} ${kindOrResource}`);
    return rt;
  }

  /** Adds or replaces an object (by apiVersion/kind/namespace/name); returns it as stored. */
  upsert(object: unknown): Json {
    const o = structuredClone(object) as Json;
    const rt = this.find(String(o['apiVersion'] ?? 'v1'), String(o['kind'] ?? ''));
    const meta = (o['metadata'] ?? {}) as Json;
    const key = objectKey(rt, meta);
    const store = this.objects.get(this.typeKey(rt)) ?? new Map<string, Json>();
    const previous = store.get(key) ?? null;
    this.rv += 1;
    meta['resourceVersion'] = String(this.rv);
    meta['uid'] ??= previous ? (previous['metadata'] as Json)['uid'] : randomUUID();
    meta['creationTimestamp'] ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    o['metadata'] = meta;
    o['apiVersion'] = rt.group ? `${rt.group}/${rt.version}` : rt.version;
    o['kind'] = rt.kind;
    store.set(key, o);
    if (!previous) this.sortedKeys.set(this.typeKey(rt), null);
    if (rt.resource === 'pods') this.indexPod(key, previous, o);
    this.record({ rv: this.rv, rt, type: previous ? 'MODIFIED' : 'ADDED', object: o, previous });
    return o;
  }

  /** Adds many objects at once without history (for the benchmark's 150,000 pods). */
  load(objects: Iterable<unknown>): void {
    for (const object of objects) {
      const o = object as Json;
      const rt = this.find(String(o['apiVersion'] ?? 'v1'), String(o['kind'] ?? ''));
      const meta = (o['metadata'] ?? {}) as Json;
      this.rv += 1;
      meta['resourceVersion'] = String(this.rv);
      meta['uid'] ??= randomUUID();
      o['metadata'] = meta;
      o['apiVersion'] = rt.group ? `${rt.group}/${rt.version}` : rt.version;
      o['kind'] = rt.kind;
      const key = objectKey(rt, meta);
      this.objects.get(this.typeKey(rt))?.set(key, o);
      this.sortedKeys.set(this.typeKey(rt), null);
      if (rt.resource === 'pods') this.indexPod(key, null, o);
    }
    this.compact();
  }

  /** Removes an object; returns false when there was none. */
  remove(apiVersion: string, kind: string, name: string, namespace?: string): boolean {
    const rt = this.find(apiVersion, kind);
    const key = objectKey(rt, { name, namespace });
    const store = this.objects.get(this.typeKey(rt));
    const previous = store?.get(key);
    if (!store || !previous) return false;
    store.delete(key);
    this.sortedKeys.set(this.typeKey(rt), null);
    if (rt.resource === 'pods') this.indexPod(key, previous, null);
    this.rv += 1;
    const gone = structuredClone(previous);
    (gone['metadata'] as Json)['resourceVersion'] = String(this.rv);
    this.record({ rv: this.rv, rt, type: 'DELETED', object: gone, previous });
    return true;
  }

  /** The stored object, for tests to modify and `upsert` again. */
  /** Every stored object of one type (what a test checks was created or deleted). */
  stored(apiVersion: string, kind: string): Json[] {
    return [...(this.objects.get(this.typeKey(this.find(apiVersion, kind)))?.values() ?? [])];
  }

  get(apiVersion: string, kind: string, name: string, namespace?: string): Json | undefined {
    const rt = this.find(apiVersion, kind);
    const o = this.objects.get(this.typeKey(rt))?.get(objectKey(rt, { name, namespace }));
    return o ? structuredClone(o) : undefined;
  }

  private indexPod(key: string, previous: Json | null, next: Json | null): void {
    const nodeOf = (o: Json | null) =>
      ((o?.['spec'] as Json | undefined)?.['nodeName'] as string) ?? '';
    const before = nodeOf(previous);
    const after = nodeOf(next);
    if (previous) this.podsByNode.get(before)?.delete(key);
    if (next) {
      let set = this.podsByNode.get(after);
      if (!set) this.podsByNode.set(after, (set = new Set()));
      set.add(key);
    }
  }

  private record(e: StoredEvent): void {
    this.history.push(e);
    const limit = this.options.historyLimit ?? 10_000;
    if (this.history.length > limit) {
      const dropped = this.history.splice(0, this.history.length - limit);
      this.oldestRv = (dropped[dropped.length - 1]?.rv ?? this.oldestRv) + 1;
    }
    for (const w of this.watchers) this.deliver(w, e);
  }

  private deliver(w: Watcher, e: StoredEvent): void {
    if (w.rt !== e.rt) return;
    const inNs = (o: Json | null) =>
      !!o && (w.namespace === null || (o['metadata'] as Json)['namespace'] === w.namespace);
    const was = inNs(e.previous) && w.match(e.previous as Json);
    const is = e.type !== 'DELETED' && inNs(e.object) && w.match(e.object);
    // With a selector, an object that stops matching is DELETED for that watcher (apiserver rule).
    if (e.type === 'DELETED') {
      if (was) this.writeEvent(w, 'DELETED', e.object);
    } else if (is && !was) this.writeEvent(w, 'ADDED', e.object);
    else if (is && was) this.writeEvent(w, 'MODIFIED', e.object);
    else if (!is && was) this.writeEvent(w, 'DELETED', e.object);
  }

  private writeEvent(w: Watcher, type: string, object: Json): void {
    if (w.frozen) return;
    const payload =
      w.table && type !== 'ERROR' && type !== 'BOOKMARK'
        ? toTable(w.rt, [object], 'Object', {})
        : object;
    w.res.write(`${JSON.stringify({ type, object: payload })}\n`);
  }

  private sendBookmarks(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks || w.frozen) continue;
      const apiVersion = w.rt.group ? `${w.rt.group}/${w.rt.version}` : w.rt.version;
      w.res.write(
        `${JSON.stringify({ type: 'BOOKMARK', object: { kind: w.rt.kind, apiVersion, metadata: { resourceVersion: String(this.rv) } } })}\n`,
      );
    }
  }

  // ---- HTTP ----

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(`${req.method ?? 'GET'} ${req.url ?? ''}`);
    const user = this.authenticate(req);
    if (!user) {
      this.status(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const path = url.pathname.replace(/\/$/, '');
    if (req.method !== 'GET' && this.podApi.handleWrite(req, res, user, path)) return;
    if (req.method !== 'GET') {
      this.status(res, 405, 'MethodNotAllowed', `the stand-in only serves GET, not ${req.method}`);
      return;
    }
    if (path === '/version') {
      this.json(res, 200, {
        major: '1',
        minor: '32',
        gitVersion: 'v1.32.0-podpath-standin',
        platform: 'linux/amd64',
      });
      return;
    }
    if (path === '/api') {
      this.json(res, 200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [
          { clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` },
        ],
      });
      return;
    }
    if (path === '/apis') {
      this.json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: this.groups() });
      return;
    }
    const parsed = this.parsePath(path);
    if (!parsed) {
      this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
      return;
    }
    if ('groupVersion' in parsed) {
      this.json(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: parsed.groupVersion,
        resources: parsed.types.map((r) => ({
          name: r.resource,
          singularName: r.kind.toLowerCase(),
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['get', 'list', 'watch'],
          shortNames: r.shortNames,
        })),
      });
      return;
    }
    const { rt, namespace, name } = parsed;
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const verb = name ? 'get' : watch ? 'watch' : 'list';
    if ((this.options.deny ?? []).includes(`${user} ${verb} ${rt.resource}`)) {
      const group = rt.group;
      const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
      this.status(
        res,
        403,
        'Forbidden',
        `${rt.resource}${name ? ` "${name}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "${rt.resource}" in API group "${group}" ${scope}`,
        { kind: rt.resource, group, name },
      );
      return;
    }
    const table = /as=Table/.test(String(req.headers['accept'] ?? ''));
    if (name) {
      const o = this.objects.get(this.typeKey(rt))?.get(objectKey(rt, { name, namespace }));
      if (!o) {
        this.status(
          res,
          404,
          'NotFound',
          `${rt.resource}${rt.group ? `.${rt.group}` : ''} "${name}" not found`,
          {
            kind: rt.resource,
            group: rt.group,
            name,
          },
        );
        return;
      }
      this.json(res, 200, table ? toTable(rt, [o], includeObject(url), {}) : o);
      return;
    }
    let match: (o: Json) => boolean;
    try {
      match = selectorMatcher(
        url.searchParams.get('fieldSelector') ?? '',
        url.searchParams.get('labelSelector') ?? '',
      );
    } catch (e) {
      this.status(res, 400, 'BadRequest', (e as Error).message);
      return;
    }
    if (watch) this.startWatch(req, res, rt, namespace, match, url, table);
    else this.list(res, rt, namespace, match, url, table);
  }

  private authenticate(req: IncomingMessage): string | null {
    const auth = String(req.headers['authorization'] ?? '');
    const m = /^Bearer (.+)$/.exec(auth);
    if (m?.[1]) return this.options.tokens?.[m[1]] ?? null;
    const sock = req.socket as TLSSocket;
    if (sock.authorized) {
      const cn = sock.getPeerCertificate()?.subject?.CN;
      if (typeof cn === 'string') return cn;
    }
    return null;
  }

  private groups(): Json[] {
    const byGroup = new Map<string, Set<string>>();
    for (const r of this.resources) {
      if (!r.group) continue;
      const set = byGroup.get(r.group) ?? new Set<string>();
      set.add(r.version);
      byGroup.set(r.group, set);
    }
    return [...byGroup].map(([name, versions]) => {
      const list = [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
      return { name, versions: list, preferredVersion: list[0] };
    });
  }

  private parsePath(
    path: string,
  ):
    | { groupVersion: string; types: ResourceType[] }
    | { rt: ResourceType; namespace: string | null; name: string | null }
    | null {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1]) {
      group = '';
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts[1] && parts[2]) {
      group = parts[1];
      version = parts[2];
      rest = parts.slice(3);
    } else return null;
    const types = this.resources.filter((r) => r.group === group && r.version === version);
    if (types.length === 0) return null;
    if (rest.length === 0) return { groupVersion: group ? `${group}/${version}` : version, types };
    let namespace: string | null = null;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1] ?? null;
      rest = rest.slice(2);
    }
    const rt = types.find((r) => r.resource === rest[0]);
    if (!rt || rest.length > 2 || (namespace !== null && !rt.namespaced)) return null;
    return { rt, namespace, name: rest[1] ?? null };
  }

  /**
   * An object as a list item (no kind/apiVersion), serialized once per version: like the
   * apiserver's watch cache, the stand-in does not re-encode unchanged objects per request.
   */
  private itemJson(o: Json): string {
    let text = this.encoded.get(o);
    if (text === undefined) {
      const { kind: _k, apiVersion: _a, ...rest } = o;
      text = JSON.stringify(rest);
      this.encoded.set(o, text);
    }
    return text;
  }

  private keysOf(rt: ResourceType): string[] {
    let keys = this.sortedKeys.get(this.typeKey(rt));
    if (!keys) {
      keys = [...(this.objects.get(this.typeKey(rt))?.keys() ?? [])].sort();
      this.sortedKeys.set(this.typeKey(rt), keys);
    }
    return keys;
  }

  private list(
    res: ServerResponse,
    rt: ResourceType,
    namespace: string | null,
    match: (o: Json) => boolean,
    url: URL,
    table: boolean,
  ): void {
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const cont = url.searchParams.get('continue');
    let after = '';
    if (cont) {
      let token: { rv?: number; after?: string };
      try {
        token = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as typeof token;
      } catch {
        this.status(res, 400, 'BadRequest', 'continue key is not valid');
        return;
      }
      if ((token.rv ?? 0) + 1 < this.oldestRv) {
        // The recorded apiserver message (wire/kubeclient-testdata_pods_410_expired-continue_status.json).
        this.status(
          res,
          410,
          'Expired',
          'The provided from parameter is too old to display a consistent list result. You must start a new list without the from.',
        );
        return;
      }
      after = token.after ?? '';
    }
    const store = this.objects.get(this.typeKey(rt)) ?? new Map<string, Json>();
    // spec.nodeName=<node> on pods uses the index, as the apiserver's watch cache does.
    const nodeSel = /(?:^|,)spec\.nodeName==?([^,]*)(?:,|$)/.exec(
      url.searchParams.get('fieldSelector') ?? '',
    );
    const keys =
      rt.resource === 'pods' && nodeSel
        ? [...(this.podsByNode.get(nodeSel[1] ?? '') ?? [])].sort()
        : this.keysOf(rt);
    let start = 0;
    if (after) {
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((keys[mid] ?? '') <= after) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const items: Json[] = [];
    let i = start;
    let next = '';
    for (; i < keys.length; i++) {
      const key = keys[i] ?? '';
      const o = store.get(key);
      if (!o) continue;
      if (namespace !== null && (o['metadata'] as Json)['namespace'] !== namespace) continue;
      if (!match(o)) continue;
      if (limit > 0 && items.length === limit) {
        next = Buffer.from(JSON.stringify({ rv: this.rv, after: keys[i - 1] })).toString(
          'base64url',
        );
        break;
      }
      items.push(o);
    }
    // A page that ended exactly at the limit still says whether more follow.
    const metadata: Json = { resourceVersion: String(this.rv) };
    if (next) metadata['continue'] = next;
    if (table) {
      const t = toTable(rt, items, includeObject(url), metadata);
      this.json(res, 200, t);
      return;
    }
    const apiVersion = rt.group ? `${rt.group}/${rt.version}` : rt.version;
    // Items in a list carry no kind/apiVersion on the wire (the list does).
    const body = `{"kind":"${rt.kind}List","apiVersion":"${apiVersion}","metadata":${JSON.stringify(metadata)},"items":[${items
      .map((o) => this.itemJson(o))
      .join(',')}]}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
  }

  private startWatch(
    req: IncomingMessage,
    res: ServerResponse,
    rt: ResourceType,
    namespace: string | null,
    match: (o: Json) => boolean,
    url: URL,
    table: boolean,
  ): void {
    const rvParam = url.searchParams.get('resourceVersion') ?? '';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // The apiserver sends the headers at once; a client waits for them before reading events.
    res.flushHeaders();
    const w: Watcher = {
      rt,
      namespace,
      match,
      table,
      res,
      bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true',
    };
    if (rvParam === '' || rvParam === '0') {
      // "Any" resourceVersion: the current state as ADDED events, then changes.
      for (const key of this.keysOf(rt)) {
        const o = this.objects.get(this.typeKey(rt))?.get(key);
        if (
          o &&
          (namespace === null || (o['metadata'] as Json)['namespace'] === namespace) &&
          match(o)
        ) {
          this.writeEvent(w, 'ADDED', o);
        }
      }
    } else {
      const from = Number(rvParam);
      if (!Number.isFinite(from) || from + 1 < this.oldestRv) {
        // Recorded shape: wire/ensemble-k8s-test_watch-ERROR-410-too-old-resource-version.json
        this.writeEvent(
          w,
          'ERROR',
          expiredStatus(`too old resource version: ${rvParam} (${this.oldestRv})`),
        );
        res.end();
        return;
      }
      for (const e of this.history) if (e.rv > from) this.deliver(w, e);
    }
    this.watchers.add(w);
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    let timer: NodeJS.Timeout | undefined;
    if (timeout > 0) {
      timer = setTimeout(() => {
        this.watchers.delete(w);
        res.end();
      }, timeout * 1000);
    }
    req.on('close', () => {
      clearTimeout(timer);
      this.watchers.delete(w);
    });
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private status(
    res: ServerResponse,
    code: number,
    reason: string,
    message: string,
    details?: Json,
  ): void {
    this.json(res, code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    });
  }
}

function expiredStatus(message: string): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Expired',
    code: 410,
  };
}

function objectKey(rt: ResourceType, meta: Json): string {
  const name = String(meta['name'] ?? '');
  return rt.namespaced ? `${String(meta['namespace'] ?? 'default')}/${name}` : name;
}

function includeObject(url: URL): string {
  return url.searchParams.get('includeObject') ?? 'Metadata';
}

function fieldValue(o: Json, path: string): string {
  let v: unknown = o;
  for (const p of path.split('.')) v = v && typeof v === 'object' ? (v as Json)[p] : undefined;
  if (v === undefined || v === null) return '';
  return String(v);
}

/** Field selectors (=, ==, !=, comma = and) and label selectors (=, ==, !=, exists, !, in, notin). */
export function selectorMatcher(
  fieldSelector: string,
  labelSelector: string,
): (o: Json) => boolean {
  const tests: ((o: Json) => boolean)[] = [];
  for (const term of fieldSelector
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    const m = /^([\w.]+)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!m) throw new Error(`invalid field selector: '${term}'`);
    const [, field = '', op, value = ''] = m;
    if (
      ![
        'metadata.name',
        'metadata.namespace',
        'spec.nodeName',
        'status.phase',
        'spec.unschedulable',
      ].includes(field)
    ) {
      throw new Error(`field label not supported: ${field}`);
    }
    tests.push((o) => (fieldValue(o, field) === value) === (op !== '!='));
  }
  // Split on commas outside parentheses.
  const terms = labelSelector.match(/[^,(]+(\([^)]*\))?[^,]*/g) ?? [];
  for (const raw of terms.map((t) => t.trim()).filter(Boolean)) {
    const labels = (o: Json) =>
      ((o['metadata'] as Json)?.['labels'] ?? {}) as Record<string, string>;
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s*(!=|==|=)\s*([\w./-]*)$/.exec(raw))) {
      const [, k = '', op, v] = m;
      tests.push((o) => (labels(o)[k] === v) === (op !== '!='));
    } else if ((m = /^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(raw))) {
      const [, k = '', op, list = ''] = m;
      const values = list.split(',').map((s) => s.trim());
      tests.push((o) => {
        const v = labels(o)[k];
        return op === 'in'
          ? v !== undefined && values.includes(v)
          : v === undefined || !values.includes(v);
      });
    } else if ((m = /^!([\w./-]+)$/.exec(raw))) {
      const k = m[1] ?? '';
      tests.push((o) => !(k in labels(o)));
    } else if ((m = /^([\w./-]+)$/.exec(raw))) {
      const k = m[1] ?? '';
      tests.push((o) => k in labels(o));
    } else throw new Error(`unable to parse requirement: '${raw}'`);
  }
  return (o) => tests.every((t) => t(o));
}

function age(ts: unknown): string {
  const t = Date.parse(String(ts ?? ''));
  if (!Number.isFinite(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const col = (name: string, type: string, priority = 0, description = '') => ({
  name,
  type,
  format: name === 'Name' ? 'name' : '',
  description,
  priority,
});

/** Server-side printing (meta.k8s.io/v1 Table), the columns kube-apiserver prints for these kinds. */
function toTable(rt: ResourceType, items: Json[], include: string, metadata: Json): Json {
  let columns: Json[];
  let cells: (o: Json) => unknown[];
  if (rt.resource === 'nodes') {
    columns = [
      col('Name', 'string'),
      col('Status', 'string'),
      col('Roles', 'string'),
      col('Age', 'string'),
      col('Version', 'string'),
      col('Internal-IP', 'string', 1),
      col('External-IP', 'string', 1),
      col('OS-Image', 'string', 1),
      col('Kernel-Version', 'string', 1),
      col('Container-Runtime', 'string', 1),
    ];
    cells = (o) => {
      const m = o['metadata'] as Json;
      const st = (o['status'] ?? {}) as Json;
      const info = (st['nodeInfo'] ?? {}) as Json;
      const conds = (st['conditions'] ?? []) as Json[];
      const ready = conds.find((c) => c['type'] === 'Ready');
      const roles = Object.keys((m['labels'] ?? {}) as Json)
        .map((k) => /^node-role\.kubernetes\.io\/(.+)$/.exec(k)?.[1])
        .filter(Boolean);
      const addr = (t: string) =>
        ((st['addresses'] ?? []) as Json[]).find((a) => a['type'] === t)?.['address'] ?? '<none>';
      return [
        m['name'],
        ready?.['status'] === 'True' ? 'Ready' : 'NotReady',
        roles.length ? roles.join(',') : '<none>',
        age(m['creationTimestamp']),
        info['kubeletVersion'] ?? '',
        addr('InternalIP'),
        addr('ExternalIP'),
        info['osImage'] ?? '',
        info['kernelVersion'] ?? '',
        info['containerRuntimeVersion'] ?? '',
      ];
    };
  } else if (rt.resource === 'pods') {
    columns = [
      col('Name', 'string'),
      col('Ready', 'string'),
      col('Status', 'string'),
      col('Restarts', 'string'),
      col('Age', 'string'),
      col('IP', 'string', 1),
      col('Node', 'string', 1),
      col('Nominated Node', 'string', 1),
      col('Readiness Gates', 'string', 1),
    ];
    cells = (o) => {
      const m = o['metadata'] as Json;
      const st = (o['status'] ?? {}) as Json;
      const spec = (o['spec'] ?? {}) as Json;
      const cs = (st['containerStatuses'] ?? []) as Json[];
      const total = ((spec['containers'] ?? []) as unknown[]).length || cs.length;
      const ready = cs.filter((c) => c['ready'] === true).length;
      const restarts = cs.reduce((n, c) => n + Number(c['restartCount'] ?? 0), 0);
      return [
        m['name'],
        `${ready}/${total}`,
        st['reason'] ?? st['phase'] ?? '',
        String(restarts),
        age(m['creationTimestamp']),
        st['podIP'] ?? '<none>',
        spec['nodeName'] ?? '<none>',
        st['nominatedNodeName'] ?? '<none>',
        '<none>',
      ];
    };
  } else {
    columns = [col('Name', 'string'), col('Age', 'string')];
    cells = (o) => [
      (o['metadata'] as Json)['name'],
      age((o['metadata'] as Json)['creationTimestamp']),
    ];
  }
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: columns,
    rows: items.map((o) => ({
      cells: cells(o),
      object:
        include === 'None'
          ? undefined
          : include === 'Object'
            ? o
            : {
                kind: 'PartialObjectMetadata',
                apiVersion: 'meta.k8s.io/v1',
                metadata: o['metadata'],
              },
    })),
  };
}

/** A kubeconfig for the stand-in: `token` or client-certificate auth, CA from the stand-in. */
export function standInKubeconfig(
  standIn: { url: string },
  certs: Certificates,
  options: {
    context?: string;
    token?: string;
    clientCert?: boolean;
    caFile?: string;
    exec?: { command: string; args?: string[] };
  } = {},
): string {
  const context = options.context ?? 'standin';
  const user: string[] = [];
  if (options.token) user.push(`    token: ${options.token}`);
  if (options.clientCert)
    user.push(
      `    client-certificate: ${certs.clientCertFile}`,
      `    client-key: ${certs.clientKeyFile}`,
    );
  if (options.exec) {
    user.push(
      '    exec:',
      '      apiVersion: client.authentication.k8s.io/v1',
      `      command: ${options.exec.command}`,
      `      args: [${(options.exec.args ?? []).map((a) => JSON.stringify(a)).join(', ')}]`,
      '      interactiveMode: Never',
    );
  }
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${context}`,
    'clusters:',
    `- name: ${context}`,
    '  cluster:',
    `    server: ${standIn.url}`,
    `    certificate-authority: ${options.caFile ?? certs.caFile}`,
    'users:',
    `- name: ${context}-user`,
    '  user:',
    ...(user.length ? user : ['    {}']),
    'contexts:',
    `- name: ${context}`,
    '  context:',
    `    cluster: ${context}`,
    `    user: ${context}-user`,
    '',
  ].join('\n');
}
