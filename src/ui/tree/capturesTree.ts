/**
 * Captures view: capture sets the user opened (a folder of hop files, or chosen files, in
 * hop order), remembered per workspace in workspaceState. A set expands to its hops with
 * their packet counts, counted by streaming each file once (cached by size and mtime).
 * Items carry contextValue `podpath.captureSet` / `podpath.captureHop` for the menus.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { hopNameFromPath } from '../../platform/capture/analyzeFiles';
import { readCaptureFile } from '../../platform/capture/captureFile';
import { hopFilesIn, hopFilesOf } from './hopFiles';

export interface CaptureSet {
  kind: 'set';
  /** The folder, or the common folder of chosen files. */
  folder: string;
  /** Chosen files in hop order, or null for every hop file of the folder in name order. */
  files: string[] | null;
}

export interface CaptureHop {
  kind: 'hop';
  set: CaptureSet;
  path: string;
  index: number;
}

export type CaptureNode = CaptureSet | CaptureHop;

const STATE_KEY = 'podpath.captureSets';

function sameSet(a: CaptureSet, b: CaptureSet): boolean {
  return a.folder === b.folder && JSON.stringify(a.files) === JSON.stringify(b.files);
}

/** The hop files of a set, in hop order. */
export function captureSetFiles(set: CaptureSet): string[] {
  if (set.files) return set.files;
  try {
    const names = readdirSync(set.folder).filter((n) => statSync(join(set.folder, n)).isFile());
    return hopFilesIn(names).map((n) => join(set.folder, n));
  } catch {
    return [];
  }
}

/** Files of a folder set that are not hops, with why (none for an explicit file list). */
export function captureSetSkipped(set: CaptureSet): { name: string; why: string }[] {
  if (set.files) return [];
  try {
    const names = readdirSync(set.folder).filter((n) => statSync(join(set.folder, n)).isFile());
    return hopFilesOf(names).skipped;
  } catch {
    return [];
  }
}

export class CapturesTree implements vscode.TreeDataProvider<CaptureNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<CaptureNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly counts = new Map<string, { key: string; count: Promise<number> }>();

  constructor(
    private readonly state: vscode.Memento,
    private readonly log: (line: string) => void,
  ) {}

  sets(): CaptureSet[] {
    const raw = this.state.get<unknown>(STATE_KEY, []);
    if (!Array.isArray(raw)) return [];
    return raw
      .filter(
        (s): s is CaptureSet =>
          typeof s === 'object' &&
          s !== null &&
          typeof (s as CaptureSet).folder === 'string' &&
          ((s as CaptureSet).files === null || Array.isArray((s as CaptureSet).files)),
      )
      .map((s) => ({ kind: 'set', folder: s.folder, files: s.files }));
  }

  /** Adds (or moves to the top) a capture set and returns it. */
  async add(folder: string, files: string[] | null = null): Promise<CaptureSet> {
    const set: CaptureSet = { kind: 'set', folder, files };
    const rest = this.sets().filter((s) => !sameSet(s, set));
    await this.state.update(STATE_KEY, [set, ...rest]);
    this.changed.fire(undefined);
    return set;
  }

  async remove(set: CaptureSet): Promise<void> {
    await this.state.update(
      STATE_KEY,
      this.sets().filter((s) => !sameSet(s, set)),
    );
    this.changed.fire(undefined);
  }

  getChildren(element?: CaptureNode): CaptureNode[] {
    if (!element) return this.sets();
    if (element.kind === 'hop') return [];
    return captureSetFiles(element).map((path, index) => ({
      kind: 'hop',
      set: element,
      path,
      index,
    }));
  }

  getParent(element: CaptureNode): CaptureNode | undefined {
    return element.kind === 'hop' ? element.set : undefined;
  }

  async getTreeItem(node: CaptureNode): Promise<vscode.TreeItem> {
    if (node.kind === 'set') {
      const files = captureSetFiles(node);
      const item = new vscode.TreeItem(
        basename(node.folder),
        vscode.TreeItemCollapsibleState.Collapsed,
      );
      item.id = `set:${node.folder}:${node.files?.join('|') ?? '*'}`;
      item.description = `${files.length} hops${node.files ? ' (chosen files)' : ''}`;
      item.tooltip = node.folder;
      item.iconPath = new vscode.ThemeIcon('folder-library');
      item.resourceUri = vscode.Uri.file(node.folder);
      item.contextValue = 'podpath.captureSet';
      return item;
    }
    const item = new vscode.TreeItem(
      hopNameFromPath(node.path),
      vscode.TreeItemCollapsibleState.None,
    );
    item.id = `hop:${node.set.folder}:${node.index}:${node.path}`;
    const count = await this.packetCount(node.path);
    item.description = count === null ? 'unreadable' : `${count} packets`;
    item.tooltip = `${node.path}\nHop ${node.index + 1} of ${basename(dirname(node.path))}`;
    item.iconPath = new vscode.ThemeIcon('pulse');
    item.resourceUri = vscode.Uri.file(node.path);
    item.contextValue = 'podpath.captureHop';
    return item;
  }

  /** Packets in a capture file, or null when it cannot be read. */
  async packetCount(path: string): Promise<number | null> {
    let key: string;
    try {
      const st = statSync(path);
      key = `${st.size}:${st.mtimeMs}`;
    } catch {
      return null;
    }
    let cached = this.counts.get(path);
    if (!cached || cached.key !== key) {
      cached = { key, count: readCaptureFile(path, () => undefined).then((r) => r.packets) };
      this.counts.set(path, cached);
    }
    try {
      return await cached.count;
    } catch (err) {
      this.counts.delete(path);
      this.log(`captures: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}
