/**
 * Detection entry points: which CNI a cluster runs and in which mode, and how
 * kube-proxy serves Services, from several signals read together (DaemonSets,
 * ConfigMaps, IP pools, the operator's Installation, node annotations). A single
 * name never decides: a DaemonSet counts only when its image is the CNI's, and when
 * two CNIs leave traces the one with more kinds of signal wins and the other is
 * reported under `details.alsoSeen`.
 */
import { detectCalico } from './calico';
import { detectFlannel } from './flannel';
import { detectCilium, detectKindnet, detectOtherCnis } from './otherCnis';
import type { CniSignals } from './signals';
import type { ClusterObjects, NetworkDetection } from './types';

export { detectKubeProxy } from './kubeProxy';
export { summarizeNode, summarizePod, providerFromId } from './summaries';
export { planInputFromCluster } from './clusterPlan';
export { readServiceCidr, withServiceCidr } from './serviceCidr';

function withLists(objects: Partial<ClusterObjects> | null | undefined): ClusterObjects {
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const o = objects ?? {};
  return {
    nodes: list(o.nodes),
    daemonSets: list(o.daemonSets),
    configMaps: list(o.configMaps),
    ipPools: list(o.ipPools),
    installations: list(o.installations),
  };
}

/**
 * The CNI and datapath mode of a cluster, with what was read and which object said
 * so. CNIs Podpath has no datapath for are named in `details` and marked "not
 * modelled by Podpath yet"; nothing is guessed. Never throws on malformed objects.
 */
export function detectNetwork(objects: ClusterObjects): NetworkDetection {
  const all = withLists(objects);
  const found: CniSignals[] = [
    detectCilium(all),
    detectCalico(all),
    detectFlannel(all),
    detectKindnet(all),
    ...detectOtherCnis(all),
  ].filter((s): s is CniSignals => s !== null);

  if (found.length === 0) {
    return {
      cni: 'unknown',
      mode: null,
      details: {},
      evidence: [
        'No DaemonSet, ConfigMap, IP pool, Installation or node annotation of a CNI Podpath knows was found',
      ],
    };
  }
  const dominant = found.find((s) => s.dominates);
  const ranked = dominant ? [dominant] : [...found].sort((a, b) => b.kinds.size - a.kinds.size);
  const best = ranked[0] as CniSignals;
  const rivals = found.filter((s) => s !== best);
  const tied = !dominant && rivals.some((s) => s.kinds.size === best.kinds.size);
  const details: Record<string, unknown> = { ...best.details };
  const evidence = [...best.evidence];
  if (rivals.length > 0) {
    details['alsoSeen'] = rivals.map((s) => s.name);
    for (const r of rivals) evidence.push(...r.evidence.map((e) => `(${r.name}) ${e}`));
  }
  if (tied) {
    const names = [best, ...rivals.filter((s) => s.kinds.size === best.kinds.size)].map(
      (s) => s.name,
    );
    return {
      cni: 'unknown',
      mode: null,
      details: {
        candidates: names,
        notModelled: `Traces of ${names.join(' and ')} weigh the same, so Podpath does not pick one.`,
      },
      evidence,
    };
  }
  return { cni: best.cni, mode: best.mode, details, evidence };
}
