/**
 * Host side of the Podpath panel: one webview panel (`podpath.panel`) beside the active
 * editor. Messages for the webview wait in a queue until it posts `ready`; everything it
 * sends is checked with parseFromWebview. Packets stay on disk: the webview asks for a page
 * of a hop (`queryPackets` → `packetPage`: filtered, sorted, decoded from the capture file),
 * one packet's layers (`selectPacket` → `packetLayers`) and a packet followed across hops
 * (`followPacket` → `followedPacket`), each matched by requestId. After a reload VS Code
 * hands the saved PanelView back to the serializer; the tables are gone then, and a
 * request says so.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { describeLayers } from '../../core/packets/packetSummary';
import { followPacket, type HopTable } from '../../platform/capture/packetTable';
import { startTool } from '../../platform/exec/runner';
import { toolOnPath } from '../../platform/exec/toolOnPath';
import type { FromWebview, PanelView, ToWebview } from '../../protocol';
import { assertNever, parseFromWebview } from '../../protocol';
import { makeNonce, panelHtml } from './panelHtml';
import type { PanelContent } from './panelViews';
import { captureFileAction, restoredView } from './panelViews';

export const PANEL_VIEW_TYPE = 'podpath.panel';

export interface RenderedReport {
  diagram: 'ok' | 'none' | 'failed';
  error: string | null;
  participants: string[];
}

export class PanelHost implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private queue: ToWebview[] = [];
  private tables: HopTable[] = [];
  private files: string[] = [];
  private shown: PanelView | undefined;
  private rendered: RenderedReport | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly renderedListeners = new Set<(r: RenderedReport) => void>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly showLog: () => void,
    private readonly log: (line: string) => void,
  ) {}

  /** Registers the serializer that brings the panel back after a reload. */
  registerSerializer(): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        this.adopt(panel);
        const view = restoredView(state);
        if (view) this.post({ type: 'show', view });
        this.shown = view;
      },
    });
  }

  /** Shows `content` in the panel, opening it beside the active editor if needed. */
  show(content: PanelContent): void {
    this.tables = content.tables;
    this.files = content.files ?? [];
    this.shown = content.view;
    this.rendered = undefined;
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(
        PANEL_VIEW_TYPE,
        'Podpath',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        this.webviewOptions(),
      );
      this.adopt(panel);
    } else {
      this.panel.reveal(undefined, true);
    }
    if (this.panel) this.panel.title = `Podpath: ${content.view.title}`;
    this.post({ type: 'show', view: content.view });
  }

  /** The view last sent to the panel (test API). */
  lastShown(): PanelView | undefined {
    return this.shown;
  }

  /** What the webview last reported after drawing (test API). */
  lastRendered(): RenderedReport | undefined {
    return this.rendered;
  }

  /**
   * The webview's `rendered` report for the view last shown: at once when it has come,
   * else the next one; undefined after `timeoutMs` (test API).
   */
  waitRendered(timeoutMs: number): Promise<RenderedReport | undefined> {
    if (this.rendered) return Promise.resolve(this.rendered);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.renderedListeners.delete(listener);
        resolve(undefined);
      }, timeoutMs);
      const listener = (r: RenderedReport): void => {
        clearTimeout(timer);
        this.renderedListeners.delete(listener);
        resolve(r);
      };
      this.renderedListeners.add(listener);
    });
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [
        vscode.Uri.joinPath(this.extensionUri, 'dist'),
        vscode.Uri.joinPath(this.extensionUri, 'media'),
      ],
    };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = this.webviewOptions();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'podpath.svg');
    panel.webview.html = this.html(panel.webview);
    const subscriptions: vscode.Disposable[] = [];
    subscriptions.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.handleMessage(raw)),
      // Without retainContextWhenHidden a hidden webview is torn down and loads again when
      // shown (restoring itself from its saved state): hold messages until it is ready again.
      panel.onDidChangeViewState(() => {
        if (!panel.visible && this.panel === panel) this.ready = false;
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) {
          this.panel = undefined;
          this.ready = false;
          this.queue = [];
        }
        for (const s of subscriptions) s.dispose();
      }),
    );
  }

  private html(webview: vscode.Webview): string {
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const css = vscode.Uri.joinPath(dist, 'webview.css');
    return panelHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      ...(existsSync(css.fsPath) ? { styleUri: webview.asWebviewUri(css).toString() } : {}),
      nonce: makeNonce(randomBytes(32)),
    });
  }

  private post(message: ToWebview): void {
    if (!this.panel) return;
    if (!this.ready) {
      // Only the latest view matters; older ones would flash by.
      if (message.type === 'show') this.queue = this.queue.filter((m) => m.type !== 'show');
      this.queue.push(message);
      return;
    }
    void this.panel.webview.postMessage(message);
  }

  /**
   * Handles one message from the webview, checked first; returns the reply it posted, if any.
   * Public so the in-host tests can play the webview's part for `selectPacket`.
   */
  async handleMessage(raw: unknown): Promise<ToWebview | undefined> {
    const message = parseFromWebview(raw);
    if (!message) {
      this.log('panel: ignored a message the host does not understand');
      return undefined;
    }
    try {
      return await this.receive(message);
    } catch (err) {
      this.log(
        `panel: ${message.type} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      return undefined;
    }
  }

  private gone(): string {
    return 'The packets are no longer at hand (VS Code was reloaded): run the analysis again to see them.';
  }

  /** Reveal a hop's pcap in the OS file manager, or open it in Wireshark (detached). */
  private async captureFile(hop: number, action: 'reveal' | 'wireshark'): Promise<void> {
    const wireshark = action === 'wireshark' ? await toolOnPath('wireshark') : undefined;
    const decided = captureFileAction(this.files, hop, action, wireshark);
    switch (decided.kind) {
      case 'refused':
        void vscode.window.showWarningMessage(`Podpath: ${decided.message}`);
        return;
      case 'reveal': {
        const uri = vscode.Uri.file(decided.path);
        this.log(`panel: reveal ${decided.path}`);
        // In a remote or browser workbench there is no OS file manager to show it in.
        await Promise.resolve(vscode.commands.executeCommand('revealFileInOS', uri)).catch(() =>
          vscode.commands.executeCommand('revealInExplorer', uri),
        );
        return;
      }
      case 'wireshark': {
        this.log(`panel: ${decided.argv.join(' ')}`);
        const child = startTool(decided.argv, { outliveParent: true });
        child.done.catch((err: unknown) => {
          this.log(`panel: wireshark: ${err instanceof Error ? err.message : String(err)}`);
          void vscode.window.showErrorMessage(
            `Podpath: Wireshark could not open ${decided.argv[2] ?? 'the capture'} (see the log).`,
          );
        });
        return;
      }
      default:
        assertNever(decided);
    }
  }

  private async receive(message: FromWebview): Promise<ToWebview | undefined> {
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        const queued = this.queue;
        this.queue = [];
        for (const m of queued) this.post(m);
        return undefined;
      }
      case 'queryPackets': {
        const table = this.tables[message.hop];
        const reply: ToWebview = table
          ? {
              type: 'packetPage',
              requestId: message.requestId,
              hop: message.hop,
              page: await table.query(message.query),
              error: null,
            }
          : {
              type: 'packetPage',
              requestId: message.requestId,
              hop: message.hop,
              page: null,
              error: this.tables.length === 0 ? this.gone() : `There is no hop ${message.hop + 1}.`,
            };
        this.post(reply);
        return reply;
      }
      case 'followPacket': {
        const names = this.shown?.hops.map((h) => h.name) ?? [];
        const reply: ToWebview = {
          type: 'followedPacket',
          requestId: message.requestId,
          hop: message.hop,
          index: message.index,
          hops:
            this.tables.length === 0
              ? []
              : await followPacket(this.tables, names, message.hop, message.index),
        };
        this.post(reply);
        return reply;
      }
      case 'selectPacket': {
        const packet = await this.tables[message.hop]?.packet(message.index);
        const reply: ToWebview = packet
          ? {
              type: 'packetLayers',
              requestId: message.requestId,
              layers: describeLayers(packet),
              error: null,
            }
          : {
              type: 'packetLayers',
              requestId: message.requestId,
              layers: null,
              error:
                this.tables.length === 0
                  ? this.gone()
                  : `There is no packet ${message.index + 1} at hop ${message.hop + 1}.`,
            };
        this.post(reply);
        return reply;
      }
      case 'rendered': {
        const report: RenderedReport = {
          diagram: message.diagram,
          error: message.error,
          participants: message.participants,
        };
        this.rendered = report;
        if (message.diagram === 'failed')
          this.log(`panel: diagram failed to render: ${message.error ?? ''}`);
        for (const l of [...this.renderedListeners]) l(report);
        return undefined;
      }
      case 'showLog':
        this.showLog();
        return undefined;
      case 'captureFile':
        await this.captureFile(message.hop, message.action);
        return undefined;
      default:
        assertNever(message);
    }
  }
}
