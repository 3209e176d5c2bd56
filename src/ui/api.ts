/**
 * What activate() returns: a small API for the in-host tests (and nothing else), so they
 * can look at the panel and the trees without a fake `vscode` module.
 */
import type { PanelView, ToWebview } from '../protocol';
import type { RenderedReport } from './panel/panelHost';
import type { CapturesTree } from './tree/capturesTree';
import type { ClustersTree } from './tree/clustersTree';
import type { DatapathsTree } from './tree/datapathsTree';
import type { LabsTree } from './tree/labsTree';

export interface PodpathApi {
  /** Milliseconds activate() took, measured with performance.now(). */
  activationMs: number;
  /** Command ids registered by activate(). */
  commands: string[];
  panel: {
    lastShown(): PanelView | undefined;
    lastRendered(): RenderedReport | undefined;
    /** The webview's report for the view last shown (waits up to `timeoutMs` for it). */
    waitRendered(timeoutMs: number): Promise<RenderedReport | undefined>;
    /** Plays the webview's part: a raw message in, the host's reply (if any) out. */
    handleMessage(raw: unknown): Promise<ToWebview | undefined>;
  };
  trees: {
    clusters: ClustersTree;
    captures: CapturesTree;
    datapaths: DatapathsTree;
    labs: LabsTree;
  };
}
