/** What one CNI detector found: enough to choose between CNIs when several leave traces. */
import type { DetectedCni, DetectedNetworkMode } from './types';

export interface CniSignals {
  cni: DetectedCni;
  /** Human name, e.g. `Flannel`, `Weave Net`. */
  name: string;
  /** Distinct kinds of signal seen (DaemonSet, ConfigMap, pools, node annotations…). */
  kinds: Set<string>;
  /** Wins over every other CNI's traces (a CNI assembled from others' parts). */
  dominates?: boolean;
  mode: DetectedNetworkMode | null;
  details: Record<string, unknown>;
  evidence: string[];
}

/** The sentence put in `details.notModelled` for CNIs and modes Podpath has no datapath for. */
export function notModelled(what: string): string {
  return `${what} is not modelled by Podpath yet.`;
}
