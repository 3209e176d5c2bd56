/**
 * The cluster's Service CIDR, from the first source that says it: the networking.k8s.io
 * ServiceCIDR objects (GA in Kubernetes 1.33; the apiserver creates the default one, named
 * `kubernetes`, from its flag), the `kube-system/kubeadm-config` ConfigMap
 * (`ClusterConfiguration.networking.serviceSubnet`), or the kube-apiserver static pod's
 * `--service-cluster-ip-range`. Managed clusters (EKS, GKE, AKS) usually expose none of these
 * to a normal user: then it is "not readable", never guessed.
 */
import { parse } from 'yaml';
import { arr, obj, objectRef, refText, str } from './objectFields';
import type { ClusterObjects, NetworkDetection } from './types';

export interface ServiceCidrReading {
  /** Every range, the primary (first of the default object, or of the flag) first. */
  cidrs: string[];
  /** One sentence naming the object that said so, or why it could not be read. */
  evidence: string;
}

const CIDR = /^(?:\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*\/\d{1,3})$/;

/** Comma-separated ranges (dual-stack), keeping only what looks like a CIDR. */
function splitCidrs(text: string | null): string[] {
  return (text ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => CIDR.test(c));
}

function fromServiceCidrObjects(items: readonly unknown[]): ServiceCidrReading | null {
  const named = items
    .map((o) => ({
      name: objectRef(o, 'ServiceCIDR').name,
      cidrs: arr(obj(obj(o)['spec'])['cidrs']),
    }))
    .map((o) => ({ name: o.name, cidrs: o.cidrs.map(str).flatMap((c) => splitCidrs(c)) }))
    .filter((o) => o.cidrs.length > 0)
    // The default object first: it holds the apiserver's own range.
    .sort((a, b) => Number(b.name === 'kubernetes') - Number(a.name === 'kubernetes'));
  if (named.length === 0) return null;
  const cidrs = [...new Set(named.flatMap((o) => o.cidrs))];
  const said = named.map((o) => `'${o.name}' ${o.cidrs.join(', ')}`).join('; ');
  return {
    cidrs,
    evidence: `Service CIDR ${cidrs.join(', ')}: ServiceCIDR ${said} (spec.cidrs)`,
  };
}

function fromKubeadmConfig(configMaps: readonly unknown[]): ServiceCidrReading | null {
  for (const cm of configMaps) {
    const ref = objectRef(cm, 'ConfigMap');
    if (ref.name !== 'kubeadm-config' || (ref.namespace ?? 'kube-system') !== 'kube-system') {
      continue;
    }
    const text = str(obj(obj(cm)['data'])['ClusterConfiguration']);
    let conf: unknown = null;
    try {
      conf = parse(text ?? '', { prettyErrors: false });
    } catch {
      conf = null;
    }
    const subnet = str(obj(obj(conf)['networking'])['serviceSubnet']);
    const cidrs = splitCidrs(subnet);
    if (cidrs.length > 0) {
      return {
        cidrs,
        evidence: `Service CIDR ${cidrs.join(', ')}: ${refText(ref)} ClusterConfiguration networking.serviceSubnet`,
      };
    }
  }
  return null;
}

/** `--service-cluster-ip-range=X` or `--service-cluster-ip-range X` in command + args. */
function flagValue(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a.startsWith('--service-cluster-ip-range=')) return a.slice(a.indexOf('=') + 1);
    if (a === '--service-cluster-ip-range') return argv[i + 1] ?? null;
  }
  return null;
}

function fromApiServerPods(pods: readonly unknown[]): ServiceCidrReading | null {
  for (const pod of pods) {
    for (const c of arr(obj(obj(pod)['spec'])['containers'])) {
      const container = obj(c);
      const argv = [...arr(container['command']), ...arr(container['args'])]
        .map(str)
        .filter((s): s is string => s !== null);
      const cidrs = splitCidrs(flagValue(argv));
      if (cidrs.length > 0) {
        return {
          cidrs,
          evidence: `Service CIDR ${cidrs.join(', ')}: ${refText(objectRef(pod, 'Pod'))} --service-cluster-ip-range`,
        };
      }
    }
  }
  return null;
}

/**
 * The Service CIDR from ServiceCIDR objects, else kubeadm-config, else the kube-apiserver
 * pod's flag; `cidrs` is empty when none of them says it. Never throws on malformed objects.
 */
export function readServiceCidr(objects: Partial<ClusterObjects>): ServiceCidrReading {
  return (
    fromServiceCidrObjects(arr(objects.serviceCidrs)) ??
    fromKubeadmConfig(arr(objects.configMaps)) ??
    fromApiServerPods(arr(objects.apiServerPods)) ?? {
      cidrs: [],
      evidence:
        'Service CIDR not readable: no ServiceCIDR object, no kube-system/kubeadm-config ConfigMap and no kube-apiserver pod with --service-cluster-ip-range could be read',
    }
  );
}

/**
 * `detection` with the Service CIDR added: `details.serviceCIDR` (the primary range) and
 * `details.serviceCIDRs` (all, dual-stack) when readable, absent otherwise; one evidence line
 * either way.
 */
export function withServiceCidr(
  detection: NetworkDetection,
  objects: Partial<ClusterObjects>,
): NetworkDetection {
  const reading = readServiceCidr(objects);
  const details = { ...detection.details };
  if (reading.cidrs.length > 0) {
    details['serviceCIDR'] = reading.cidrs[0];
    details['serviceCIDRs'] = reading.cidrs;
  }
  return { ...detection, details, evidence: [...detection.evidence, reading.evidence] };
}
