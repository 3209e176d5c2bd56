/**
 * The pinned upstream CNI manifests, changed for one lab mode with the yaml library
 * (never with string replacement): Flannel's `net-conf.json` backend and network;
 * Calico's pool env on calico-node, `calico_backend`, and for the VXLAN modes the
 * BIRD probes dropped, exactly as upstream's calico-vxlan.yaml differs from
 * calico.yaml. Comments and every other object are kept.
 */
import { isMap, isSeq, parseAllDocuments, Scalar, YAMLMap, type Document } from 'yaml';
import type { KindLabModeInfo } from './modes';

/** The manifest does not have the object or field a mode needs to change. */
export class CniManifestError extends Error {
  override readonly name = 'CniManifestError';
}

type YamlDoc = Document.Parsed;

function parseStream(text: string, what: string): YamlDoc[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new CniManifestError(`${what} is empty.`);
  for (const d of docs) {
    const err = d.errors[0];
    if (err)
      throw new CniManifestError(`${what} is not valid YAML: ${err.message.split('\n')[0] ?? ''}`);
  }
  return docs;
}

function findObject(docs: readonly YamlDoc[], kind: string, name: string, what: string): YamlDoc {
  const doc = docs.find((d) => d.get('kind') === kind && d.getIn(['metadata', 'name']) === name);
  if (!doc) throw new CniManifestError(`${what} has no ${kind} ${name}.`);
  return doc;
}

function stringifyStream(docs: readonly YamlDoc[]): string {
  return docs
    .filter((d) => d.contents !== null)
    .map((d) => {
      // Every document starts with its own marker so the file is one valid stream.
      d.directives.docStart = true;
      return d.toString({ lineWidth: 0 });
    })
    .join('');
}

/**
 * Flannel's kube-flannel.yml with `net-conf.json` set to the mode's backend
 * (`vxlan` or `host-gw`) and the lab's pod network.
 */
export function flannelManifestFor(upstream: string, mode: KindLabModeInfo): string {
  const what = 'The Flannel manifest';
  const backend =
    mode.mode === 'flannel-vxlan' ? 'vxlan' : mode.mode === 'flannel-host-gw' ? 'host-gw' : null;
  if (backend === null) throw new CniManifestError(`${mode.mode} is not a Flannel mode.`);
  const docs = parseStream(upstream, what);
  const cm = findObject(docs, 'ConfigMap', 'kube-flannel-cfg', what);
  const text = cm.getIn(['data', 'net-conf.json']);
  if (typeof text !== 'string') throw new CniManifestError(`${what} has no net-conf.json.`);
  let conf: Record<string, unknown>;
  try {
    conf = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CniManifestError(`${what}'s net-conf.json is not JSON.`);
  }
  const previous = conf['Backend'];
  const backendConf: Record<string, unknown> =
    typeof previous === 'object' && previous !== null
      ? { ...(previous as Record<string, unknown>) }
      : {};
  backendConf['Type'] = backend;
  conf['Network'] = mode.podSubnet;
  conf['Backend'] = backendConf;
  const scalar = new Scalar(JSON.stringify(conf, null, 2) + '\n');
  scalar.type = Scalar.BLOCK_LITERAL;
  cm.setIn(['data', 'net-conf.json'], scalar);
  return stringifyStream(docs);
}

interface CalicoSettings {
  backend: 'bird' | 'vxlan';
  ipip: 'Always' | 'Never';
  vxlan: 'Always' | 'CrossSubnet' | 'Never';
}

function calicoSettings(mode: KindLabModeInfo): CalicoSettings {
  switch (mode.mode) {
    case 'calico-bgp':
      return { backend: 'bird', ipip: 'Never', vxlan: 'Never' };
    case 'calico-ipip':
      return { backend: 'bird', ipip: 'Always', vxlan: 'Never' };
    case 'calico-vxlan':
      return { backend: 'vxlan', ipip: 'Never', vxlan: 'Always' };
    case 'calico-vxlan-crosssubnet':
      return { backend: 'vxlan', ipip: 'Never', vxlan: 'CrossSubnet' };
    default:
      throw new CniManifestError(`${mode.mode} is not a Calico mode.`);
  }
}

function setEnv(env: unknown, name: string, value: string): void {
  if (!isSeq(env)) throw new CniManifestError('calico-node has no env list.');
  const entry = env.items.find((i) => isMap(i) && i.get('name') === name);
  if (isMap(entry)) {
    entry.delete('valueFrom');
    entry.set('value', value);
  } else {
    const added = new YAMLMap();
    added.set('name', name);
    added.set('value', value);
    env.items.push(added);
  }
}

function dropProbeArg(container: YAMLMap, probe: string, arg: string): void {
  const command = container.getIn([probe, 'exec', 'command']);
  if (!isSeq(command)) return;
  command.items = command.items.filter((i) => !(i instanceof Scalar && i.value === arg));
}

/**
 * Calico's calico.yaml for the mode: `calico_backend` (bird for BGP and IPIP, vxlan
 * for the VXLAN modes), the default pool's `CALICO_IPV4POOL_IPIP` / `_VXLAN` / `_CIDR`
 * on calico-node, and no BIRD probes where BIRD does not run.
 */
export function calicoManifestFor(upstream: string, mode: KindLabModeInfo): string {
  const what = 'The Calico manifest';
  const s = calicoSettings(mode);
  const docs = parseStream(upstream, what);
  const cm = findObject(docs, 'ConfigMap', 'calico-config', what);
  cm.setIn(['data', 'calico_backend'], s.backend);
  const ds = findObject(docs, 'DaemonSet', 'calico-node', what);
  const containers = ds.getIn(['spec', 'template', 'spec', 'containers']);
  const node = isSeq(containers)
    ? containers.items.find((c): c is YAMLMap => isMap(c) && c.get('name') === 'calico-node')
    : undefined;
  if (!node)
    throw new CniManifestError(`${what}'s calico-node DaemonSet has no calico-node container.`);
  const env = node.get('env');
  setEnv(env, 'CALICO_IPV4POOL_IPIP', s.ipip);
  setEnv(env, 'CALICO_IPV4POOL_VXLAN', s.vxlan);
  // Upstream's calico-vxlan.yaml keeps the IPv6 pool's VXLAN mode in step with IPv4's.
  setEnv(env, 'CALICO_IPV6POOL_VXLAN', s.vxlan);
  setEnv(env, 'CALICO_IPV4POOL_CIDR', mode.podSubnet);
  if (s.backend === 'vxlan') {
    dropProbeArg(node, 'livenessProbe', '-bird-live');
    dropProbeArg(node, 'readinessProbe', '-bird-ready');
  }
  return stringifyStream(docs);
}
