/**
 * Read-only YAML of a node or pod from the Clusters view: `podpath-kube:` documents, fetched
 * fresh from the API server (managedFields stripped). Content-provider documents cannot be
 * edited or saved, which is what "read-only" should mean here.
 */
import * as vscode from 'vscode';
import type { ClustersTree } from './clustersTree';

export const KUBE_YAML_SCHEME = 'podpath-kube';

/** `podpath-kube:/<context>/<pod|node>/<namespace|_>/<name>.yaml` */
export function kubeYamlUri(
  context: string,
  kind: 'node' | 'pod',
  name: string,
  namespace?: string,
): vscode.Uri {
  const seg = (s: string) => encodeURIComponent(s);
  return vscode.Uri.from({
    scheme: KUBE_YAML_SCHEME,
    path: `/${seg(context)}/${kind}/${seg(namespace ?? '_')}/${seg(name)}.yaml`,
  });
}

export class KubeYamlProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly tree: ClustersTree) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const [context, kind, ns, file] = uri.path.split('/').slice(1).map(decodeURIComponent);
    if (!context || (kind !== 'node' && kind !== 'pod') || !file) {
      return `# ${uri.toString()} does not name a node or pod\n`;
    }
    try {
      return await this.tree.objectYaml(
        context,
        kind,
        file.replace(/\.yaml$/, ''),
        ns === '_' ? undefined : ns,
      );
    } catch (e) {
      return `# Could not read this ${kind}: ${e instanceof Error ? e.message : String(e)}\n`;
    }
  }
}
