/**
 * "Show datapath for this workload": the datapath plan for a Pod, Deployment or DaemonSet
 * manifest, shaped by what the manifest says (namespace, labels, replicas, hostNetwork, the
 * node it is pinned to, its ports and the Services that select it) and by the CNI mode,
 * taken from the caller, the connected cluster or an open Flannel/Calico manifest, in that
 * order. Addresses stay the lab's (a manifest has none); names and numbers that the
 * manifest gives are used.
 */
import { buildDatapathPlan, defaultPlanInput } from '../datapath/plans';
import { PlanInputError } from '../datapath/planInput';
import type { CniMode, DatapathPlan, PlanInput, Probe } from '../datapath/types';
import type { ServiceManifest, WorkloadManifest } from './types';

/** A CNI mode and where it was learnt, for the note that says so. */
export interface ModeFrom {
  mode: CniMode;
  /** Said after "from", e.g. `the connected cluster kind-podpath`. */
  from: string;
}

export interface WorkloadDatapathInput {
  workload: WorkloadManifest;
  /** Services Podpath can see (open manifests); those selecting the workload's pods count. */
  services?: readonly ServiceManifest[];
  /** A mode the person picked or the caller passed: wins over everything else. */
  given?: CniMode;
  /** The mode detected on the cluster Podpath is connected to. */
  cluster?: ModeFrom;
  /** The mode of a Flannel ConfigMap or Calico IPPool open in the editor. */
  manifest?: ModeFrom;
}

export type WorkloadDatapath =
  | { kind: 'plan'; plan: DatapathPlan; mode: CniMode; notes: string[] }
  /** No mode is known: ask the person, then call again with `given`. */
  | { kind: 'needs-mode'; question: string }
  /** hostNetwork pods are not on the pod network: there is no pod datapath to draw. */
  | { kind: 'not-pod-network'; reason: string };

function describe(w: WorkloadManifest): string {
  return `${w.workloadKind} ${w.name ?? '(unnamed)'}`;
}

/** `app=web,tier=front` for kubectl -l, or null when there are no labels. */
function selectorText(labels: Record<string, string>): string | null {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? parts.join(',') : null;
}

/** The labels that pick this workload's pods: its selector, else its pods' labels. */
function podSelector(w: WorkloadManifest): Record<string, string> {
  return w.selector && Object.keys(w.selector).length > 0 ? w.selector : w.labels;
}

/** Services in the workload's namespace whose selector matches the pods' labels. */
function selectingServices(
  w: WorkloadManifest,
  services: readonly ServiceManifest[],
): ServiceManifest[] {
  const ns = w.namespace ?? 'default';
  return services.filter((s) => {
    const entries = Object.entries(s.selector);
    return (
      (s.namespace ?? 'default') === ns &&
      entries.length > 0 &&
      entries.every(([k, v]) => w.labels[k] === v)
    );
  });
}

/** The TCP port a probe should use: a selecting Service's target port, else a container port. */
function probePort(
  w: WorkloadManifest,
  services: readonly ServiceManifest[],
): { port: number; why: string } | null {
  const tcp = w.ports.filter((p) => p.protocol.toUpperCase() === 'TCP');
  for (const s of services) {
    for (const sp of s.ports) {
      if (sp.protocol.toUpperCase() !== 'TCP') continue;
      const target = sp.targetPort;
      const numeric = target !== null && /^\d+$/.test(target) ? Number(target) : null;
      const named = target !== null ? tcp.find((p) => p.name === target) : undefined;
      const port = numeric ?? named?.containerPort ?? sp.port;
      if (port !== null && port >= 1 && port <= 65535) {
        return { port, why: `Service ${s.name ?? '(unnamed)'} port ${sp.port ?? '?'} → ${port}` };
      }
    }
  }
  const first = tcp.find((p) => p.containerPort >= 1 && p.containerPort <= 65535);
  return first ? { port: first.containerPort, why: `containerPort ${first.containerPort}` } : null;
}

function chooseMode(input: WorkloadDatapathInput): ModeFrom | undefined {
  if (input.given) return { mode: input.given, from: 'your choice' };
  return input.cluster ?? input.manifest;
}

/**
 * Plans the datapath for a workload manifest.
 *
 * @param input the workload, the Services that may select it, and what is known of the CNI
 *   mode (given > connected cluster > open manifest).
 * @returns the plan with notes that say which parts came from the manifest; `needs-mode`
 *   when no mode is known; `not-pod-network` for hostNetwork pods. Never throws.
 */
export function workloadDatapath(input: WorkloadDatapathInput): WorkloadDatapath {
  const w = input.workload;
  const ns = w.namespace ?? 'default';
  if (w.hostNetwork) {
    return {
      kind: 'not-pod-network',
      reason:
        `${describe(w)} uses hostNetwork: its pods share their node's network namespace, so ` +
        `their traffic leaves through the node's own interfaces (no veth, bridge or tunnel of ` +
        `the pod network). Podpath plans pod-to-pod datapaths; capture on the node's interface.`,
    };
  }
  const chosen = chooseMode(input);
  if (!chosen) return { kind: 'needs-mode', question: `Which CNI runs ${describe(w)}?` };
  const { mode } = chosen;

  const notes: string[] = [];
  const services = selectingServices(w, input.services ?? []);
  const port = probePort(w, services);
  const probe: Probe = port ? { protocol: 'tcp', port: port.port } : { protocol: 'icmp' };

  // Who talks to whom, and whether they share a node: a Deployment pinned to one node has
  // all its replicas there.
  const pinned = w.nodeName !== null && w.workloadKind !== 'DaemonSet' ? w.nodeName : null;
  const replicas = w.workloadKind === 'Deployment' ? (w.replicas ?? 1) : 1;
  const sameNode = pinned !== null && replicas >= 2;
  let placement: string;
  if (w.workloadKind === 'DaemonSet') {
    placement = 'podA and podB are two of its pods, one per node, so the path is cross-node';
  } else if (sameNode) {
    placement = `podA and podB are two of its ${replicas} replicas, both on the node it pins`;
  } else if (replicas >= 2) {
    placement =
      `podA and podB are two of its ${replicas} replicas; shown cross-node ` +
      `(the scheduler may also put both on one node, a shorter path)`;
  } else {
    placement = 'podB is its pod and podA a client pod on another node';
  }
  notes.push(`${describe(w)} in namespace ${ns}: ${placement}, under ${mode}.`);

  const base = defaultPlanInput(mode, { sameNode, probe });
  let planInput: PlanInput = base;
  const renamed = sameNode ? base.source.node : base.destination.node;
  if (pinned !== null && !base.nodes.some((n) => n.name === pinned)) {
    const rename = (node: string): string => (node === renamed ? pinned : node);
    planInput = {
      ...base,
      source: { ...base.source, node: rename(base.source.node) },
      destination: { ...base.destination, node: rename(base.destination.node) },
      nodes: base.nodes.map((n) => ({ ...n, name: rename(n.name) })),
    };
  }
  let plan: DatapathPlan;
  try {
    plan = buildDatapathPlan(planInput);
    if (pinned !== null) notes.push(`The manifest pins its pods to node ${pinned}.`);
  } catch (err) {
    if (!(err instanceof PlanInputError)) throw err;
    plan = buildDatapathPlan(base);
    notes.push(`The manifest pins node ${pinned ?? '?'}, a name Podpath cannot use here.`);
  }

  notes.push(`CNI mode ${mode} from ${chosen.from}.`);
  const selector = selectorText(podSelector(w));
  notes.push(
    selector
      ? `Its pods and their nodes: kubectl get pods -n ${ns} -l ${selector} -o wide`
      : `It has no labels: find its pods with kubectl get pods -n ${ns} -o wide`,
  );
  for (const s of services) {
    notes.push(
      `Service ${s.name ?? '(unnamed)'} (${s.type}) selects these pods: a connection to it is ` +
        `DNAT-ed by kube-proxy to a pod IP on the client's node, so the hops carry pod addresses.`,
    );
  }
  notes.push(
    port
      ? `The probe is TCP port ${port.port} (${port.why}); the capture filters say so.`
      : 'The probe is ICMP: the manifest declares no TCP port.',
  );
  return { kind: 'plan', plan, mode, notes };
}
