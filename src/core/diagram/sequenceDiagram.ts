/**
 * Mermaid `sequenceDiagram` text for a datapath: one participant per hop
 * location, one message per hop transition, labelled from the plan and, when a
 * correlation report is given, with what was observed. The first hop where the
 * probe was not seen gets a lost-message arrow and a note; the hops after it are
 * drawn dashed on a grey band.
 *
 * Names and labels come from users, clusters and captures, so every piece of
 * text goes through escapeMermaidText: it can neither end a statement, start a
 * comment or directive, nor reach the rendered SVG as markup.
 */
import { parseHopName } from '../datapath/hopName';
import type { DatapathPlan, HopLocation, PlanHop } from '../datapath/types';
import type { AnalysisReport, HopReport } from '../hops/types';

export interface SequenceDiagramInput {
  plan?: DatapathPlan;
  report?: Omit<AnalysisReport, 'diagram'>;
  hopNames?: string[];
  title?: string;
}

interface DiagramHop {
  name: string;
  location: HopLocation;
  iface: string;
  /** 1-based; from the name when it carries one. */
  index: number;
  plan?: PlanHop;
  report?: HopReport;
}

const MAX_NAME = 80;
const MAX_LABEL = 160;
const INDENT = '    ';
const GREY_BAND = 'rect rgba(128, 128, 128, 0.15)';

// Mermaid's own entity syntax (`#name;` / `#code;`): decoded to HTML entities after
// parsing, so the character shows but never acts as syntax or markup.
const ENTITIES: Record<string, string> = {
  '#': '#35;',
  ';': '#59;',
  ':': '#58;',
  '<': '#lt;',
  '>': '#gt;',
  '&': '#amp;',
  '"': '#quot;',
  "'": '#39;',
  '`': '#96;',
  '%': '#37;',
  $: '#36;',
  '\\': '#92;',
  '{': '#123;',
  '}': '#125;',
  '|': '#124;',
};

/**
 * Makes `s` safe as a Mermaid sequence-diagram alias, title, note or message:
 * line breaks and control characters become spaces, invisible and bidi
 * characters are dropped, the text is cut to `maxLength` characters (with `…`),
 * and every character Mermaid or HTML treats as syntax (`# ; : < > & " ' \` % $ \ { } |`)
 * becomes a Mermaid entity code. Words such as `end` or `participant` need no
 * change: the text never starts a statement.
 */
export function escapeMermaidText(s: string, maxLength: number = MAX_NAME): string {
  return flatLabel(s, maxLength).replace(/[#;:<>&"'`%$\\{}|]/g, (c) => ENTITIES[c] ?? '');
}

/**
 * Text on one line for a diagram label: format characters (zero-width, bidi overrides, which
 * could disguise a name) dropped, control and line-separator characters and runs of white
 * space made one space, and cut to `maxLength` characters with an ellipsis. Escaping the
 * result for its diagram is the caller's part.
 */
export function flatLabel(s: string, maxLength: number): string {
  const flat = String(s)
    .replace(/\p{Cf}/gu, '')
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(flat);
  return chars.length > maxLength ? `${chars.slice(0, maxLength - 1).join('')}…` : flat;
}

function num(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? String(n) : '?';
}

function locationKey(l: HopLocation): string {
  return `${l.kind}\u0000${l.name}`;
}

function reportMatcher(report: SequenceDiagramInput['report'], names: string[]) {
  const hops = report?.hops ?? [];
  const byName = new Map(hops.map((h) => [h.name, h]));
  // Captures named differently from the plan (a user's files) line up by position.
  const byPosition = !names.some((n) => byName.has(n));
  return (name: string, i: number): HopReport | undefined =>
    byPosition ? hops[i] : byName.get(name);
}

function diagramHops(input: SequenceDiagramInput): DiagramHop[] {
  if (input.plan) {
    const match = reportMatcher(
      input.report,
      input.plan.hops.map((h) => h.name),
    );
    return input.plan.hops.map((h, i) => {
      const report = match(h.name, i);
      return {
        name: h.name,
        location: h.location,
        iface: h.interface,
        index: parseHopName(h.name).index ?? i + 1,
        plan: h,
        ...(report ? { report } : {}),
      };
    });
  }
  const names = input.report?.hops.map((h) => h.name) ?? input.hopNames ?? [];
  return names.map((name, i) => {
    const parsed = parseHopName(name);
    const report = input.report?.hops[i];
    return {
      name,
      location: parsed.location,
      iface: parsed.interface,
      index: parsed.index ?? i + 1,
      ...(report ? { report } : {}),
    };
  });
}

function participantAlias(location: HopLocation, plan: DatapathPlan | undefined): string {
  const ep = [plan?.source, plan?.destination].find(
    (e) => e !== undefined && e.name === location.name && location.kind === 'pod',
  );
  return ep ? `${location.name} ${ep.ip}` : location.name;
}

function hopTag(h: DiagramHop): string {
  return h.iface ? `${String(h.index).padStart(2, '0')} ${h.iface}` : h.name;
}

/**
 * The plan's label without the interface the hop tag already names: `02 cni0 · bridged`,
 * not `02 cni0 · bridged (cni0)`; `02 cali1f5c8e2a9b3 · veth`, not `· veth → cali1f5c8e2a9b3`.
 */
function planLabel(h: DiagramHop): string {
  const label = h.plan?.label ?? '';
  if (!h.iface) return label;
  for (const tail of [` (${h.iface})`, ` → ${h.iface}`]) {
    if (label.endsWith(tail)) return label.slice(0, -tail.length);
  }
  return label;
}

function encapText(r: HopReport): string {
  const e = r.encapsulation;
  if (!e) return '';
  const parts = [
    `${e.type.toUpperCase()} encap${r.overheadBytes !== null ? ` +${num(r.overheadBytes)} B` : ''}`,
  ];
  if (e.dstPort !== null) parts.push(`UDP ${num(e.dstPort)}`);
  if (e.vni !== null) parts.push(`VNI ${num(e.vni)}`);
  return parts.join(', ');
}

/** What was seen at `h`, relative to the hop before it. */
function observedText(h: DiagramHop, prev: DiagramHop | undefined, firstProbes: number): string {
  const r = h.report;
  if (!r) return h.plan ? `${planLabel(h)} (no capture)` : 'no capture';
  const p = prev?.report;
  const parts: string[] = [];
  const action = h.plan?.action;
  if (r.encapsulation && !p?.encapsulation) parts.push(encapText(r));
  else if (!r.encapsulation && p?.encapsulation) parts.push('decap');
  else if (action && action !== 'encapsulated' && action !== 'decapsulated') {
    parts.push(action === 'origin' ? 'sent' : action);
  }
  if (r.ttl !== null) {
    parts.push(
      p && p.ttl !== null && p.ttl !== r.ttl
        ? `TTL ${num(p.ttl)}→${num(r.ttl)}`
        : `TTL ${num(r.ttl)}`,
    );
    if (h.plan && r.ttl !== h.plan.expectedTtl)
      parts.push(`expected TTL ${num(h.plan.expectedTtl)}`);
  }
  const planned = h.plan?.encapsulation?.overheadBytes;
  if (planned !== undefined && r.overheadBytes !== null && r.overheadBytes !== planned) {
    parts.push(`expected +${num(planned)} B`);
  }
  parts.push(
    firstProbes > 0 ? `seen ${num(r.probesSeen)}/${num(firstProbes)}` : `${num(r.packets)} pkts`,
  );
  return parts.join(', ');
}

function firstMissing(hops: DiagramHop[], report: SequenceDiagramInput['report']): number {
  if (!report) return -1;
  if (report.firstMissingHop !== null) {
    const named = hops.findIndex((h) => h.name === report.firstMissingHop);
    if (named >= 0) return named;
  }
  return hops.findIndex((h) => h.report !== undefined && !h.report.seen);
}

/**
 * Mermaid sequence diagram text for a plan, a correlation report, or bare hop
 * names (locations then come from parseHopName). Ends with a newline.
 */
export function buildSequenceDiagram(input: SequenceDiagramInput): string {
  const hops = diagramHops(input);
  const lines = ['sequenceDiagram'];
  const title = escapeMermaidText(input.title ?? input.plan?.title ?? '');
  if (title) lines.push(`${INDENT}title ${title}`);

  const ids = new Map<string, string>();
  for (const h of hops) {
    const key = locationKey(h.location);
    if (ids.has(key)) continue;
    const id = `P${ids.size + 1}`;
    ids.set(key, id);
    const alias = escapeMermaidText(participantAlias(h.location, input.plan));
    lines.push(`${INDENT}participant ${id}${alias ? ` as ${alias}` : ''}`);
  }
  const idOf = (h: DiagramHop): string => ids.get(locationKey(h.location)) ?? 'P0';
  const first = hops[0];
  if (!first) return `${lines.join('\n')}\n`;

  const report = input.report;
  const firstProbes = first.report?.probesSeen ?? 0;
  const missing = firstMissing(hops, report);
  const label = (h: DiagramHop, text: string): string =>
    escapeMermaidText(`${hopTag(h)} · ${text}`, MAX_LABEL);
  const describe = (h: DiagramHop, prev: DiagramHop | undefined): string =>
    report || h.plan
      ? label(h, report ? observedText(h, prev, firstProbes) : planLabel(h))
      : escapeMermaidText(hopTag(h), MAX_LABEL);
  const notSeenNote = (h: DiagramHop): string =>
    `${INDENT}Note over ${idOf(h)}: ${escapeMermaidText(`not seen at ${h.name}`, MAX_LABEL)}`;

  if (missing === 0) {
    lines.push(notSeenNote(first));
  } else {
    lines.push(`${INDENT}Note over ${idOf(first)}: ${describe(first, undefined)}`);
  }
  let inBand = missing === 0 && hops.length > 1;
  if (inBand) lines.push(`${INDENT}${GREY_BAND}`);
  const pad = (): string => (inBand ? INDENT + '  ' : INDENT);

  for (let i = 1; i < hops.length; i++) {
    const prev = hops[i - 1];
    const h = hops[i];
    if (!prev || !h) continue;
    const from = idOf(prev);
    const to = idOf(h);
    if (missing < 0 || i < missing) {
      lines.push(`${pad()}${from}->>${to}: ${describe(h, prev)}`);
    } else if (i === missing) {
      const planned = h.plan ? ` (planned: ${planLabel(h)})` : '';
      lines.push(`${pad()}${from}-x${to}: ${label(h, `not seen${planned}`)}`);
      lines.push(notSeenNote(h));
      if (i < hops.length - 1) {
        inBand = true;
        lines.push(`${INDENT}${GREY_BAND}`);
      }
    } else if (h.report?.seen) {
      lines.push(`${pad()}${from}-->>${to}: ${describe(h, prev)}`);
    } else {
      // The first missing hop says what was planned there; the greyed ones after it only
      // that the probe never got there (their plan is in the plan view): short labels keep
      // an 8-hop diagram readable beside the editor.
      lines.push(`${pad()}${from}--x${to}: ${label(h, 'not reached')}`);
    }
  }
  if (inBand) lines.push(`${INDENT}end`);
  return `${lines.join('\n')}\n`;
}
