/**
 * Reads Service manifests (one or many YAML documents, or a `kind: List`) into
 * the fields the explainer compares with the rules.
 */
import { parseAllDocuments } from 'yaml';
import type { ServiceSpec } from './types';

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function toSpec(doc: Json): ServiceSpec {
  const meta = obj(doc.metadata);
  const spec = obj(doc.spec);
  const status = obj(obj(doc.status).loadBalancer);
  const clusterIP = str(spec.clusterIP);
  const affinity = str(spec.sessionAffinity) === 'ClientIP';
  const timeout = num(obj(obj(spec.sessionAffinityConfig).clientIP).timeoutSeconds);
  return {
    namespace: str(meta.namespace) ?? 'default',
    name: str(meta.name) ?? '(unnamed)',
    type: str(spec.type) ?? 'ClusterIP',
    clusterIP: clusterIP && clusterIP !== 'None' ? clusterIP : null,
    externalIPs: arr(spec.externalIPs).flatMap((x) => str(x) ?? []),
    loadBalancerIPs: [
      ...arr(status.ingress).flatMap((i) => str(obj(i).ip) ?? []),
      ...(str(spec.loadBalancerIP) ? [str(spec.loadBalancerIP)!] : []),
    ],
    loadBalancerSourceRanges: arr(spec.loadBalancerSourceRanges).flatMap(
      (x) => str(x)?.trim() ?? [],
    ),
    externalTrafficPolicy: str(spec.externalTrafficPolicy) === 'Local' ? 'Local' : 'Cluster',
    internalTrafficPolicy: str(spec.internalTrafficPolicy) === 'Local' ? 'Local' : 'Cluster',
    // 10800 s is the API's default timeout for ClientIP affinity.
    affinitySeconds: affinity ? (timeout ?? 10800) : null,
    ports: arr(spec.ports).map((p) => {
      const o = obj(p);
      return {
        name: str(o.name) ?? '',
        port: num(o.port) ?? 0,
        protocol: (str(o.protocol) ?? 'TCP').toLowerCase(),
        nodePort: num(o.nodePort),
        targetPort: str(o.targetPort),
      };
    }),
  };
}

/**
 * Every Service in a YAML text (documents, `kind: List` items).
 *
 * @returns the Services and a message per document that could not be read.
 */
export function readServiceSpecs(text: string): { services: ServiceSpec[]; problems: string[] } {
  const services: ServiceSpec[] = [];
  const problems: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      problems.push(doc.errors[0]!.message.split('\n')[0]!);
      continue;
    }
    const root = obj(doc.toJS());
    const items = root.kind === 'List' ? arr(root.items).map(obj) : [root];
    for (const item of items) if (item.kind === 'Service') services.push(toSpec(item));
  }
  return { services, problems };
}
