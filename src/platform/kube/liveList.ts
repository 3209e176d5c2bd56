/**
 * List-then-watch for one resource (an informer), with what client-node 1.4's informer lacks:
 * it keeps going after any error. The list is paged; the watch asks for bookmarks and a
 * server-side timeout (300–600 s, as client-go); a stream that ends normally is resumed at
 * once from the last resourceVersion; a failure is retried with jittered exponential backoff
 * (the state says "reconnecting since …"); a 410 Gone (expired resourceVersion) relists; a
 * watchdog restarts a watch that stays silent longer than `watchdogMs` (bookmarks count as
 * life), since a half-open TCP connection would otherwise look like a quiet cluster forever.
 * An `optional` resource (a CRD, an API group newer than the cluster) that answers 404 is
 * `absent`: an empty list, not an error, checked again only every `absentRecheckMs`.
 */
import { KubeError, type ClusterClient, type RequestPurpose } from './kubeClient';

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'reconnecting'; since: number; why: string }
  | { kind: 'failed'; why: string; error: KubeError }
  /** An optional resource the server does not have (CRD not installed): empty, not an error. */
  | { kind: 'absent' };

export interface LiveListOptions<T> {
  client: ClusterClient;
  path: string;
  purpose: RequestPurpose;
  fieldSelector?: string;
  /** What to keep of each object (slim it). */
  keep: (raw: unknown) => T;
  /** Called (synchronously) after every change to `items`. */
  onChange?: () => void;
  onState?: (state: ConnectionState) => void;
  /** First retry delay; doubles up to `maxBackoffMs`; each delay is jittered to 50–100 %. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Restart a watch that received nothing (not even a bookmark) for this long. */
  watchdogMs?: number;
  /** Log sink for restarts and relists. */
  log?: (line: string) => void;
  /** A 404 means the resource is not served (a CRD not installed): state `absent`, no error. */
  optional?: boolean;
  /** How often an absent resource is listed again (default 60 s: a CRD installed later). */
  absentRecheckMs?: number;
}

type Meta = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

/** Errors no retry can fix soon: say them as failed, but keep retrying slowly. */
const FAILED_KINDS = new Set(['unauthorized', 'forbidden', 'config', 'exec-plugin', 'tls']);

export class LiveList<T> {
  readonly items = new Map<string, T>();
  private rv = '';
  private stopped = false;
  private watch: { stop(): void } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private attempt = 0;
  private current: ConnectionState = { kind: 'connecting' };
  private syncedResolve: (() => void) | undefined;
  private generation = 0;
  /** Resolves after the first list succeeded or failed (the state says which). */
  readonly firstSync: Promise<void>;
  private firstRowsResolve: (() => void) | undefined;
  /**
   * Resolves with the first page of the first list (or when it fails): the first list fills
   * `items` page by page, so a 5,000-node list paints its first 500 rows at once.
   */
  readonly firstRows: Promise<void>;
  /** Relists done (410 Gone or reconnects), for tests and the log. */
  relists = 0;

  constructor(private readonly o: LiveListOptions<T>) {
    this.firstSync = new Promise((resolve) => (this.syncedResolve = resolve));
    this.firstRows = new Promise((resolve) => (this.firstRowsResolve = resolve));
  }

  get state(): ConnectionState {
    return this.current;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
    this.watch?.stop();
    this.watch = undefined;
  }

  private setState(s: ConnectionState): void {
    this.current = s;
    this.o.onState?.(s);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    try {
      // Slimmed page by page: a 5,000-node list never sits in memory whole. Only the very
      // first list shows its pages as they come; a relist swaps the whole map at the end.
      const progressive = this.relists === 0 && this.items.size === 0;
      const result = await this.o.client.list(
        this.o.path,
        this.o.purpose,
        (raw) => [keyOf(raw), this.o.keep(raw)] as const,
        {
          fieldSelector: this.o.fieldSelector,
          onPage: progressive
            ? (page) => {
                if (gen !== this.generation) return;
                for (const [key, item] of page as (readonly [string, T])[])
                  this.items.set(key, item);
                this.firstRowsResolve?.();
                this.o.onChange?.();
              }
            : undefined,
        },
      );
      if (gen !== this.generation) return;
      this.items.clear();
      for (const [key, item] of result.items) this.items.set(key, item);
      this.rv = result.resourceVersion;
      this.relists++;
      // A list that answered means the server is reachable and lets us read.
      if (this.current.kind !== 'connected') this.setState({ kind: 'connected' });
      this.o.onChange?.();
      this.firstRowsResolve?.();
      this.syncedResolve?.();
      await this.startWatch(gen);
    } catch (e) {
      if (gen !== this.generation) return;
      this.failed(e, () => void this.relist());
      this.firstRowsResolve?.();
      this.syncedResolve?.();
    }
  }

  private async startWatch(gen: number): Promise<void> {
    if (this.stopped || gen !== this.generation) return;
    let ended = false;
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    // Armed before the request: a watch whose headers never come is as silent as any.
    this.feedWatchdog(gen);
    const handle = await this.o.client.watch(
      this.o.path,
      { resourceVersion: this.rv, fieldSelector: this.o.fieldSelector, timeoutSeconds },
      (type, obj) => {
        if (gen !== this.generation) return;
        this.feedWatchdog(gen);
        this.onEvent(type, obj);
      },
      (err) => {
        ended = true;
        if (gen !== this.generation) return;
        clearTimeout(this.watchdog);
        if (err) this.failed(err, () => void this.resumeWatch());
        // The server closed the stream (its timeout, or it went away): resume at once; if
        // it went away, that attempt fails and the backoff starts.
        else void this.resumeWatch();
      },
    );
    if (gen !== this.generation) {
      handle.stop();
      return;
    }
    this.watch = handle;
    if (!ended) {
      this.attempt = 0;
      if (this.current.kind !== 'connected') this.setState({ kind: 'connected' });
      this.feedWatchdog(gen);
    }
  }

  private async resumeWatch(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    await this.startWatch(gen);
  }

  private onEvent(type: string, obj: unknown): void {
    const meta = (obj as Meta | null)?.metadata;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.items.set(keyOf(obj), this.o.keep(obj));
        break;
      case 'DELETED':
        this.items.delete(keyOf(obj));
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const code = (obj as { code?: number } | null)?.code;
        this.watch?.stop();
        if (code === 410) {
          this.o.log?.(`${this.o.path}: resourceVersion ${this.rv} expired (410 Gone), relisting`);
          void this.relist();
        } else {
          const why = String((obj as { message?: string } | null)?.message ?? 'watch error');
          this.failed(new KubeError('server', why, code), () => void this.relist());
        }
        return;
      }
      default:
        return;
    }
    if (meta?.resourceVersion) this.rv = meta.resourceVersion;
    if (type !== 'BOOKMARK') this.o.onChange?.();
  }

  private feedWatchdog(gen: number): void {
    clearTimeout(this.watchdog);
    const ms = this.o.watchdogMs ?? 120_000;
    this.watchdog = setTimeout(() => {
      if (gen !== this.generation || this.stopped) return;
      this.o.log?.(`${this.o.path}: watch silent for ${ms} ms, restarting it`);
      this.watch?.stop();
      void this.resumeWatch();
    }, ms);
    this.watchdog.unref?.();
  }

  private failed(e: unknown, retry: () => void): void {
    if (this.stopped) return;
    const err = e instanceof KubeError ? e : new KubeError('server', String(e));
    this.watch?.stop();
    this.generation++;
    if (this.o.optional && err.kind === 'not-found') {
      this.absent();
      return;
    }
    if (FAILED_KINDS.has(err.kind)) this.setState({ kind: 'failed', why: err.message, error: err });
    else if (this.current.kind !== 'reconnecting') {
      this.setState({ kind: 'reconnecting', since: Date.now(), why: err.message });
    }
    const base = Math.min(
      (this.o.backoffMs ?? 500) * 2 ** this.attempt,
      this.o.maxBackoffMs ?? 30_000,
    );
    this.attempt++;
    const delay = base * (0.5 + Math.random() * 0.5);
    this.o.log?.(`${this.o.path}: ${err.message} — retrying in ${Math.round(delay)} ms`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(retry, delay);
  }

  /** Not served: empty, said once, listed again slowly (never a retry storm). */
  private absent(): void {
    const had = this.items.size > 0;
    this.items.clear();
    this.attempt = 0;
    if (this.current.kind !== 'absent') {
      this.o.log?.(`${this.o.path}: not served (404), treated as absent`);
      this.setState({ kind: 'absent' });
    }
    if (had) this.o.onChange?.();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.relist(), this.o.absentRecheckMs ?? 60_000);
    this.retryTimer.unref?.();
  }
}

/** namespace/name, or name for cluster-scoped objects. */
export function keyOf(raw: unknown): string {
  const m = (raw as Meta | null)?.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
}
