/**
 * CodeLenses on the YAML manifests Podpath has something to show for (recognizeManifests):
 * kind Cluster → lab topology, Flannel ConfigMap and Calico IPPool / calico-node → their
 * datapath, Pod / Deployment / DaemonSet → the workload's datapath, Service → its type and
 * ports, and `explain this Service` (its kube-proxy rules from a connected cluster's node or a
 * rules file). Nothing on other YAML. `podpath.codeLens.enabled` turns them off.
 */
import * as vscode from 'vscode';
import { CNI_MODES } from '../../core/datapath/plans';
import { recognizeManifests } from '../../core/manifests/recognizeManifests';
import type { RecognizedManifest } from '../../core/manifests/types';
import { serviceLensTitle } from '../panel/panelViews';

export const MANIFEST_SELECTOR: vscode.DocumentSelector = [
  { language: 'yaml', scheme: 'file' },
  { language: 'yaml', scheme: 'untitled' },
];

function modeTitle(mode: string): string {
  return CNI_MODES.find((m) => m.mode === mode)?.title ?? mode;
}

/** Title and command id of the lens for one manifest. */
export function lensFor(m: RecognizedManifest): { title: string; command: string } {
  switch (m.kind) {
    case 'kindCluster':
      return { title: 'Podpath: show lab topology', command: 'podpath.manifest.showTopology' };
    case 'flannelConfig':
      return {
        // Written as Flannel's docs write it: VXLAN, host-gw; anything else as the manifest has it.
        title: `Podpath: show Flannel ${m.backend === 'vxlan' ? 'VXLAN' : (m.backend ?? 'unknown')} datapath`,
        command: 'podpath.manifest.showFlannel',
      };
    case 'calicoPool':
      return {
        title: `Podpath: show Calico ${modeTitle(m.cniMode).replace(/^Calico /, '')} datapath`,
        command: 'podpath.manifest.showCalico',
      };
    case 'workload':
      return {
        title: 'Podpath: show datapath for this workload',
        command: 'podpath.manifest.showWorkloadDatapath',
      };
    case 'service':
      return { title: `Podpath: ${serviceLensTitle(m)}`, command: 'podpath.manifest.showService' };
  }
}

/**
 * Further lenses beside lensFor's: a kind Cluster config can also become a lab cluster, and
 * a Service's kube-proxy rules can be explained.
 */
export function extraLensesFor(m: RecognizedManifest): { title: string; command: string }[] {
  if (m.kind === 'kindCluster') {
    return [{ title: 'Podpath: create this cluster with…', command: 'podpath.kindLab.create' }];
  }
  if (m.kind === 'service') {
    return [{ title: 'Podpath: explain this Service', command: 'podpath.manifest.explainService' }];
  }
  return [];
}

export class ManifestCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor() {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('podpath.codeLens.enabled')) this.changed.fire();
    });
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (
      !vscode.workspace
        .getConfiguration('podpath', document.uri)
        .get<boolean>('codeLens.enabled', true)
    ) {
      return [];
    }
    return recognizeManifests(document.getText()).flatMap((m) => {
      const line = Math.min(m.range.startLine, Math.max(0, document.lineCount - 1));
      return [lensFor(m), ...extraLensesFor(m)].map(
        ({ title, command }) =>
          new vscode.CodeLens(new vscode.Range(line, 0, line, 0), {
            title,
            command,
            arguments: [document.uri, m.range.startLine],
          }),
      );
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
