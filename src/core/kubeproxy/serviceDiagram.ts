/**
 * A Mermaid flowchart of one explained Service port: each way in → the Service
 * → its endpoints with their shares and the NAT, and dashed edges to where
 * packets end otherwise (dropped, rejected, unmatched).
 */
import { flatLabel } from '../diagram/sequenceDiagram';
import { formatShare } from './summarizeService';
import type { EntryKind, ExplainedService, ServicePath, SourceKind } from './types';

const FROM: Record<SourceKind, string> = { pod: 'pod', node: 'node', outside: 'outside' };
const ENTRY: Record<EntryKind, string> = {
  'cluster-ip': 'cluster IP',
  'node-port': 'node port',
  'external-ip': 'external IP',
  'load-balancer': 'LB IP',
};

// The webview draws flowchart labels as SVG text (htmlLabels off), where Mermaid's entity
// codes (`#58;`) are not decoded back and would show as `&#58;`. Inside a quoted label only
// the quote, an entity-like `#…;`, a markdown backtick and angle brackets need care; they
// become look-alikes, and everything else (`:`, `%`, `|`, `{}`) is drawn as written.
const LOOKALIKE: Record<string, string> = { '"': "'", '`': "'", '#': '＃', '<': '‹', '>': '›' };

function label(s: string, max = 80): string {
  return `"${flatLabel(s, max).replace(/["`#<>]/g, (c) => LOOKALIKE[c] ?? '')}"`;
}

function endpointKey(p: ServicePath): string {
  return p.endpoints.map((e) => `${e.address}@${e.share.toFixed(6)}`).join(' ');
}

/**
 * Mermaid source for one Service port.
 *
 * @param s the explained Service port.
 */
export function buildServiceDiagram(s: ExplainedService): string {
  const lines = ['flowchart LR'];
  const svcText = [
    `${s.namespace}/${s.name}`,
    `port ${s.port}/${s.protocol}`,
    ...(s.affinitySeconds !== null ? [`ClientIP affinity ${s.affinitySeconds} s`] : []),
  ].join(' · ');
  lines.push(`  svc{{${label(svcText, 120)}}}`);
  const main = endpointKey({ endpoints: s.endpoints } as ServicePath);
  s.endpoints.forEach((e, i) => {
    lines.push(`  ep${i}[${label(e.address)}]`);
    const packets = e.packets !== undefined ? ` · ${e.packets} pkts` : '';
    lines.push(`  svc -->|${label(`${formatShare(e.share)} · DNAT${packets}`)}| ep${i}`);
  });
  const entries = new Map<string, string>();
  const ends = new Map<string, string>();
  const extraEndpoints = new Map<string, string>();
  const edges = new Map<
    string,
    { from: string; to: string; dashed: boolean; who: string[]; text: string }
  >();
  for (const p of s.paths) {
    let entryId = entries.get(p.address);
    if (!entryId) {
      entryId = `in${entries.size}`;
      entries.set(p.address, entryId);
      lines.push(`  ${entryId}([${label(`${ENTRY[p.entry]} ${p.address}`)}])`);
    }
    const cond = p.conditions.length ? ` (${p.conditions.join(', ')})` : '';
    const snat = p.masquerade ? ' · SNAT' : '';
    const add = (to: string, dashed: boolean, text: string): void => {
      const k = `${entryId}>${to}>${text}`;
      const e = edges.get(k);
      if (e) e.who.push(FROM[p.from]);
      else edges.set(k, { from: entryId, to, dashed, who: [FROM[p.from]], text });
    };
    if (p.outcome === 'dnat' && endpointKey(p) === main) {
      add('svc', false, `${cond}${snat}`);
    } else if (p.outcome === 'dnat') {
      for (const e of p.endpoints) {
        let id = extraEndpoints.get(e.address);
        if (!id) {
          const known = s.endpoints.findIndex((x) => x.address === e.address);
          id = known >= 0 ? `ep${known}` : `xep${extraEndpoints.size}`;
          if (known < 0) lines.push(`  ${id}[${label(e.address)}]`);
          extraEndpoints.set(e.address, id);
        }
        add(id, false, ` · ${formatShare(e.share)}${cond}${snat}`);
      }
    } else {
      const text =
        p.outcome === 'drop'
          ? 'dropped'
          : p.outcome === 'reject'
            ? 'rejected'
            : p.outcome === 'unmatched'
              ? 'no rule: leaves unchanged'
              : 'cannot be followed';
      const full = `${text}${p.note && p.outcome !== 'unmatched' ? `: ${p.note}` : ''}`;
      let id = ends.get(full);
      if (!id) {
        id = `end${ends.size}`;
        ends.set(full, id);
        lines.push(`  ${id}[/${label(full, 100)}/]`);
      }
      add(id, true, cond);
    }
  }
  for (const e of edges.values()) {
    const text = `${e.who.join(', ')}${e.text}`;
    lines.push(`  ${e.from} ${e.dashed ? '-.->' : '-->'}|${label(text)}| ${e.to}`);
  }
  return lines.join('\n');
}
