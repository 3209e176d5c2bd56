/**
 * The entry point: rules text (any of the three modes) + optional Service
 * manifests → the explanation, and its JSON projection for the CLI.
 */
import { explainIptables } from './explainIptables';
import { explainIpvs } from './explainIpvs';
import { explainNftables } from './explainNftables';
import { looksLikeIpvs, parseIpvsState } from './ipvsRules';
import { parseNftables } from './nftablesRules';
import {
  looksLikeIptablesListing,
  looksLikeIptablesSave,
  parseIptablesListing,
  parseIptablesSave,
} from './iptablesRules';
import type {
  KubeProxyMode,
  ServiceExplanation,
  ServiceExplanationJson,
  ServiceSpec,
} from './types';

/** Which kube-proxy mode wrote these rules, from their shape. */
export function detectKubeProxyMode(text: string): KubeProxyMode | null {
  if (/^\s*\{\s*"nftables"/.test(text) || /\btable (?:ip6?|inet) kube-proxy\b/.test(text))
    return 'nftables';
  if (looksLikeIpvs(text) || /^\s*(?:TCP|UDP|SCTP)\s+\S+:\d+\s+\w+/m.test(text)) return 'ipvs';
  if (looksLikeIptablesSave(text) || looksLikeIptablesListing(text)) return 'iptables';
  return null;
}

export interface ExplainOptions {
  /** `namespace/name` to keep only one Service. */
  service?: string;
  specs?: readonly ServiceSpec[];
}

/**
 * Explains every Service the rules (and manifests) mention.
 *
 * @param text the rules as dumped on a node.
 * @throws never: unreadable input gives an explanation with no services and the lines in `unread`.
 */
export function explainServices(text: string, options: ExplainOptions = {}): ServiceExplanation {
  const specs = options.specs ?? [];
  const mode = detectKubeProxyMode(text);
  let result: ServiceExplanation;
  if (mode === 'iptables' || mode === null) {
    const rules = looksLikeIptablesSave(text)
      ? parseIptablesSave(text)
      : parseIptablesListing(text);
    const { services, notes } = explainIptables(rules, specs);
    result = {
      mode: 'iptables',
      services,
      unread: rules.unread,
      notes: [...rules.notes, ...notes],
    };
    if (mode === null)
      result.notes.unshift(
        'these rules do not look like kube-proxy iptables, nftables or IPVS output',
      );
  } else if (mode === 'nftables') {
    const nft = parseNftables(text);
    const { services, notes } = explainNftables(nft, specs);
    result = { mode, services, unread: nft.unread, notes: [...nft.notes, ...notes] };
  } else {
    const state = parseIpvsState(text);
    const { services, notes } = explainIpvs(state, specs);
    result = { mode, services, unread: state.unread, notes: [...state.iptables.notes, ...notes] };
  }
  if (options.service) {
    const [ns, name] = options.service.includes('/')
      ? options.service.split('/', 2)
      : ['default', options.service];
    result.services = result.services.filter((s) => s.namespace === ns && s.name === name);
  }
  return result;
}

/** The `--json` shape: exactly the fields the CLI promises. */
export function toExplanationJson(e: ServiceExplanation): ServiceExplanationJson {
  return {
    mode: e.mode,
    services: e.services.map((s) => ({
      namespace: s.namespace,
      name: s.name,
      port: s.port,
      protocol: s.protocol,
      clusterIP: s.clusterIP,
      nodePort: s.nodePort,
      externalIPs: s.externalIPs,
      endpoints: s.endpoints.map((p) => ({ address: p.address, share: p.share })),
      affinitySeconds: s.affinitySeconds,
      masquerade: s.masquerade,
      findings: s.findings,
    })),
    unread: e.unread,
  };
}
