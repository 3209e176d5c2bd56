/**
 * Reads kube-proxy's nftables table in the three forms people have: the
 * transaction kube-proxy writes (`add rule ip kube-proxy …`, as in its tests
 * and `nft -f` input), `nft list table ip kube-proxy`, and `nft -j list …`.
 * Rules are read into statements (matches, lookups, numgen, dnat, mark,
 * verdict); sets and maps keep their elements and timeouts.
 *
 * Tolerant: a rule it cannot read is kept in `unread` with its line.
 */

export interface NftVerdict {
  kind: 'jump' | 'goto' | 'drop' | 'reject' | 'accept' | 'return';
  target?: string;
}

/** `ip daddr 1.2.3.4`, `ip saddr != { 203.0.113.0/25 }`, `ip daddr @nodeport-ips`. */
export interface NftAddressMatch {
  values: string[];
  set?: string;
  negated: boolean;
}

export interface NftRule {
  chain: string;
  daddr?: NftAddressMatch;
  saddr?: NftAddressMatch;
  /** `fib saddr type local` / `fib daddr type local`. */
  fibSaddrLocal?: boolean;
  fibDaddrLocal?: boolean;
  l4proto?: string;
  dport?: number;
  /** `ip daddr . meta l4proto . th dport vmap @service-ips` and friends. */
  lookup?: { fields: string[]; map: string };
  /** `numgen random mod N vmap { 0 : goto a, 1 : goto b }`. */
  numgenVmap?: { mod: number; entries: { index: number; verdict: NftVerdict }[] };
  dnatTo?: string;
  /** `dnat to numgen random mod N map { 0 : 10.1.1.1 . 80, … }` (the later layout). */
  dnatNumgen?: { mod: number; entries: { index: number; to: string }[] };
  /** `mark set mark or 0x4000` (or `meta mark set meta mark | 0x00004000`). */
  markOr?: string;
  masquerade?: boolean;
  updateSet?: string;
  verdict?: NftVerdict;
  comment?: string;
  counters?: { packets: number; bytes: number };
  /** Statements read but not evaluated (`ct state new`, mark checks). */
  other: string[];
  line: number;
  text: string;
}

export interface NftElement {
  key: string[];
  verdict?: NftVerdict;
  comment?: string;
}

export interface NftSet {
  name: string;
  kind: 'set' | 'map';
  elements: NftElement[];
  /** Seconds, for affinity sets. */
  timeout?: number;
}

export interface NftRuleset {
  family: string;
  table: string;
  chains: Map<string, NftRule[]>;
  sets: Map<string, NftSet>;
  unread: string[];
  notes: string[];
  form: 'transaction' | 'list' | 'json';
}

function emptyRuleset(form: NftRuleset['form']): NftRuleset {
  return {
    family: 'ip',
    table: 'kube-proxy',
    chains: new Map(),
    sets: new Map(),
    unread: [],
    notes: [],
    form,
  };
}

/** `10800s`, `3h`, `1h30m`, `2d`, `10800` → seconds. */
export function parseNftDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  let matched = '';
  for (const m of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) {
    const n = Number(m[1]);
    total +=
      m[2] === 'd'
        ? n * 86400
        : m[2] === 'h'
          ? n * 3600
          : m[2] === 'm'
            ? n * 60
            : m[2] === 's'
              ? n
              : n / 1000;
    matched += m[0];
  }
  return matched === text && matched !== '' ? total : undefined;
}

/** Words of a rule; `{ … }` groups stay one word (with braces), quotes are removed. */
export function tokenizeNft(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
    } else if (ch === '"') {
      const end = text.indexOf('"', i + 1);
      const stop = end < 0 ? text.length : end;
      out.push(text.slice(i + 1, stop));
      i = stop + 1;
    } else if (ch === '{') {
      let depth = 0;
      let j = i;
      for (; j < text.length; j++) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}' && --depth === 0) break;
      }
      out.push(text.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{"]/.test(text[j]!)) j++;
      out.push(text.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** Splits `{ a, b , c }` (or `a, b`) at top-level commas. */
function splitBraced(group: string): string[] {
  const inner = group.trim().replace(/^\{/, '').replace(/\}$/, '');
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of inner) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === '{') depth++;
    if (!quoted && ch === '}') depth--;
    if (ch === ',' && depth === 0 && !quoted) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

function readVerdict(words: string[]): NftVerdict | undefined {
  const [w, t] = words;
  if ((w === 'jump' || w === 'goto') && t) return { kind: w, target: t };
  if (w === 'drop' || w === 'accept' || w === 'return' || w === 'reject') return { kind: w };
  return undefined;
}

/** `1.2.3.4 . tcp . 80 comment "ns/svc:p" : goto x` → element. */
export function parseNftElement(text: string): NftElement | undefined {
  const words = tokenizeNft(text);
  const colon = words.indexOf(':');
  const keyWords = colon >= 0 ? words.slice(0, colon) : words;
  const el: NftElement = { key: [] };
  const c = keyWords.indexOf('comment');
  if (c >= 0) {
    el.comment = keyWords[c + 1];
    keyWords.splice(c, 2);
  }
  // `timeout 3h expires 2h59m` may follow a dynamic set's element.
  const t = keyWords.indexOf('timeout');
  if (t >= 0) keyWords.splice(t);
  const e = keyWords.indexOf('expires');
  if (e >= 0) keyWords.splice(e);
  el.key = keyWords.filter((w) => w !== '.');
  if (colon >= 0) {
    const v = readVerdict(words.slice(colon + 1));
    if (!v) return undefined;
    el.verdict = v;
  }
  return el.key.length > 0 ? el : undefined;
}

/** `ip daddr . meta l4proto . th dport` → ['ip daddr', 'meta l4proto', 'th dport']. */
function lookupFields(words: string[]): string[] {
  return words
    .join(' ')
    .split(' . ')
    .map((f) => f.trim());
}

function readAddress(
  words: string[],
  i: number,
): { match: NftAddressMatch; next: number } | undefined {
  let j = i;
  let negated = false;
  if (words[j] === '!=') {
    negated = true;
    j++;
  } else if (words[j] === '==') j++;
  const v = words[j];
  if (v === undefined) return undefined;
  if (v.startsWith('@')) return { match: { values: [], set: v.slice(1), negated }, next: j + 1 };
  if (v.startsWith('{')) return { match: { values: splitBraced(v), negated }, next: j + 1 };
  return { match: { values: [v], negated }, next: j + 1 };
}

/**
 * Reads one rule's statements.
 *
 * @returns the rule, or a reason when a word could not be read.
 */
export function parseNftRuleText(chain: string, text: string, line: number): NftRule | string {
  const words = tokenizeNft(text);
  const rule: NftRule = { chain, other: [], line, text };
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    const n1 = words[i + 1];
    if (w === 'comment') {
      rule.comment = n1;
      i += 2;
    } else if (w === 'counter') {
      i++;
      if (words[i] === 'packets') {
        rule.counters = { packets: Number(words[i + 1]), bytes: Number(words[i + 3]) };
        i += 4;
      }
    } else if ((w === 'ip' || w === 'ip6') && (n1 === 'daddr' || n1 === 'saddr')) {
      if (words[i + 2] === '.') {
        const v = words.indexOf('vmap', i);
        if (v < 0 || !words[v + 1]?.startsWith('@')) return `unreadable lookup at '${w} ${n1}'`;
        rule.lookup = {
          fields: lookupFields(words.slice(i, v)),
          map: words[v + 1]!.slice(1),
        };
        i = v + 2;
        continue;
      }
      const a = readAddress(words, i + 2);
      if (!a) return `no address after '${w} ${n1}'`;
      if (n1 === 'daddr') rule.daddr = a.match;
      else rule.saddr = a.match;
      i = a.next;
    } else if (w === 'meta' && n1 === 'l4proto') {
      if (words[i + 2] === '.') {
        const v = words.indexOf('vmap', i);
        if (v < 0 || !words[v + 1]?.startsWith('@')) return 'unreadable lookup at meta l4proto';
        rule.lookup = {
          fields: lookupFields(words.slice(i, v)),
          map: words[v + 1]!.slice(1),
        };
        i = v + 2;
        continue;
      }
      rule.l4proto = words[i + 2];
      i += 3;
    } else if ((w === 'th' || w === 'tcp' || w === 'udp' || w === 'sctp') && n1 === 'dport') {
      if (w !== 'th') rule.l4proto = w;
      const port = Number(words[i + 2]);
      if (!Number.isInteger(port)) return `'${w} dport' without a port`;
      rule.dport = port;
      i += 3;
    } else if (w === 'fib' && (n1 === 'saddr' || n1 === 'daddr') && words[i + 2] === 'type') {
      const negated = words[i + 3] === '!=';
      const type = words[i + (negated ? 4 : 3)];
      const local = type === 'local' ? !negated : negated;
      if (n1 === 'saddr') rule.fibSaddrLocal = local;
      else rule.fibDaddrLocal = local;
      i += negated ? 5 : 4;
    } else if (w === 'numgen' && n1 === 'random' && words[i + 2] === 'mod') {
      const mod = Number(words[i + 3]);
      let j = i + 4;
      let offset = 0;
      if (words[j] === 'offset') {
        offset = Number(words[j + 1]);
        j += 2;
      }
      if (words[j] !== 'vmap' || !words[j + 1]?.startsWith('{')) return 'numgen without a vmap';
      const entries = splitBraced(words[j + 1]!).map((e) => {
        const [idx, ...rest] = e.split(':');
        return { index: Number(idx) - offset, verdict: readVerdict(tokenizeNft(rest.join(':'))) };
      });
      if (!Number.isInteger(mod) || entries.some((e) => !e.verdict || !Number.isInteger(e.index)))
        return 'unreadable numgen vmap';
      rule.numgenVmap = {
        mod,
        entries: entries.map((e) => ({ index: e.index, verdict: e.verdict! })),
      };
      i = j + 2;
    } else if (w === 'dnat') {
      let j = i + 1;
      while (j < words.length && words[j] !== 'to') j++;
      if (words[j + 1] === 'numgen') {
        const mod = Number(words[j + 4]);
        let k = j + 5;
        let offset = 0;
        if (words[k] === 'offset') {
          offset = Number(words[k + 1]);
          k += 2;
        }
        if (words[k] !== 'map' || !words[k + 1]?.startsWith('{'))
          return 'dnat numgen without a map';
        const entries = splitBraced(words[k + 1]!).map((e) => {
          const colon = e.indexOf(':');
          const to = e
            .slice(colon + 1)
            .trim()
            .replace(/\s*\.\s*(\d+)$/, ':$1');
          return { index: Number(e.slice(0, colon)) - offset, to };
        });
        rule.dnatNumgen = { mod, entries };
        i = k + 2;
      } else {
        let to = words[j + 1];
        if (to === undefined) return 'dnat without a destination';
        // `dnat ip addr . port to 10.1.1.1 . 80`
        if (words[j + 2] === '.' && words[j + 3]) {
          to = `${to}:${words[j + 3]}`;
          i = j + 4;
        } else i = j + 2;
        rule.dnatTo = to;
      }
    } else if (w === 'mark' && n1 === 'set' && words[i + 2] === 'mark' && words[i + 3] === 'or') {
      rule.markOr = words[i + 4];
      i += 5;
    } else if (w === 'meta' && n1 === 'mark' && words[i + 2] === 'set' && words[i + 5] === '|') {
      rule.markOr = words[i + 6];
      i += 7;
    } else if (w === 'masquerade') {
      rule.masquerade = true;
      i++;
      while (i < words.length && /^(fully-random|random|persistent|,)$/.test(words[i]!)) i++;
    } else if ((w === 'update' || w === 'add') && n1?.startsWith('@')) {
      rule.updateSet = n1.slice(1);
      i += words[i + 2]?.startsWith('{') ? 3 : 2;
    } else if (w === 'reject') {
      rule.verdict = { kind: 'reject' };
      i++;
      if (words[i] === 'with') i += 3;
    } else if (readVerdict(words.slice(i))) {
      rule.verdict = readVerdict(words.slice(i));
      i += rule.verdict!.target ? 2 : 1;
    } else {
      // Statements kube-proxy uses but that do not change a Service's path.
      const skip = /^(ct|mark|meta)$/.test(w) ? Math.min(words.length - i, w === 'ct' ? 3 : 4) : 1;
      rule.other.push(words.slice(i, i + skip).join(' '));
      i += skip;
    }
  }
  return rule;
}

function addRule(rs: NftRuleset, chain: string, text: string, line: number, raw: string): void {
  const r = parseNftRuleText(chain, text, line);
  if (typeof r === 'string') {
    rs.unread.push(`${line}: ${raw.trim()} (${r})`);
    return;
  }
  const list = rs.chains.get(chain) ?? [];
  list.push(r);
  rs.chains.set(chain, list);
}

function setProperties(set: NftSet, body: string): void {
  const t = /timeout (\S+?)\s*(?:;|$|\n)/.exec(body);
  if (t) {
    const secs = parseNftDuration(t[1]!);
    if (secs !== undefined) set.timeout = secs;
  }
  const el = /elements = (\{[\s\S]*\})/.exec(body);
  if (el)
    for (const part of splitBraced(el[1]!)) {
      const e = parseNftElement(part);
      if (e) set.elements.push(e);
    }
}

/**
 * Reads the `add …` transaction form (kube-proxy's `nft -f` input and tests).
 *
 * @param text the transaction; `#` comments and blank lines are skipped.
 */
export function parseNftTransaction(text: string): NftRuleset {
  const rs = emptyRuleset('transaction');
  text.split(/\r?\n/).forEach((raw, idx) => {
    const line = raw.trim();
    const lineNo = idx + 1;
    if (!line || line.startsWith('#')) return;
    const m =
      /^(add|insert|flush|delete|create|destroy) (table|chain|rule|set|map|element) (ip6?|inet) (\S+)(?: (\S+))?\s*(.*)$/.exec(
        line,
      );
    if (!m) {
      rs.unread.push(`${lineNo}: ${raw}`);
      return;
    }
    const [, verb, what, family, table, name = '', rest = ''] = m;
    rs.family = family!;
    rs.table = table!;
    if (what === 'table') return;
    if (what === 'chain') {
      if (verb === 'delete' || verb === 'destroy') rs.chains.delete(name);
      else if (verb === 'flush') rs.chains.set(name, []);
      else if (!rs.chains.has(name)) rs.chains.set(name, []);
      return;
    }
    if (what === 'rule') {
      if (verb === 'add' || verb === 'insert') addRule(rs, name, rest, lineNo, raw);
      return;
    }
    if (what === 'set' || what === 'map') {
      if (verb === 'delete' || verb === 'destroy') rs.sets.delete(name);
      else if (verb === 'flush') {
        const s = rs.sets.get(name);
        if (s) s.elements = [];
      } else if (!rs.sets.has(name)) {
        const s: NftSet = { name, kind: what, elements: [] };
        setProperties(s, rest);
        rs.sets.set(name, s);
      }
      return;
    }
    // element
    const set = rs.sets.get(name) ?? {
      name,
      kind: rest.includes(':') ? 'map' : 'set',
      elements: [],
    };
    rs.sets.set(name, set);
    for (const part of splitBraced(rest)) {
      const e = parseNftElement(part);
      if (!e) {
        rs.unread.push(`${lineNo}: ${raw} (element '${part}')`);
        continue;
      }
      if (verb === 'delete' || verb === 'destroy')
        set.elements = set.elements.filter((x) => x.key.join(' . ') !== e.key.join(' . '));
      else set.elements.push(e);
    }
  });
  return rs;
}

/**
 * Reads `nft list table ip kube-proxy` (or `nft list ruleset`, keeping only
 * the kube-proxy table).
 */
export function parseNftList(text: string): NftRuleset {
  const rs = emptyRuleset('list');
  const lines = text.split(/\r?\n/);
  let inTable = false;
  let block: { kind: 'chain' | 'set' | 'map'; name: string; body: string[] } | null = null;
  let depth = 0;
  let pending = '';
  let pendingLine = 0;
  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx]!;
    const line = raw.trim();
    const lineNo = idx + 1;
    if (!line) continue;
    const table = /^table (ip6?|inet) (\S+) \{$/.exec(line);
    if (table) {
      inTable = table[2] === 'kube-proxy';
      rs.family = table[1]!;
      rs.table = table[2]!;
      depth = 1;
      continue;
    }
    if (!inTable) continue;
    if (block === null) {
      const open = /^(chain|set|map) (\S+) \{$/.exec(line);
      if (open) {
        block = { kind: open[1] as 'chain' | 'set' | 'map', name: open[2]!, body: [] };
        if (block.kind === 'chain') rs.chains.set(block.name, []);
        depth = 2;
        continue;
      }
      if (line === '}') {
        inTable = false;
        continue;
      }
      if (/^(comment|flags)\b/.test(line)) continue;
      rs.unread.push(`${lineNo}: ${raw}`);
      continue;
    }
    // Inside a chain or set: multi-line `elements = { … }` and long rules.
    const opens = (line.match(/\{/g) ?? []).length;
    const closes = (line.match(/\}/g) ?? []).length;
    if (line === '}' && depth === 2 && pending === '') {
      if (block.kind !== 'chain') {
        const s: NftSet = { name: block.name, kind: block.kind, elements: [] };
        setProperties(s, block.body.join('\n'));
        rs.sets.set(block.name, s);
      }
      block = null;
      depth = 1;
      continue;
    }
    depth += opens - closes;
    if (block.kind !== 'chain') {
      block.body.push(line);
      continue;
    }
    pending = pending ? `${pending} ${line}` : line;
    if (!pendingLine) pendingLine = lineNo;
    if (depth > 2) continue;
    const stmt = pending;
    const at = pendingLine;
    pending = '';
    pendingLine = 0;
    if (/^type \S+ hook /.test(stmt) || /^(comment|policy)\b/.test(stmt)) continue;
    addRule(rs, block.name, stmt, at, stmt);
  }
  return rs;
}

type J = Record<string, unknown>;
const o = (v: unknown): J =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as J) : {};

function jsonValue(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  const x = o(v);
  if (x.prefix) return `${String(o(x.prefix).addr)}/${String(o(x.prefix).len)}`;
  if (x.range && Array.isArray(x.range)) return `${String(x.range[0])}-${String(x.range[1])}`;
  return JSON.stringify(v);
}

function jsonVerdict(v: unknown): NftVerdict | undefined {
  const x = o(v);
  for (const k of ['jump', 'goto'] as const)
    if (x[k]) return { kind: k, target: String(o(x[k]).target) };
  for (const k of ['drop', 'accept', 'return', 'reject'] as const) if (k in x) return { kind: k };
  return undefined;
}

function jsonLeft(left: unknown): string {
  const l = o(left);
  if (l.payload) return `${String(o(l.payload).protocol)} ${String(o(l.payload).field)}`;
  if (l.meta) return `meta ${String(o(l.meta).key)}`;
  if (l.fib)
    return `fib ${(o(l.fib).flags as string[] | undefined)?.join(',') ?? ''} ${String(o(l.fib).result)}`;
  if (l['&']) return 'mark check';
  return JSON.stringify(left);
}

function jsonRule(r: J, line: number): NftRule | string {
  const rule: NftRule = { chain: String(r.chain), other: [], line, text: JSON.stringify(r.expr) };
  if (typeof r.comment === 'string') rule.comment = r.comment;
  for (const e of Array.isArray(r.expr) ? r.expr : []) {
    const x = o(e);
    const v = jsonVerdict(x);
    if (v) {
      rule.verdict = v;
    } else if (x.match) {
      const m = o(x.match);
      const left = jsonLeft(m.left);
      const right = m.right;
      const negated = m.op === '!=';
      const values =
        o(right).set !== undefined
          ? (o(right).set as unknown[]).map(jsonValue)
          : typeof right === 'string' && right.startsWith('@')
            ? []
            : [jsonValue(right)];
      const addr: NftAddressMatch = {
        values,
        negated,
        ...(typeof right === 'string' && right.startsWith('@') ? { set: right.slice(1) } : {}),
      };
      if (/^ip6? daddr$/.test(left)) rule.daddr = addr;
      else if (/^ip6? saddr$/.test(left)) rule.saddr = addr;
      else if (left === 'meta l4proto') rule.l4proto = String(right);
      else if (/^(th|tcp|udp|sctp) dport$/.test(left)) rule.dport = Number(right);
      else if (left === 'fib saddr type') rule.fibSaddrLocal = (right === 'local') !== negated;
      else if (left === 'fib daddr type') rule.fibDaddrLocal = (right === 'local') !== negated;
      else rule.other.push(left);
    } else if (x.vmap) {
      const vm = o(x.vmap);
      const key = o(vm.key);
      if (key.numgen) {
        const ng = o(key.numgen);
        const offset = Number(ng.offset ?? 0);
        const entries = ((o(vm.data).set as unknown[]) ?? []).map((pair) => {
          const [idx, verdict] = pair as [unknown, unknown];
          return { index: Number(idx) - offset, verdict: jsonVerdict(verdict) };
        });
        if (entries.some((en) => !en.verdict)) return 'unreadable numgen vmap';
        rule.numgenVmap = {
          mod: Number(ng.mod),
          entries: entries.map((en) => ({ index: en.index, verdict: en.verdict! })),
        };
      } else if (typeof vm.data === 'string' && vm.data.startsWith('@')) {
        const fields = ((key.concat as unknown[]) ?? [vm.key]).map(jsonLeft);
        rule.lookup = { fields, map: vm.data.slice(1) };
      } else return 'unreadable vmap';
    } else if (x.dnat) {
      const d = o(x.dnat);
      const addr = o(d.addr);
      if (addr.map) {
        const map = o(addr.map);
        const ng = o(o(map.key).numgen);
        const offset = Number(ng.offset ?? 0);
        rule.dnatNumgen = {
          mod: Number(ng.mod),
          entries: ((o(map.data).set as unknown[]) ?? []).map((pair) => {
            const [idx, to] = pair as [unknown, unknown];
            const c = o(to).concat as unknown[] | undefined;
            return {
              index: Number(idx) - offset,
              to: c ? `${String(c[0])}:${String(c[1])}` : jsonValue(to),
            };
          }),
        };
      } else
        rule.dnatTo =
          d.port !== undefined ? `${jsonValue(d.addr)}:${String(d.port)}` : jsonValue(d.addr);
    } else if (x.mangle) {
      const val = o(o(x.mangle).value);
      if (val['|']) rule.markOr = `0x${Number((val['|'] as unknown[])[1]).toString(16)}`;
      else rule.other.push('mark mangle');
    } else if ('masquerade' in x) {
      rule.masquerade = true;
    } else if (x.set) {
      rule.updateSet = String(o(x.set).set).replace(/^@/, '');
    } else if (x.counter) {
      rule.counters = { packets: Number(o(x.counter).packets), bytes: Number(o(x.counter).bytes) };
    } else {
      rule.other.push(Object.keys(x)[0] ?? '?');
    }
  }
  return rule;
}

function jsonElement(el: unknown): NftElement | undefined {
  let key: unknown = el;
  let verdict: NftVerdict | undefined;
  if (Array.isArray(el)) {
    key = el[0];
    verdict = jsonVerdict(el[1]);
  }
  let comment: string | undefined;
  const wrapped = o(key).elem;
  if (wrapped) {
    comment = typeof o(wrapped).comment === 'string' ? (o(wrapped).comment as string) : undefined;
    key = o(wrapped).val;
  }
  const parts = o(key).concat ? (o(key).concat as unknown[]).map(jsonValue) : [jsonValue(key)];
  return { key: parts, ...(verdict ? { verdict } : {}), ...(comment ? { comment } : {}) };
}

/** Reads `nft -j list table ip kube-proxy` (or `list ruleset`). */
export function parseNftJson(text: string): NftRuleset {
  const rs = emptyRuleset('json');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    rs.unread.push(`the JSON does not parse: ${(e as Error).message}`);
    return rs;
  }
  const items = o(doc).nftables;
  if (!Array.isArray(items)) {
    rs.unread.push('no "nftables" array in the JSON');
    return rs;
  }
  items.forEach((item, idx) => {
    const x = o(item);
    const key = Object.keys(x)[0];
    const v = o(x[key ?? '']);
    if (v.table !== undefined && v.table !== 'kube-proxy') return;
    if (key === 'table') {
      rs.family = String(v.family);
    } else if (key === 'chain') {
      if (!rs.chains.has(String(v.name))) rs.chains.set(String(v.name), []);
    } else if (key === 'rule') {
      const r = jsonRule(v, idx + 1);
      if (typeof r === 'string')
        rs.unread.push(`item ${idx + 1}: ${JSON.stringify(v.expr)} (${r})`);
      else {
        const list = rs.chains.get(r.chain) ?? [];
        list.push(r);
        rs.chains.set(r.chain, list);
      }
    } else if (key === 'set' || key === 'map') {
      const s: NftSet = { name: String(v.name), kind: key, elements: [] };
      if (typeof v.timeout === 'number') s.timeout = v.timeout;
      for (const el of Array.isArray(v.elem) ? v.elem : []) {
        const e = jsonElement(el);
        if (e) s.elements.push(e);
      }
      rs.sets.set(s.name, s);
    } else if (key !== 'metainfo' && key !== 'element') {
      rs.unread.push(`item ${idx + 1}: ${key ?? '?'}`);
    }
  });
  return rs;
}

/** Picks the reader for the text. */
export function parseNftables(text: string): NftRuleset {
  const t = text.trimStart();
  if (t.startsWith('{')) return parseNftJson(text);
  if (/^\s*table (ip6?|inet) \S+ \{/m.test(text)) return parseNftList(text);
  return parseNftTransaction(text);
}
