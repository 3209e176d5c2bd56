/**
 * What the manifest CodeLenses run. Each command gets the document's URI and the first
 * line of the manifest, and recognises the document again: the lens may be older than
 * the text. A workload's datapath is planned in core (workloadDatapath) from the workload,
 * the Services in open YAML documents and the CNI mode: `{ mode }` from the caller, else a
 * Flannel or Calico manifest open in the editor, else the person picks one.
 */
import * as vscode from 'vscode';
import { buildDatapathPlan, isCniMode } from '../../core/datapath/plans';
import { recognizeManifests } from '../../core/manifests/recognizeManifests';
import type { RecognizedManifest, ServiceManifest } from '../../core/manifests/types';
import { workloadDatapath } from '../../core/manifests/workloadDatapath';
import type { ModeFrom, WorkloadDatapathInput } from '../../core/manifests/workloadDatapath';
import { explainServices } from '../../core/kubeproxy/explainService';
import { readServiceSpecs } from '../../core/kubeproxy/serviceSpec';
import {
  datapathView,
  serviceExplanationView,
  serviceView,
  topologyView,
} from '../panel/panelViews';
import type { PanelContent } from '../panel/panelViews';
import type { CommandTable, Services } from '../services';
import { pickCniMode, planInputFor } from './datapathCommands';
import { withCancellableProgress } from './commandErrors';
import { confirmNodeShellPods, nodeShellSettings } from '../nodeShellConsent';

type Kind = RecognizedManifest['kind'];

async function manifestDocument(uriArg: unknown): Promise<vscode.TextDocument> {
  const uri =
    uriArg instanceof vscode.Uri
      ? uriArg
      : typeof uriArg === 'string'
        ? vscode.Uri.parse(uriArg)
        : vscode.window.activeTextEditor?.document.uri;
  if (!uri) throw new Error('no manifest was given. Open the YAML file and use its CodeLens');
  return vscode.workspace.openTextDocument(uri);
}

async function manifestAt<K extends Kind>(
  uriArg: unknown,
  lineArg: unknown,
  kind: K,
): Promise<Extract<RecognizedManifest, { kind: K }> & { uri: vscode.Uri }> {
  const doc = await manifestDocument(uriArg);
  const uri = doc.uri;
  const found = recognizeManifests(doc.getText()).filter(
    (m): m is Extract<RecognizedManifest, { kind: K }> => m.kind === kind,
  );
  const line = typeof lineArg === 'number' ? lineArg : undefined;
  const match =
    found.find((m) => m.range.startLine === line) ??
    found.find((m) => line !== undefined && m.range.startLine <= line && line <= m.range.endLine) ??
    found[0];
  if (!match)
    throw new Error(`${uri.fsPath} no longer holds that manifest. Save the file and try again`);
  return { ...match, uri };
}

/** The CNI mode declared by a Flannel or Calico manifest in an open YAML document, if any. */
function openManifestMode(): ModeFrom | undefined {
  for (const doc of vscode.workspace.textDocuments) {
    if (doc.languageId !== 'yaml') continue;
    const file = vscode.workspace.asRelativePath(doc.uri);
    for (const m of recognizeManifests(doc.getText())) {
      if (m.kind === 'flannelConfig' && m.cniMode) {
        return { mode: m.cniMode, from: `kube-flannel-cfg in ${file}` };
      }
      if (m.kind === 'calicoPool') {
        return {
          mode: m.cniMode,
          from: `${m.source} ${m.name ?? ''} in ${file}`.replace('  ', ' '),
        };
      }
    }
  }
  return undefined;
}

/** Where the Service's kube-proxy rules come from. */
type RulesSource =
  | { kind: 'file'; uri: vscode.Uri }
  | { kind: 'node'; context: string; node: string; providerId: string | null; mode: string };

const RULES_GLOB = '**/{*.rules,*iptables*.txt,*iptables-save*,*nft*.txt,*.nft,*ipvs*.txt}';

async function browseRulesFile(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Explain with these rules',
    title:
      'kube-proxy rules from a node: iptables-save, iptables -t nat -vnL, nft list table ip kube-proxy, nft -j …, or ipvsadm -Ln',
  });
  return picked?.[0];
}

/**
 * Where the rules come from: `{ rulesFile }` from a test, otherwise a pick of the connected
 * clusters' nodes (read there through the node shell), the rules files in the workspace,
 * and Browse….
 */
async function pickRulesSource(s: Services, options: unknown): Promise<RulesSource | undefined> {
  const given = (options as { rulesFile?: unknown } | undefined)?.rulesFile;
  if (typeof given === 'string') return { kind: 'file', uri: vscode.Uri.file(given) };
  type Item = vscode.QuickPickItem & { source?: RulesSource; browse?: true };
  const items: Item[] = [];
  for (const { context, kubeProxyMode } of s.clusters.connectedClusters()) {
    const session = await s.clusters.openSession(context).catch(() => undefined);
    if (!session) continue;
    const nodes = [...session.nodes.items.entries()].sort(([a], [b]) => a.localeCompare(b));
    if (nodes.length === 0) continue;
    items.push({ label: context, kind: vscode.QuickPickItemKind.Separator });
    for (const [node, raw] of nodes) {
      const spec = (raw['spec'] ?? {}) as Record<string, unknown>;
      const providerId = typeof spec['providerID'] === 'string' ? spec['providerID'] : null;
      items.push({
        label: `$(server) Read the rules from node ${node} of ${context}`,
        description: `${['iptables', 'nftables', 'ipvs'].includes(kubeProxyMode) ? `kube-proxy ${kubeProxyMode}` : 'kube-proxy mode unknown: iptables-save, then nft'}${providerId?.startsWith('kind://') ? ', kind node' : ', through a node-shell pod'}`,
        source: { kind: 'node', context, node, providerId, mode: kubeProxyMode },
      });
    }
  }
  const files = await vscode.workspace.findFiles(RULES_GLOB, '**/node_modules/**', 50);
  if (files.length > 0) items.push({ label: 'files', kind: vscode.QuickPickItemKind.Separator });
  for (const uri of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
    items.push({
      label: `$(file) ${uri.path.split('/').pop() ?? uri.fsPath}`,
      description: vscode.workspace.asRelativePath(uri),
      source: { kind: 'file', uri },
    });
  }
  items.push({
    label: '$(folder-opened) Browse…',
    description: 'another rules file',
    browse: true,
  });
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'Podpath: kube-proxy rules for this Service',
    placeHolder:
      'A connected cluster’s node, a rules file (iptables-save, nft list, ipvsadm -Ln), or Browse…',
    matchOnDescription: true,
  });
  if (!chosen) return undefined;
  if (chosen.browse) {
    const uri = await browseRulesFile();
    return uri ? { kind: 'file', uri } : undefined;
  }
  return chosen.source;
}

/** The rules text and a name for it (the file's, or `iptables-save on node X`). */
async function readRules(
  s: Services,
  source: RulesSource,
): Promise<{ text: string; from: string }> {
  if (source.kind === 'file') {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(source.uri));
    return { text, from: source.uri.path.split('/').pop() ?? source.uri.fsPath };
  }
  const session = await s.clusters.openSession(source.context);
  const kube = s.clusters.kube();
  return withCancellableProgress(
    `Podpath: reading kube-proxy rules on ${source.node}`,
    async (signal, report) => {
      // As for Trace to…: a kind node's container; other nodes through a test's shell when
      // one is wired, else a node-shell pod after consent.
      const hooked =
        s.nodeShellFor && !source.providerId?.startsWith('kind://')
          ? await s.nodeShellFor(
              [{ name: source.node, providerId: source.providerId, internalIP: null }],
              signal,
            )
          : undefined;
      const opened = hooked
        ? { shell: hooked, via: 'test', dispose: () => hooked.dispose?.() ?? Promise.resolve() }
        : await kube.openNodeShell({
            client: session.client,
            node: source.node,
            providerId: source.providerId,
            confirm: confirmNodeShellPods,
            ...nodeShellSettings(),
            signal,
            onProgress: report,
          });
      try {
        const rules = await kube.readNodeRules({
          shell: opened.shell,
          node: source.node,
          mode: source.mode,
          signal,
        });
        s.log.line(
          `explain Service: ${rules.argv.join(' ')} on ${source.node} of ${source.context} (${opened.via}): ${rules.text.length} chars`,
        );
        return { text: rules.text, from: `${rules.argv.join(' ')} on node ${source.node}` };
      } finally {
        await opened.dispose();
      }
    },
  );
}

/** Services in the open YAML documents (the workload's own file included). */
async function openServices(uri: vscode.Uri): Promise<ServiceManifest[]> {
  const docs = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d]));
  docs.set(uri.toString(), await vscode.workspace.openTextDocument(uri));
  return [...docs.values()]
    .filter((d) => d.languageId === 'yaml' || d.uri.toString() === uri.toString())
    .flatMap((d) => recognizeManifests(d.getText()))
    .filter((m): m is ServiceManifest => m.kind === 'service');
}

export function manifestCommands(s: Services): CommandTable {
  const show = (content: PanelContent): unknown => {
    s.panel.show(content);
    return content.view;
  };
  return {
    'podpath.manifest.showTopology': {
      what: 'Showing the lab topology',
      run: async (uri?: unknown, line?: unknown) =>
        show(topologyView(await manifestAt(uri, line, 'kindCluster'))),
    },
    'podpath.manifest.showFlannel': {
      what: 'Showing the Flannel datapath',
      run: async (uri?: unknown, line?: unknown) => {
        const m = await manifestAt(uri, line, 'flannelConfig');
        if (!m.cniMode) {
          throw new Error(
            `Flannel backend ${m.backend ?? '(none)'} is not one Podpath models. Use Backend Type vxlan or host-gw`,
          );
        }
        const plan = buildDatapathPlan(
          planInputFor(
            { mode: m.cniMode, sameNode: false },
            {
              ...(m.vni !== null ? { vni: m.vni } : {}),
              ...(m.port !== null ? { vxlanPort: m.port } : {}),
            },
          ),
        );
        const content = datapathView(plan);
        content.view.notes.unshift(
          `From kube-flannel-cfg: Backend ${m.backend ?? '?'}, Network ${m.network ?? '?'}${m.vni !== null ? `, VNI ${m.vni}` : ''}${m.port !== null ? `, Port ${m.port}` : ''}.`,
        );
        return show(content);
      },
    },
    'podpath.manifest.showCalico': {
      what: 'Showing the Calico datapath',
      run: async (uri?: unknown, line?: unknown) => {
        const m = await manifestAt(uri, line, 'calicoPool');
        const plan = buildDatapathPlan(
          planInputFor({
            mode: m.cniMode,
            sameNode: false,
            crossSubnet: m.cniMode === 'calico-crosssubnet',
          }),
        );
        const content = datapathView(plan);
        content.view.notes.unshift(
          `From ${m.source === 'IPPool' ? `IPPool ${m.name ?? ''}` : 'the calico-node env'}: ipipMode ${m.ipipMode ?? 'Never'}, vxlanMode ${m.vxlanMode ?? 'Never'}${m.cidr ? `, cidr ${m.cidr}` : ''}${m.blockSize !== null ? `, blockSize ${m.blockSize}` : ''}.`,
        );
        return show(content);
      },
    },
    'podpath.manifest.showWorkloadDatapath': {
      what: 'Showing the datapath for the workload',
      // options: `{ mode }` skips the question (tests, callers that know the mode).
      run: async (uri?: unknown, line?: unknown, options?: unknown) => {
        const { uri: file, ...workload } = await manifestAt(uri, line, 'workload');
        const given = (options as { mode?: unknown } | undefined)?.mode;
        const input: WorkloadDatapathInput = {
          workload,
          services: await openServices(file),
          ...(typeof given === 'string' && isCniMode(given) ? { given } : {}),
        };
        const connected = s.clusters.connectedMode();
        if (connected) {
          input.cluster = {
            mode: connected.mode,
            from: `the connected cluster ${connected.context}`,
          };
        }
        const manifestMode = openManifestMode();
        if (manifestMode) input.manifest = manifestMode;
        let result = workloadDatapath(input);
        if (result.kind === 'needs-mode') {
          const mode = await pickCniMode(`Podpath: ${result.question}`);
          result = workloadDatapath({ ...input, given: mode });
        }
        if (result.kind === 'not-pod-network') throw new Error(result.reason);
        if (result.kind !== 'plan') throw new Error('no CNI mode was chosen');
        const content = datapathView(result.plan);
        content.view.notes.unshift(...result.notes);
        return show(content);
      },
    },
    'podpath.manifest.showService': {
      what: 'Showing the Service',
      run: async (uri?: unknown, line?: unknown) =>
        show(serviceView(await manifestAt(uri, line, 'service'))),
    },
    'podpath.manifest.explainService': {
      what: 'Explaining the Service from kube-proxy rules',
      run: async (uri?: unknown, line?: unknown, options?: unknown) => {
        const m = await manifestAt(uri, line, 'service');
        const doc = await manifestDocument(uri);
        const yamlText = doc.getText(
          new vscode.Range(m.range.startLine, 0, m.range.endLine + 1, 0),
        );
        const spec = readServiceSpecs(yamlText).services[0];
        if (!spec) throw new Error('that Service manifest could not be read as YAML');
        const source = await pickRulesSource(s, options);
        if (!source) return undefined;
        const { text, from: file } = await readRules(s, source);
        const explanation = explainServices(text, {
          specs: [spec],
          service: `${spec.namespace}/${spec.name}`,
        });
        const [first, ...others] = explanation.services;
        if (!first) {
          throw new Error(
            `${file} has no kube-proxy rules for Service ${spec.namespace}/${spec.name} (read as ${explanation.mode}). Dump the rules on a node: iptables-save, nft list table ip kube-proxy, or ipvsadm -Ln`,
          );
        }
        const content = serviceExplanationView(explanation, first, file);
        for (const o of others)
          content.view.notes.push(
            `Port ${o.port}/${o.protocol} too: ${o.endpoints.map((e) => e.address).join(', ') || 'no endpoints'}.`,
          );
        return show(content);
      },
    },
  };
}
