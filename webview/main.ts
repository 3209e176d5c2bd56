/**
 * Entry point of the Podpath panel (bundled to dist/webview.js). Says `ready`
 * to the host first, then draws whatever `show` brings: title, findings, the
 * Mermaid diagram, the hop list and the selected hop's packet table. Pages the
 * view did not bring (another page, a filter, an order), packet layers and the
 * selected packet followed through every hop are asked of the host and matched
 * to the reply by `requestId`.
 * The view and the selection are kept with `setState`, so the panel looks the
 * same after being hidden or after a window reload, before the host says anything.
 */
import type { HopView, PanelView, TablePage, ToWebview } from '../src/protocol';
import { assertNever } from '../src/protocol';
import { createDiagramView } from './diagram';
import { el } from './element';
import { createHopFile } from './hopFile';
import { createHopList } from './hopList';
import { createLayerDetails } from './layerDetails';
import { createPacketTable, DEFAULT_SETTINGS, localPage, PAGE_SIZE } from './packetTable';
import { injectStyles } from './styles';
import { createSummaryView } from './summary';
import { createProgressRing, registerUiComponents } from './ui/toolkit';
import type { PanelState } from './vscodeApi';
import { connectToHost, emptyState } from './vscodeApi';

const KNOWN_TYPES: readonly string[] = [
  'show',
  'packetLayers',
  'packetPage',
  'followedPacket',
] satisfies ToWebview['type'][];

function isToWebview(x: unknown): x is ToWebview {
  return (
    typeof x === 'object' &&
    x !== null &&
    KNOWN_TYPES.includes((x as { type?: unknown }).type as string)
  );
}

function sameHops(a: PanelView | null, b: PanelView): boolean {
  return (
    a !== null &&
    a.title === b.title &&
    a.hops.length === b.hops.length &&
    a.hops.every((h, i) => h.name === b.hops[i]?.name && h.packetCount === b.hops[i]?.packetCount)
  );
}

function packetTitle(hop: HopView | undefined, index: number): string {
  return `Packet ${(index + 1).toLocaleString('en-US')}${hop ? ` at ${hop.name}` : ''}`;
}

function start(): void {
  const host = connectToHost();
  injectStyles();
  registerUiComponents();
  host.post({ type: 'ready' });

  let state: PanelState = host.loadState();
  let nextRequestId = 1;
  let pendingRequest: number | null = null;
  let pendingPage: { requestId: number; key: string } | null = null;
  let pendingFollow: number | null = null;
  /** The last page the host sent, for the hop, settings and page it answers. */
  let hostPage: { key: string; page: TablePage } | null = null;

  // setState serialises the whole view (up to thousands of rows per hop): do it after
  // the click has been drawn, once per burst, and at once when the panel is hidden.
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    host.saveState(state);
  };
  const save = (): void => {
    saveTimer ??= setTimeout(flush, 50);
  };
  document.addEventListener('visibilitychange', () => {
    if (document.hidden && saveTimer !== undefined) flush();
  });

  const title = el('h1');
  const subtitle = el('p', { className: 'pp-subtitle' });
  const summary = createSummaryView(() => host.post({ type: 'showLog' }));
  const diagramBox = el('div', { className: 'pp-diagram', attrs: { 'aria-label': 'Diagram' } });
  const diagram = createDiagramView(diagramBox, (message) => host.post(message));
  const hopList = createHopList((hop) => selectHop(hop));
  const hopFile = createHopFile((hop, action) => host.post({ type: 'captureFile', hop, action }));
  const table = createPacketTable({
    onPage: (page) => {
      state = { ...state, page };
      save();
      showHop();
    },
    onSettings: (settings) => {
      state = { ...state, settings, page: 0 };
      save();
      showHop();
    },
    onSelect: (index) => selectPacket(index),
  });
  const details = createLayerDetails();
  const noPackets = el('p', { className: 'pp-empty', text: 'No packets' });
  const packets = el('section', { attrs: { 'aria-label': 'Packets' } }, [
    el('h2', { text: 'Packets' }),
    noPackets,
    hopList.element,
    hopFile.element,
    table.element,
    details.element,
  ]);
  const content = el('main', {}, [
    title,
    subtitle,
    summary.element,
    el('h2', { text: 'Diagram' }),
    diagram.toolbar,
    diagramBox,
    packets,
  ]);
  const waiting = el('div', { className: 'pp-waiting' }, [
    createProgressRing('Waiting for Podpath'),
    el('span', { className: 'pp-muted', text: 'Waiting for Podpath…' }),
  ]);
  // The host's shell has an #app element; a bare page (tests) has only a body.
  const root = document.getElementById('app') ?? document.body;
  root.appendChild(waiting);
  root.appendChild(content);
  content.hidden = true;

  function currentHop(): HopView | undefined {
    return state.view?.hops[state.hop];
  }

  function showDetails(): void {
    const selected = state.selected;
    if (!selected || selected.hop !== state.hop) {
      details.showNothing();
      return;
    }
    const name = packetTitle(state.view?.hops[selected.hop], selected.index);
    if (pendingRequest !== null) details.showLoading(name);
    else details.show(name, state.layers, state.layersError);
  }

  /** The packet to mark in this hop: the selected one, or the selection followed here. */
  function markedIndex(): number | null {
    if (state.selected?.hop === state.hop) return state.selected.index;
    return state.followed?.hops[state.hop]?.index ?? null;
  }

  function showHop(): void {
    const view = state.view;
    if (!view) return;
    hopList.show(view.hops, state.hop, view.missingHop);
    const hop = currentHop();
    hopFile.show(hop, state.hop);
    const settings = state.settings ?? DEFAULT_SETTINGS;
    let page = hop ? localPage(hop, state.page, settings) : null;
    const key = JSON.stringify([view.title, state.hop, settings, state.page]);
    if (!page && hostPage?.key === key) page = hostPage.page;
    if (!page && hop && hop.packetCount > 0 && pendingPage?.key !== key) {
      const requestId = nextRequestId++;
      pendingPage = { requestId, key };
      host.post({
        type: 'queryPackets',
        requestId,
        hop: state.hop,
        query: { ...settings, offset: state.page * PAGE_SIZE, count: PAGE_SIZE },
      });
    }
    table.show(hop, settings, page);
    table.setSelected(markedIndex());
    table.showFollowed(state.followed?.hops ?? null, (h, index) => goTo(h, index));
    details.element.hidden = !hop || hop.packetCount === 0;
    showDetails();
  }

  /** Shows packet `index` of hop `h` (a click in the followed row) in capture order. */
  function goTo(h: number, index: number): void {
    state = {
      ...state,
      hop: h,
      settings: DEFAULT_SETTINGS,
      page: Math.floor(index / PAGE_SIZE),
    };
    save();
    showHop();
    selectPacket(index, false);
  }

  function selectHop(hop: number): void {
    if (hop === state.hop) return;
    state = { ...state, hop, page: 0 };
    save();
    showHop();
  }

  function selectPacket(index: number, follow = true): void {
    const requestId = nextRequestId++;
    pendingRequest = requestId;
    state = { ...state, selected: { hop: state.hop, index }, layers: null, layersError: null };
    save();
    table.setSelected(index);
    showDetails();
    host.post({ type: 'selectPacket', requestId, hop: state.hop, index });
    if (follow && (state.view?.hops.length ?? 0) > 1) {
      pendingFollow = nextRequestId++;
      host.post({ type: 'followPacket', requestId: pendingFollow, hop: state.hop, index });
    }
  }

  function showView(view: PanelView): void {
    waiting.remove();
    content.hidden = false;
    title.textContent = view.title;
    subtitle.textContent = view.subtitle;
    subtitle.hidden = view.subtitle === '';
    summary.show(view);
    diagram.show(view.diagram, view.missingHop);
    noPackets.hidden = view.hops.length > 0;
    hopList.element.hidden = view.hops.length === 0;
    table.element.hidden = view.hops.length === 0;
    showHop();
  }

  function handle(message: ToWebview): void {
    switch (message.type) {
      case 'show': {
        const view = message.view;
        // The host re-sends the same analysis after a reload: keep the reader's place.
        const keep = sameHops(state.view, view);
        const hop = keep ? state.hop : 0;
        state = keep
          ? { ...state, view, hop: Math.min(hop, Math.max(0, view.hops.length - 1)) }
          : { ...emptyState(), view };
        pendingRequest = null;
        pendingPage = null;
        pendingFollow = null;
        hostPage = null;
        if (!keep) state = { ...state, followed: null };
        save();
        showView(view);
        break;
      }
      case 'packetPage': {
        if (!pendingPage || message.requestId !== pendingPage.requestId) break;
        const key = pendingPage.key;
        pendingPage = null;
        if (message.page) {
          hostPage = { key, page: message.page };
          showHop();
        } else {
          details.show('Packets', null, message.error);
        }
        break;
      }
      case 'followedPacket':
        if (message.requestId !== pendingFollow) break;
        pendingFollow = null;
        state = {
          ...state,
          followed: { hop: message.hop, index: message.index, hops: message.hops },
        };
        save();
        table.showFollowed(message.hops, (h, index) => goTo(h, index));
        break;
      case 'packetLayers':
        if (message.requestId !== pendingRequest) break;
        pendingRequest = null;
        state = { ...state, layers: message.layers, layersError: message.error };
        save();
        showDetails();
        break;
      default:
        assertNever(message);
    }
  }

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isToWebview(event.data)) handle(event.data);
  });

  if (state.view) showView(state.view);
}

start();
