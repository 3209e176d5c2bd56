/**
 * Clusters view commands: refresh, and choosing the kubeconfig file(s) (stored in the
 * `podpath.kubeconfig` setting of the workspace, or the user settings without a workspace).
 */
import * as vscode from 'vscode';
import type { CommandTable, Services } from '../services';
import { CommandCancelled } from './commandErrors';

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
  };
}
