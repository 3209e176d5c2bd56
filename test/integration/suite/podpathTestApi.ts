// Shared by the in-host suites: activates Podpath and returns the test API its activate()
// returns (no fake vscode module: the real extension, the real workbench).
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { PodpathApi } from '../../../src/ui/api';

export const EXTENSION_ID = 'podpath.podpath';

export async function activatePodpath(): Promise<PodpathApi> {
  const extension = vscode.extensions.getExtension<PodpathApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded`);
  const api = await extension.activate();
  assert.ok(api && typeof api.activationMs === 'number', 'activate() returned no test API');
  return api;
}

/** test/fixtures/workspace, the folder the workbench opened. */
export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return folder.uri.fsPath;
}
