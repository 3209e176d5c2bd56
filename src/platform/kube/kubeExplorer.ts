/**
 * What the Clusters view loads on first use, bundled on its own as dist/kube.js (esbuild.mjs):
 * client-node is most of the code, and nothing else needs it at activation.
 */
export { kubeconfigFiles, readKubeContexts } from './kubeconfig';
export {
  loadKubeConfigSet,
  KubeError,
  type KubeConfigSet,
  type KubeContextEntry,
} from './kubeClient';
export { ClusterSession, type SessionChange, type NetworkPicture } from './clusterSession';
export { livePlanInput, type LivePlan } from './networkPlan';
export type { ConnectionState } from './liveList';
export {
  tracePods,
  TraceError,
  parseTraceProbe,
  type TraceProbe,
  type TraceResult,
  type TraceStep,
  type TraceNode,
  type TraceNodeShell,
  type TracePodsOptions,
} from '../trace/podTrace';
export { readNodeRules, openNodeShell, type NodeRules, type OpenedNodeShell } from './nodeRules';
