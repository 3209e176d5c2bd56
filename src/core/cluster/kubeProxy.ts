/**
 * kube-proxy's mode: the KubeProxyConfiguration in `kube-system/kube-proxy`
 * (`config.conf`, kubeadm and kind) or `kube-system/kube-proxy-config` (`config`,
 * EKS), overridden by a `--proxy-mode` flag on the DaemonSet; `none` when there is
 * no kube-proxy and Cilium replaces it.
 */
import { parse } from 'yaml';
import { isObject, refText, str } from './objectFields';
import { ciliumReplacesKubeProxy, readCiliumConfig } from './otherCnis';
import type { ClusterObjects, KubeProxyDetection, KubeProxyMode } from './types';
import { configMapsNamed, daemonSetView } from './workloads';

const CONFIG_MAPS: readonly { name: string; keys: readonly string[] }[] = [
  { name: 'kube-proxy', keys: ['config.conf'] },
  { name: 'kube-proxy-config', keys: ['config', 'config.conf', 'kube-proxy-config.yaml'] },
];

function parseYaml(text: string): unknown {
  try {
    return parse(text, { prettyErrors: false });
  } catch {
    return null;
  }
}

/** `''` and an absent mode are iptables on Linux (kube-proxy's default). */
function modeFromText(text: string): KubeProxyMode {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'iptables') return 'iptables';
  if (t === 'ipvs' || t === 'nftables') return t;
  return 'unknown';
}

/** The `--proxy-mode` flag of the kube-proxy container, if any. */
function flagMode(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const m = /^--proxy-mode=(.*)$/.exec(a);
    if (m) return m[1] ?? '';
    if (a === '--proxy-mode' && i + 1 < args.length) return args[i + 1] ?? '';
  }
  return null;
}

/** kube-proxy's mode from its ConfigMap, DaemonSet and Cilium's config; never throws. */
export function detectKubeProxy(objects: ClusterObjects): KubeProxyDetection {
  const evidence: string[] = [];
  let mode: KubeProxyMode | null = null;
  let clusterCIDR: string | undefined;

  for (const { name, keys } of CONFIG_MAPS) {
    const cm = configMapsNamed(objects.configMaps, name, ['kube-system']).find(
      (c) => c.ref.namespace === 'kube-system' || c.ref.namespace === null,
    );
    if (!cm) continue;
    for (const key of keys) {
      const text = cm.data[key];
      if (text === undefined) continue;
      const conf = parseYaml(text);
      if (!isObject(conf)) {
        evidence.push(`${refText(cm.ref)} ${key} is not a YAML mapping`);
        continue;
      }
      const raw = conf['mode'];
      const modeText = raw === undefined || raw === null ? '' : (str(raw) ?? '?');
      const found = modeFromText(modeText);
      evidence.push(
        `${refText(cm.ref)} ${key} mode: ${JSON.stringify(modeText)}${modeText.trim() === '' ? ' (empty = iptables)' : ''}`,
      );
      mode ??= found;
      const cidr = str(conf['clusterCIDR']);
      if (cidr) clusterCIDR ??= cidr;
      break;
    }
  }

  const ds = objects.daemonSets
    .map(daemonSetView)
    .find(
      (d) =>
        d.ref.name === 'kube-proxy' &&
        d.containers.some((c) => /kube-proxy/.test(c.image) || c.name === 'kube-proxy'),
    );
  if (ds) {
    const container = ds.containers.find((c) => c.name === 'kube-proxy') ?? ds.containers[0];
    const flag = container ? flagMode([...container.command, ...container.args]) : null;
    if (flag !== null) {
      evidence.push(`${refText(ds.ref)} container ${container?.name ?? '?'} --proxy-mode=${flag}`);
      // Read only when no ConfigMap gave the mode: which of the two kube-proxy obeys has changed
      // across releases, and the ConfigMap is what kubeadm, kind and EKS document.
      mode ??= modeFromText(flag);
    } else {
      evidence.push(`${refText(ds.ref)} runs kube-proxy`);
    }
  }

  if (mode !== null) return { mode, evidence, ...(clusterCIDR ? { clusterCIDR } : {}) };

  const cilium = readCiliumConfig(objects);
  if (!ds && cilium && ciliumReplacesKubeProxy(cilium.kubeProxyReplacement)) {
    evidence.push(
      `No kube-proxy DaemonSet or ConfigMap, and ${cilium.ref} kube-proxy-replacement=${cilium.kubeProxyReplacement ?? ''}`,
    );
    return { mode: 'none', evidence };
  }
  if (ds) evidence.push('The kube-proxy DaemonSet was found but its mode could not be read');
  else
    evidence.push('No kube-proxy DaemonSet or ConfigMap was read and nothing replaces kube-proxy');
  return { mode: 'unknown', evidence };
}
