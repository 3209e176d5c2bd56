/**
 * Messages between the extension host and the Podpath panel (webview), both ways.
 * Both sides import these types; the host validates everything it receives with
 * `parseFromWebview` because a webview is another process that could send anything.
 *
 * Handshake: the webview posts `ready` once its script runs; the host queues what it
 * wants to show until then. Packet layers are fetched on demand (`selectPacket` →
 * `packetLayers`, matched by `requestId`) so big captures do not cross as a whole.
 */
import type { LayerDetail, PacketRow } from './core/packets/packetSummary';

export interface HopView {
  name: string;
  /** Packets in the capture (may exceed `rows.length` when rows were capped). */
  packetCount: number;
  /** Whether the probe was seen here; null when no correlation was made. */
  seen: boolean | null;
  /** One line: TTL, lengths, encapsulation, for the hop list. */
  summary: string;
  rows: PacketRow[];
  /** True when only the first rows were sent. */
  truncated: boolean;
  /** Problems met reading this hop's capture, in words. */
  issues: string[];
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
    };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'selectPacket'; requestId: number; hop: number; index: number }
  | {
      type: 'rendered';
      diagram: 'ok' | 'none' | 'failed';
      error: string | null;
      /** Text of the diagram's participant boxes as rendered (what a person sees). */
      participants: string[];
    }
  | { type: 'showLog' };

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
