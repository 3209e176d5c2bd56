/**
 * The webview's side of the VS Code bridge: the one `acquireVsCodeApi()` call,
 * typed posting of `FromWebview` messages, and the state VS Code keeps for the
 * panel across hide/show and window reloads.
 */
import type { FollowedHop, FromWebview, PanelView, TableQuery } from '../src/protocol';
import type { LayerDetail } from '../src/core/packets/packetSummary';

/** What the panel needs to look the same after being hidden or reloaded. */
export interface PanelState {
  view: PanelView | null;
  /** Index of the hop shown in the packet table. */
  hop: number;
  /** 0-based page of that hop's rows. */
  page: number;
  /** The packet whose layers are shown, and those layers (kept: the host may be gone). */
  selected: { hop: number; index: number } | null;
  layers: LayerDetail[] | null;
  layersError: string | null;
  /** The packet table's filter and order (all hops). */
  settings: Omit<TableQuery, 'offset' | 'count'>;
  /** The selected packet followed through every hop. */
  followed: { hop: number; index: number; hops: FollowedHop[] } | null;
}

interface WebviewApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): WebviewApi;

export interface HostBridge {
  post(message: FromWebview): void;
  loadState(): PanelState;
  saveState(state: PanelState): void;
}

export function emptyState(): PanelState {
  return {
    view: null,
    hop: 0,
    page: 0,
    selected: null,
    layers: null,
    layersError: null,
    settings: {
      filter: '',
      probeOnly: false,
      notSeenAtNextHop: false,
      sort: 'index',
      descending: false,
    },
    followed: null,
  };
}

function isPanelState(x: unknown): x is PanelState {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Partial<PanelState>;
  return (
    typeof s.hop === 'number' &&
    typeof s.page === 'number' &&
    (s.view === null || (typeof s.view === 'object' && Array.isArray(s.view?.hops)))
  );
}

/** Acquires the API; VS Code allows this once per page, so call it once. */
export function connectToHost(): HostBridge {
  const api = acquireVsCodeApi();
  return {
    post: (message) => api.postMessage(message),
    loadState: () => {
      const saved = api.getState();
      // A state written by an older build may lack fields: start clean rather than crash.
      return isPanelState(saved) ? { ...emptyState(), ...saved } : emptyState();
    },
    saveState: (state) => api.setState(state),
  };
}
