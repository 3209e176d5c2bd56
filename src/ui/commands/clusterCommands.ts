/**
 * Clusters view commands: refresh, choosing the kubeconfig file(s) (stored in the
 * `podpath.kubeconfig` setting of the workspace, or the user settings without a workspace),
 * copying a node's or pod's name and IP, opening one as read-only YAML, revealing a pod's
 * node, and opening the cluster's datapath from its Network item.
 */
import * as vscode from 'vscode';
import { buildDatapathPlan } from '../../core/datapath/plans';
import { datapathView } from '../panel/panelViews';
import type { CommandTable, Services } from '../services';
import type { ClusterElement } from '../tree/clustersTree';
import { kubeYamlUri } from '../tree/kubeYamlProvider';
import { CommandCancelled } from './commandErrors';

function element(arg: unknown, kinds: ClusterElement['kind'][]): ClusterElement {
  const e = arg as ClusterElement | undefined;
  if (!e || typeof e !== 'object' || !kinds.includes(e.kind)) {
    throw new Error(`Run this from a ${kinds.join(' or ')} in the Clusters view.`);
  }
  return e;
}

export function clusterCommands(s: Services): CommandTable {
  return {
    'podpath.clusters.refresh': {
      what: 'Refreshing the clusters',
      run: async () => {
        s.clusters.refresh();
        return (await s.clusters.contexts()).contexts.map((c) => c.name);
      },
    },
    'podpath.kubeconfig.choose': {
      what: 'Choosing a kubeconfig file',
      run: async (arg?: unknown) => {
        let paths: string[];
        if (typeof arg === 'string') paths = [arg];
        else {
          const picked = await vscode.window.showOpenDialog({
            canSelectMany: true,
            openLabel: 'Use as kubeconfig',
            title: 'Podpath: choose kubeconfig file(s)',
          });
          if (!picked || picked.length === 0) throw new CommandCancelled();
          paths = picked.map((u) => u.fsPath);
        }
        const target = vscode.workspace.workspaceFolders
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
        await vscode.workspace
          .getConfiguration('podpath')
          .update('kubeconfig', paths.join(':'), target);
        s.clusters.refresh();
        return paths;
      },
    },
    'podpath.cluster.copyName': {
      what: 'Copying the name',
      run: async (arg?: unknown) => {
        const e = element(arg, ['node', 'pod']);
        const text = e.kind === 'pod' ? e.name : e.kind === 'node' ? e.name : '';
        await vscode.env.clipboard.writeText(text);
        return text;
      },
    },
    'podpath.cluster.copyIp': {
      what: 'Copying the IP',
      run: async (arg?: unknown) => {
        const e = element(arg, ['node', 'pod']);
        const ip =
          e.kind === 'pod' ? e.summary.podIP : e.kind === 'node' ? e.summary.internalIP : null;
        if (!ip) throw new Error(`${e.kind === 'pod' ? 'The pod' : 'The node'} has no IP yet.`);
        await vscode.env.clipboard.writeText(ip);
        return ip;
      },
    },
    'podpath.cluster.openYaml': {
      what: 'Opening the YAML',
      run: async (arg?: unknown) => {
        const e = element(arg, ['node', 'pod']);
        const uri =
          e.kind === 'pod'
            ? kubeYamlUri(e.context, 'pod', e.name, e.namespace)
            : kubeYamlUri(e.context, 'node', e.kind === 'node' ? e.name : '');
        const doc = await vscode.workspace.openTextDocument(uri);
        await vscode.window.showTextDocument(doc, { preview: true });
        return doc.getText();
      },
    },
    'podpath.cluster.revealNode': {
      what: "Revealing the pod's node",
      run: async (arg?: unknown) => {
        const e = element(arg, ['pod']);
        await s.clusters.revealNode(e);
        return e.kind === 'pod' ? e.node : '';
      },
    },
    'podpath.cluster.showNetwork': {
      what: "Showing the cluster's datapath",
      run: async (arg?: unknown) => {
        const context =
          typeof arg === 'string' ? arg : element(arg, ['network', 'context']).context;
        const live = await s.clusters.networkPlan(context);
        if ('reason' in live) {
          void vscode.window.showInformationMessage(live.reason);
          return live.reason;
        }
        const content = datapathView(buildDatapathPlan(live.input));
        content.view.title = `${context}: ${content.view.title}`;
        content.view.notes = [...live.notes, ...content.view.notes];
        s.panel.show(content);
        return content.view;
      },
    },
  };
}
