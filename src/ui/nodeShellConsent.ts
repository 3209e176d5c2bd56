/**
 * The VS Code side of node-shell consent: the modal PodNodeShell's `confirm` shows before any
 * pod is created, and the two settings it reads. The platform never asks by itself; the
 * trace command passes `confirmNodeShellPods` in.
 */
import * as vscode from 'vscode';
import {
  nodeShellConsentText,
  type NodeShellConsentRequest,
} from '../platform/shells/nodeShellConsent';

/** Shows the modal; true only when the person chose "Create pod(s)". */
export async function confirmNodeShellPods(request: NodeShellConsentRequest): Promise<boolean> {
  const text = nodeShellConsentText(request);
  const choice = await vscode.window.showWarningMessage(
    text.message,
    { modal: true, detail: text.detail },
    text.confirmLabel,
  );
  return choice === text.confirmLabel;
}

/** `podpath.nodeShell.image` and `podpath.nodeShell.namespace` (undefined when empty). */
export function nodeShellSettings(): { image?: string; namespace?: string } {
  const config = vscode.workspace.getConfiguration('podpath.nodeShell');
  const image = config.get<string>('image', '').trim();
  const namespace = config.get<string>('namespace', '').trim();
  return { image: image || undefined, namespace: namespace || undefined };
}
