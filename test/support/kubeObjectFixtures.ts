/**
 * Loads the recorded Kubernetes objects in test/fixtures/kube-objects (YAML with one
 * or many documents, JSON objects, `List`s and KubeSphere's `{items, totalItems}`
 * wrapper) and sorts them into the lists detection takes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ClusterObjects } from '../../src/core/cluster/types';

export const KUBE_OBJECTS = join(__dirname, '..', 'fixtures', 'kube-objects');

type Json = Record<string, unknown>;

function flatten(doc: unknown): Json[] {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return [];
  const o = doc as Json;
  if (Array.isArray(o['items'])) return o['items'].flatMap(flatten);
  return [o];
}

/** Every object in the fixture files, in file order. */
export function readKubeObjects(...files: string[]): Json[] {
  const out: Json[] = [];
  for (const file of files) {
    const text = readFileSync(join(KUBE_OBJECTS, file), 'utf8');
    if (file.endsWith('.json')) out.push(...flatten(JSON.parse(text)));
    else for (const d of parseAllDocuments(text)) out.push(...flatten(d.toJS()));
  }
  return out;
}

/** The objects of `files` sorted as the cluster reader would deliver them. */
export function clusterObjects(...files: string[]): ClusterObjects & { pods: Json[] } {
  const objects = readKubeObjects(...files);
  const of = (kind: string, api: RegExp) =>
    objects.filter((o) => o['kind'] === kind && api.test(String(o['apiVersion'] ?? '')));
  return {
    // Calico's own v3 `Node` kind is not a Kubernetes Node.
    nodes: of('Node', /^v1$/),
    daemonSets: of('DaemonSet', /^(apps|extensions)\//),
    configMaps: of('ConfigMap', /^v1$/),
    ipPools: of('IPPool', /projectcalico\.org\//),
    installations: of('Installation', /^operator\.tigera\.io\//),
    pods: of('Pod', /^v1$/),
  };
}
