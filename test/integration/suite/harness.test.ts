// Smoke test for the test harness itself: proves the suite runs inside a real extension host
// with Podpath loaded from the development path and the fixture workspace open.
import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';

const extensionId = 'podpath.podpath';

suite('harness', () => {
  test('Podpath is loaded from the development path', () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `${extensionId} is not installed in this extension host`);
    const manifest = extension.packageJSON as { name?: string; publisher?: string; main?: string };
    assert.equal(manifest.name, 'podpath');
    assert.equal(manifest.publisher, 'podpath');
    assert.equal(manifest.main, './dist/extension.js');
  });

  test('Podpath activates without throwing', async () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension);
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  test('the fixture workspace is open', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    const path = folders[0]!.uri.fsPath;
    assert.equal(basename(path), 'workspace');
    assert.equal(basename(dirname(path)), 'fixtures');
  });
});
