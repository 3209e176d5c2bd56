/**
 * Reads iptables rules in the forms people paste: `iptables-save` (with or
 * without `-c` counters; kube-proxy's restore input and the canonical form
 * iptables prints back) and `iptables [-t nat] -nL` / `-vnL` listings, including
 * walkthrough text where the listings sit between commands and prose.
 *
 * Tolerant: a line that cannot be read is kept in `unread`, never thrown.
 */

/** An address match: `-s 10.0.0.0/8`, `! -d 1.2.3.4/32`. */
export interface AddressMatch {
  /** Without a `/32` suffix for single addresses. */
  address: string;
  negated: boolean;
}

/** One iptables rule, in a shape shared by both input forms. */
export interface IptablesRule {
  table: string;
  chain: string;
  source?: AddressMatch;
  destination?: AddressMatch;
  protocol?: string;
  dport?: number;
  comment?: string;
  /** `-m statistic --mode random --probability p`, read as a number. */
  probability?: number;
  recent?: { mode: 'rcheck' | 'set' | 'update'; seconds?: number; name?: string };
  srcType?: { type: string; negated: boolean };
  dstType?: { type: string; negated: boolean };
  /** `-m physdev [!] --physdev-is-in`. */
  physdevIsIn?: { negated: boolean };
  /** `-m mark [!] --mark value/mask`. */
  markMatch?: { value: string; negated: boolean };
  /** `-m conntrack [!] --ctstate A,B`. */
  ctstate?: { states: string[]; negated: boolean };
  /** `-m set --match-set NAME dir` (IPVS mode). */
  matchSet?: { name: string; flags: string; negated: boolean };
  target?: string;
  /** `-g` instead of `-j`: no return to the calling chain. */
  isGoto: boolean;
  dnatTo?: string;
  /** The mark a MARK target sets, in words: `or 0x4000`, `xor 0x4000`, `set 0x4000/0x4000`. */
  markAction?: string;
  randomFully: boolean;
  /** Matches this reader keeps but does not evaluate (`-m conntrack …`, `-m nfacct …`). */
  other: string[];
  counters?: { packets: number; bytes: number };
  /** 1-based line in the input. */
  line: number;
  text: string;
}

export interface IptablesChain {
  table: string;
  name: string;
  rules: IptablesRule[];
  policy?: string;
  counters?: { packets: number; bytes: number };
}

export interface IptablesRuleset {
  /** Keyed `table/chain`. */
  chains: Map<string, IptablesChain>;
  /** Lines that were not understood, with their line numbers. */
  unread: string[];
  /** Notes about how the input was read (e.g. a chain listed twice). */
  notes: string[];
  form: 'save' | 'listing';
}

/** Looks a chain up, trying `nat` first when the table is not given. */
export function findChain(
  rules: IptablesRuleset,
  name: string,
  table = 'nat',
): IptablesChain | undefined {
  return rules.chains.get(`${table}/${name}`);
}

/** Splits a rule line into words, honouring double quotes and backslash escapes. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '\\' && i + 1 < line.length) cur += line[++i];
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') {
      quoted = true;
      inWord = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

function stripHostMask(address: string): string {
  return address.endsWith('/32') || address.endsWith('/128')
    ? address.slice(0, address.lastIndexOf('/'))
    : address;
}

/** Reads a number that iptables printed (`0.33333333349`, `10800`, `149K`). */
function parseCount(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text);
  if (!m) return undefined;
  const scale = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * scale;
}

/** iptables 1.8.9 lists protocols by number (`6`, `17`); `0` and `all` mean any. */
function protocolName(p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  const negated = p.startsWith('!');
  const bare = negated ? p.slice(1) : p;
  const name =
    ({ '0': 'all', '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp' } as Record<string, string>)[
      bare
    ] ?? bare;
  if (name === 'all') return undefined;
  return negated ? `!${name}` : name;
}

function emptyRule(table: string, chain: string, line: number, text: string): IptablesRule {
  return { table, chain, isGoto: false, randomFully: false, other: [], line, text };
}

/**
 * Reads the argument words of one `-A CHAIN …` rule (the restore-input form
 * and the canonical form put the same options in different orders).
 *
 * @returns the rule, or a reason when a word could not be read.
 */
function readRuleWords(rule: IptablesRule, words: string[]): string | undefined {
  let negate = false;
  let module = '';
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = (): string | undefined => words[++i];
    if (w === '!') {
      negate = true;
      continue;
    }
    const neg = negate;
    negate = false;
    switch (w) {
      case '-s':
      case '--source':
      case '-d':
      case '--destination': {
        const v = next();
        if (v === undefined) return `${w} without an address`;
        const m = { address: stripHostMask(v), negated: neg };
        if (w.startsWith('-s') || w === '--source') rule.source = m;
        else rule.destination = m;
        break;
      }
      case '-p':
      case '--protocol': {
        const p = protocolName(next());
        if (p) rule.protocol = neg ? `!${p}` : p;
        break;
      }
      case '-m':
      case '--match':
        module = next() ?? '';
        if (
          ![
            'tcp',
            'udp',
            'sctp',
            'comment',
            'statistic',
            'recent',
            'addrtype',
            'physdev',
            'mark',
            'set',
          ].includes(module)
        )
          rule.other.push(`-m ${module}`);
        break;
      case '--dport':
      case '--destination-port': {
        const v = Number(next());
        if (!Number.isInteger(v)) return `${w} is not a port number`;
        rule.dport = v;
        break;
      }
      case '--comment': {
        let v = next() ?? '';
        // kube-proxy's own test data sometimes leaves multi-word comments unquoted.
        while (i + 1 < words.length && !/^(-|!$)/.test(words[i + 1]!)) v += ' ' + words[++i];
        rule.comment = v;
        break;
      }
      case '--mode':
        if (next() !== 'random') rule.other.push('statistic mode other than random');
        break;
      case '--probability': {
        const v = Number(next());
        if (!Number.isFinite(v)) return '--probability is not a number';
        rule.probability = v;
        break;
      }
      case '--rcheck':
      case '--set':
      case '--update':
        rule.recent = {
          ...rule.recent,
          mode: w === '--rcheck' ? 'rcheck' : w === '--set' ? 'set' : 'update',
        };
        break;
      case '--seconds':
        rule.recent = { mode: 'rcheck', ...rule.recent, seconds: Number(next()) };
        break;
      case '--name':
        rule.recent = { mode: 'rcheck', ...rule.recent, name: next() };
        break;
      case '--reap':
      case '--rsource':
      case '--rdest':
        break;
      case '--mask':
        if (module === 'recent') next();
        else rule.other.push(`--mask ${next() ?? ''}`);
        break;
      case '--ctstate':
        rule.ctstate = { states: (next() ?? '').split(','), negated: neg };
        break;
      case '--src-type':
        rule.srcType = { type: next() ?? '', negated: neg };
        break;
      case '--dst-type':
        rule.dstType = { type: next() ?? '', negated: neg };
        break;
      case '--physdev-is-in':
        rule.physdevIsIn = { negated: neg };
        break;
      case '--mark':
        rule.markMatch = { value: next() ?? '', negated: neg };
        break;
      case '--match-set': {
        const name = next() ?? '';
        rule.matchSet = { name, flags: next() ?? '', negated: neg };
        break;
      }
      case '-j':
      case '--jump':
      case '-g':
      case '--goto':
        rule.target = next();
        rule.isGoto = w === '-g' || w === '--goto';
        break;
      case '--to-destination':
        rule.dnatTo = next();
        break;
      case '--or-mark':
        rule.markAction = `or ${next() ?? ''}`;
        break;
      case '--xor-mark':
        rule.markAction = `xor ${next() ?? ''}`;
        break;
      case '--set-xmark':
      case '--set-mark':
        rule.markAction = `set ${next() ?? ''}`;
        break;
      case '--random-fully':
        rule.randomFully = true;
        break;
      default:
        if (!w.startsWith('-')) return `unexpected word '${w}'`;
        // Options we do not evaluate keep their value (if any) with them.
        {
          const parts = [neg ? `! ${w}` : w];
          while (i + 1 < words.length && !/^(-|!$)/.test(words[i + 1]!)) parts.push(words[++i]!);
          rule.other.push(parts.join(' '));
        }
    }
  }
  return undefined;
}

function addChain(rs: IptablesRuleset, table: string, name: string): IptablesChain {
  const key = `${table}/${name}`;
  let chain = rs.chains.get(key);
  if (!chain) {
    chain = { table, name, rules: [] };
    rs.chains.set(key, chain);
  }
  return chain;
}

/**
 * Reads `iptables-save` output or kube-proxy's `iptables-restore` input.
 *
 * @param text the whole dump; `-c` counters (`[pkts:bytes] -A …`) are kept.
 */
export function parseIptablesSave(text: string): IptablesRuleset {
  const rs: IptablesRuleset = { chains: new Map(), unread: [], notes: [], form: 'save' };
  let table = 'filter';
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line === 'COMMIT') return;
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      return;
    }
    if (line.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?/.exec(line);
      if (!m) {
        rs.unread.push(`${lineNo}: ${raw}`);
        return;
      }
      const chain = addChain(rs, table, m[1]!);
      if (m[2] !== '-') chain.policy = m[2];
      if (m[3] !== undefined) chain.counters = { packets: Number(m[3]), bytes: Number(m[4]) };
      return;
    }
    let body = line;
    let counters: { packets: number; bytes: number } | undefined;
    const c = /^\[(\d+):(\d+)\]\s+/.exec(body);
    if (c) {
      counters = { packets: Number(c[1]), bytes: Number(c[2]) };
      body = body.slice(c[0].length);
    }
    const words = tokenize(body);
    if (words[0] === '-X' || words[0] === '-F' || words[0] === '-N') {
      // Partial syncs delete and flush chains; nothing to route through.
      if (words[0] === '-X' && words[1]) {
        rs.chains.delete(`${table}/${words[1]}`);
        rs.notes.push(`line ${lineNo}: chain ${words[1]} deleted (-X)`);
      }
      return;
    }
    if ((words[0] !== '-A' && words[0] !== '-I') || !words[1]) {
      rs.unread.push(`${lineNo}: ${raw}`);
      return;
    }
    const chain = addChain(rs, table, words[1]);
    const rule = emptyRule(table, chain.name, lineNo, raw);
    if (counters) rule.counters = counters;
    // -I CHAIN [n] inserts; a rule number, if any, comes right after the chain.
    const rest =
      words[0] === '-I' && /^\d+$/.test(words[2] ?? '') ? words.slice(3) : words.slice(2);
    const problem = readRuleWords(rule, rest);
    if (problem) {
      rs.unread.push(`${lineNo}: ${raw} (${problem})`);
      return;
    }
    if (words[0] === '-I') chain.rules.unshift(rule);
    else chain.rules.push(rule);
  });
  return rs;
}

const BUILTIN_TABLE: Record<string, string> = {
  FORWARD: 'filter',
  PREROUTING: 'nat',
  POSTROUTING: 'nat',
};

const CHAIN_HEADER =
  /^Chain (\S+) \((?:policy (\S+)(?: (\d+) packets, (\d+) bytes)?|(\d+) references?)\)/;

/**
 * Reads the `extra` column of a listing rule (`/* comment *\/ tcp dpt:80
 * statistic mode random probability 0.5 …`) into the rule.
 */
function readListingExtras(rule: IptablesRule, extra: string): void {
  let rest = extra;
  const comment = /\/\* (.*?) \*\//.exec(rest);
  if (comment) {
    rule.comment = comment[1];
    rest = rest.replace(comment[0], ' ');
  }
  const take = (re: RegExp): RegExpExecArray | null => {
    const m = re.exec(rest);
    if (m) rest = rest.replace(m[0], ' ');
    return m;
  };
  const dpt = take(/\b(?:tcp|udp|sctp) dpt:(\d+)/);
  if (dpt) rule.dport = Number(dpt[1]);
  const prob = take(/statistic mode random probability (\S+)/);
  if (prob) rule.probability = Number(prob[1]);
  const check = take(
    /recent: (CHECK|SET|UPDATE)(?: seconds: (\d+))?(?: reap)?(?: name: (\S+))?(?: side: \S+)?(?: mask: \S+)?/,
  );
  if (check) {
    rule.recent = {
      mode: check[1] === 'CHECK' ? 'rcheck' : check[1] === 'SET' ? 'set' : 'update',
      ...(check[2] ? { seconds: Number(check[2]) } : {}),
      ...(check[3] ? { name: check[3] } : {}),
    };
  }
  const addr = take(/ADDRTYPE match((?: (?:src|dst)-type !?\S+)+)/);
  if (addr) {
    for (const m of addr[1]!.matchAll(/(src|dst)-type (!?)(\S+)/g)) {
      const v = { type: m[3]!, negated: m[2] === '!' };
      if (m[1] === 'src') rule.srcType = v;
      else rule.dstType = v;
    }
  }
  const phys = take(/PHYSDEV match (! )?--physdev-is-in/);
  if (phys) rule.physdevIsIn = { negated: phys[1] !== undefined };
  const mark = take(/mark match (! )?(\S+)/);
  if (mark) rule.markMatch = { value: mark[2]!, negated: mark[1] !== undefined };
  const markAct = take(/MARK (or|xor|set|and) (\S+)/);
  if (markAct) rule.markAction = `${markAct[1]} ${markAct[2]}`;
  const set = take(/(! )?match-set (\S+) (\S+)/);
  if (set) rule.matchSet = { name: set[2]!, flags: set[3]!, negated: set[1] !== undefined };
  const ct = take(/(! )?ctstate (\S+)/);
  if (ct) rule.ctstate = { states: ct[2]!.split(','), negated: ct[1] !== undefined };
  const to = take(/\bto:(\S+)/);
  if (to) rule.dnatTo = to[1];
  if (take(/random-fully/)) rule.randomFully = true;
  const left = rest.replace(/\b(?:tcp|udp|sctp)\b/g, ' ').trim();
  if (left) rule.other.push(left.replace(/\s+/g, ' '));
}

/**
 * Reads `iptables -t TABLE -nL` / `-vnL` listings (several chains, possibly
 * inside a walkthrough with prompts and prose). A chain listed twice keeps the
 * later listing: a walkthrough lists it again after a change.
 *
 * @param defaultTable the table when the text does not show `-t`.
 */
export function parseIptablesListing(text: string, defaultTable = 'nat'): IptablesRuleset {
  const rs: IptablesRuleset = { chains: new Map(), unread: [], notes: [], form: 'listing' };
  let table = defaultTable;
  let chain: IptablesChain | undefined;
  let verbose = false;
  let numbered = false;
  let tableFromPrompt = false;
  /** Lines after `… | grep` or after a non-iptables command are not a chain's rules. */
  let skipping = false;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const line = raw.trim().replace(/\s+/g, ' ');
    if (line === '') return;
    const prompt = /(?:^|\$|#)\s*(?:sudo\s+)?(iptables(?:-legacy|-nft)?\s.*)$/.exec(line);
    if (prompt) {
      const cmd = prompt[1]!;
      const t = /-t\s+(\S+)/.exec(cmd);
      table = t ? t[1]! : 'filter';
      tableFromPrompt = true;
      verbose = /\s-\w*v/.test(cmd);
      skipping = cmd.includes('|');
      chain = undefined;
      return;
    }
    if (/\$\s+\S/.test(line)) {
      // Another command (kubectl, curl…): its output is not ours to read.
      skipping = true;
      chain = undefined;
      rs.unread.push(`${lineNo}: ${raw}`);
      return;
    }
    const header = CHAIN_HEADER.exec(line);
    if (header) {
      skipping = false;
      // Without a prompt, the built-in chains (listed first) tell which table follows.
      if (!tableFromPrompt && BUILTIN_TABLE[header[1]!]) table = BUILTIN_TABLE[header[1]!]!;
      const key = `${table}/${header[1]}`;
      if (rs.chains.has(key))
        rs.notes.push(`line ${lineNo}: chain ${header[1]} listed again; the later listing is used`);
      chain = { table, name: header[1]!, rules: [] };
      if (header[2]) chain.policy = header[2];
      if (header[3]) chain.counters = { packets: Number(header[3]), bytes: Number(header[4]) };
      rs.chains.set(key, chain);
      return;
    }
    if (/^(?:num\s+)?(?:pkts bytes )?target\s+prot\s+opt/.test(line)) {
      verbose = line.includes('pkts');
      numbered = line.startsWith('num');
      return;
    }
    if (skipping || !chain) {
      rs.unread.push(`${lineNo}: ${raw}`);
      return;
    }
    const words = line.split(' ');
    // --line-numbers puts the rule number first.
    let i = numbered ? 1 : 0;
    const rule = emptyRule(table, chain.name, lineNo, raw);
    if (verbose) {
      const pk = parseCount(words[i] ?? '');
      const by = parseCount(words[i + 1] ?? '');
      if (pk === undefined || by === undefined) {
        rs.unread.push(`${lineNo}: ${raw}`);
        return;
      }
      rule.counters = { packets: pk, bytes: by };
      i += 2;
    }
    // target is optional (a rule without -j lists an empty target); prot follows,
    // then the opt column (`--`), which some iptables-nft versions leave out.
    const isOpt = (w: string | undefined): boolean => w === '--' || w === '-f' || w === '!f';
    const isProtWord = (w: string | undefined): boolean =>
      w !== undefined && /^!?(?:all|tcp|udp|sctp|icmp|icmpv6|ipv6-icmp|\d+)$/.test(w);
    let target: string | undefined;
    let prot: string | undefined;
    if (isOpt(words[i + 1])) {
      prot = words[i];
      i += 1;
    } else if (isOpt(words[i + 2]) || !isProtWord(words[i])) {
      target = words[i];
      prot = words[i + 1];
      i += 2;
    } else {
      prot = words[i];
      i += 1;
    }
    // The opt column (`--`) is absent in some iptables-nft versions.
    if (words[i] === '--' || words[i] === '-f' || words[i] === '!f') i += 1;
    if (verbose) i += 2; // in, out
    const src = words[i];
    const dst = words[i + 1];
    if (src === undefined || dst === undefined || !/^!?[\d.:a-fA-F]+(\/\d+)?$/.test(src)) {
      rs.unread.push(`${lineNo}: ${raw}`);
      return;
    }
    if (target) rule.target = target;
    const protocol = protocolName(prot);
    if (protocol) rule.protocol = protocol;
    const addrMatch = (w: string): AddressMatch | undefined => {
      const negated = w.startsWith('!');
      const address = stripHostMask(negated ? w.slice(1) : w);
      return address === '0.0.0.0/0' || address === '::/0' ? undefined : { address, negated };
    };
    const s = addrMatch(src);
    const d = addrMatch(dst);
    if (s) rule.source = s;
    if (d) rule.destination = d;
    readListingExtras(rule, words.slice(i + 2).join(' '));
    chain.rules.push(rule);
  });
  return rs;
}

/** True when the text looks like `iptables-save` / restore input rather than a listing. */
export function looksLikeIptablesSave(text: string): boolean {
  return (
    /^(?:\[\d+:\d+\]\s+)?-A\s+\S+/m.test(text) || /^\*(?:nat|filter|mangle|raw)\s*$/m.test(text)
  );
}

/** True when the text contains `iptables -L` style chain headers. */
export function looksLikeIptablesListing(text: string): boolean {
  return /^\s*Chain \S+ \((?:policy|\d+ references?)/m.test(text);
}
