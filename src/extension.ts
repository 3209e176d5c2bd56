/**
 * Podpath's entry point: wiring only. Builds the services, registers the views, commands,
 * CodeLens provider and panel serializer, points the process runner's log at the output
 * channel, and measures how long all that took.
 */
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { setCommandLog, stopAllTools } from './platform/exec/runner';
import type { PodpathApi } from './ui/api';
import { ManifestCodeLensProvider, MANIFEST_SELECTOR } from './ui/codelens/manifestCodeLens';
import { registerCommands } from './ui/commands/registerCommands';
import { createOutputLog } from './ui/outputLog';
import { PanelHost } from './ui/panel/panelHost';
import type { Services } from './ui/services';
import { CapturesTree } from './ui/tree/capturesTree';
import { ClustersTree } from './ui/tree/clustersTree';
import { KUBE_YAML_SCHEME, KubeYamlProvider } from './ui/tree/kubeYamlProvider';
import { DatapathsTree } from './ui/tree/datapathsTree';
import { LabsTree } from './ui/tree/labsTree';

export function activate(context: vscode.ExtensionContext): PodpathApi {
  const started = performance.now();
  const log = createOutputLog();
  setCommandLog((entry) => log.command(entry));
  const line = (text: string): void => log.line(text);
  const panel = new PanelHost(context.extensionUri, () => log.show(), line);
  const services: Services = {
    context,
    log,
    panel,
    clusters: new ClustersTree(line),
    captures: new CapturesTree(context.workspaceState, line),
    datapaths: new DatapathsTree(),
    labs: new LabsTree(),
  };
  const codeLens = new ManifestCodeLensProvider();
  const clustersView = vscode.window.createTreeView('podpath.clusters', {
    treeDataProvider: services.clusters,
    showCollapseAll: true,
  });
  services.clusters.attachView(clustersView);
  context.subscriptions.push(
    log,
    panel,
    services.clusters,
    services.captures,
    services.labs,
    codeLens,
    { dispose: () => setCommandLog(undefined) },
    clustersView,
    vscode.workspace.registerTextDocumentContentProvider(
      KUBE_YAML_SCHEME,
      new KubeYamlProvider(services.clusters),
    ),
    vscode.window.registerTreeDataProvider('podpath.captures', services.captures),
    vscode.window.registerTreeDataProvider('podpath.datapaths', services.datapaths),
    vscode.window.registerTreeDataProvider('podpath.labs', services.labs),
    vscode.languages.registerCodeLensProvider(MANIFEST_SELECTOR, codeLens),
    panel.registerSerializer(),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('podpath.kubeconfig') || e.affectsConfiguration('vs-kubernetes')) {
        services.clusters.refresh();
      }
    }),
  );
  const commands = registerCommands(services);
  const activationMs = performance.now() - started;
  log.line(`activated in ${activationMs.toFixed(1)} ms (${commands.length} commands)`);
  return {
    activationMs,
    commands,
    panel: {
      lastShown: () => panel.lastShown(),
      lastRendered: () => panel.lastRendered(),
      waitRendered: (timeoutMs) => panel.waitRendered(timeoutMs),
      handleMessage: (raw) => panel.handleMessage(raw),
    },
    trees: {
      clusters: services.clusters,
      captures: services.captures,
      datapaths: services.datapaths,
      labs: services.labs,
    },
  };
}

/** Stops the captures and lab daemons still running, so none outlives the extension. */
export function deactivate(): Promise<void> {
  setCommandLog(undefined);
  return stopAllTools();
}
