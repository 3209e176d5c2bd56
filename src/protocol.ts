/**
 * Messages between the extension host and the Podpath panel (webview), both ways.
 * Both sides import these types; the host validates everything it receives with
 * `parseFromWebview` because a webview is another process that could send anything.
 *
 * Handshake: the webview posts `ready` once its script runs; the host queues what it
 * wants to show until then. Pages of a hop (`queryPackets` → `packetPage`: sorted and
 * filtered over the whole hop), packet layers (`selectPacket` → `packetLayers`) and a
 * packet followed through every hop (`followPacket` → `followedPacket`) are fetched on
 * demand, matched by `requestId`, so big captures never cross as a whole.
 */
import type { LayerDetail, PacketRow } from './core/packets/packetSummary';
import type { FollowedHop, TablePage, TableQuery } from './core/hops/tableFilter';
import { SORT_COLUMNS } from './core/hops/tableFilter';

export type { FollowedHop, SortColumn, TablePage, TableQuery } from './core/hops/tableFilter';

export interface HopView {
  name: string;
  /** Packets in the capture (may exceed `rows.length` when rows were capped). */
  packetCount: number;
  /** Whether the probe was seen here; null when no correlation was made. */
  seen: boolean | null;
  /** One line: TTL, lengths, encapsulation, for the hop list. */
  summary: string;
  /** The first page of rows, sent with the view. */
  rows: PacketRow[];
  /** True when the hop has more packets than `rows`: the rest come by `queryPackets`. */
  truncated: boolean;
  /** Problems met reading this hop's capture, in words. */
  issues: string[];
  /**
   * The hop's capture file on the host (a trace or a lab run), for Reveal and Open in
   * Wireshark; the host acts on its own copy of the path, found by the hop's index.
   */
  capture?: { path: string; wireshark: boolean };
}

export type PanelViewKind = 'analysis' | 'datapath' | 'packets' | 'topology' | 'service';

export interface PanelView {
  kind: PanelViewKind;
  title: string;
  subtitle: string;
  /** Mermaid source, or null when there is nothing to draw. */
  diagram: string | null;
  /** Name of the first hop where the probe was not seen (highlighted in the diagram). */
  missingHop: string | null;
  /** Plain sentences about what happened to the packets. */
  findings: string[];
  /** Facts worth stating (plan notes, manifest settings). */
  notes: string[];
  hops: HopView[];
}

export type ToWebview =
  | { type: 'show'; view: PanelView }
  | {
      type: 'packetLayers';
      requestId: number;
      layers: LayerDetail[] | null;
      /** Why no layers came back, in words. */
      error: string | null;
    }
  | {
      type: 'packetPage';
      requestId: number;
      hop: number;
      page: TablePage | null;
      /** Why no page came back, in words. */
      error: string | null;
    }
  | {
      type: 'followedPacket';
      requestId: number;
      hop: number;
      index: number;
      /** The packet at every hop, in hop order (empty when the tables are gone). */
      hops: FollowedHop[];
    };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'selectPacket'; requestId: number; hop: number; index: number }
  | { type: 'queryPackets'; requestId: number; hop: number; query: TableQuery }
  | { type: 'followPacket'; requestId: number; hop: number; index: number }
  | {
      type: 'rendered';
      diagram: 'ok' | 'none' | 'failed';
      error: string | null;
      /** Text of the diagram's participant boxes as rendered (what a person sees). */
      participants: string[];
    }
  | { type: 'showLog' }
  /** Reveal the hop's capture file, or open it in Wireshark. */
  | { type: 'captureFile'; hop: number; action: 'reveal' | 'wireshark' };

/** Exhaustiveness check for switches over message unions. */
export function assertNever(x: never): never {
  throw new Error(`Unexpected message: ${JSON.stringify(x)}`);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isIndex(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

/**
 * Checks a message posted by the webview.
 *
 * @returns the typed message, or undefined when it is not one the host understands.
 */
export function parseFromWebview(x: unknown): FromWebview | undefined {
  if (!isRecord(x) || typeof x.type !== 'string') return undefined;
  switch (x.type) {
    case 'ready':
      return { type: 'ready' };
    case 'showLog':
      return { type: 'showLog' };
    case 'selectPacket':
      if (isIndex(x.requestId) && isIndex(x.hop) && isIndex(x.index)) {
        return { type: 'selectPacket', requestId: x.requestId, hop: x.hop, index: x.index };
      }
      return undefined;
    case 'followPacket':
      if (isIndex(x.requestId) && isIndex(x.hop) && isIndex(x.index)) {
        return { type: 'followPacket', requestId: x.requestId, hop: x.hop, index: x.index };
      }
      return undefined;
    case 'captureFile':
      if (isIndex(x.hop) && (x.action === 'reveal' || x.action === 'wireshark')) {
        return { type: 'captureFile', hop: x.hop, action: x.action };
      }
      return undefined;
    case 'queryPackets': {
      const q = x.query;
      if (!isIndex(x.requestId) || !isIndex(x.hop) || !isRecord(q)) return undefined;
      if (
        typeof q.filter !== 'string' ||
        typeof q.probeOnly !== 'boolean' ||
        typeof q.notSeenAtNextHop !== 'boolean' ||
        typeof q.descending !== 'boolean' ||
        !SORT_COLUMNS.includes(q.sort as never) ||
        !isIndex(q.offset) ||
        !isIndex(q.count)
      ) {
        return undefined;
      }
      return {
        type: 'queryPackets',
        requestId: x.requestId,
        hop: x.hop,
        query: {
          filter: q.filter.slice(0, 200),
          probeOnly: q.probeOnly,
          notSeenAtNextHop: q.notSeenAtNextHop,
          sort: q.sort as TableQuery['sort'],
          descending: q.descending,
          offset: q.offset,
          // A page is what a person reads, not a capture.
          count: Math.min(q.count, 2000),
        },
      };
    }
    case 'rendered': {
      const diagram = x.diagram;
      if (diagram !== 'ok' && diagram !== 'none' && diagram !== 'failed') return undefined;
      if (x.error !== null && typeof x.error !== 'string') return undefined;
      if (!Array.isArray(x.participants) || !x.participants.every((p) => typeof p === 'string')) {
        return undefined;
      }
      return {
        type: 'rendered',
        diagram,
        error: x.error,
        participants: x.participants.slice(0, 200) as string[],
      };
    }
    default:
      return undefined;
  }
}
