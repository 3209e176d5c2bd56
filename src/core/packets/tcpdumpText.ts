/**
 * Streaming parser for tcpdump's text output — what people paste and what labs
 * print — into the packet model.
 *
 * Lines arrive one at a time; the parser holds only the packet being assembled
 * and emits it when the next one starts (or at `end()`). A packet starts at a
 * line carrying a `-#` number or a time stamp (any `-t…` style); with `-t` there
 * is neither, and a line that reads as a packet (`IP …`, `ARP, …`, MACs) starts
 * one unless the previous record is waiting for a continuation (the address line
 * after a `-v` IPv4 header, the inner packet after VXLAN/OTV/Geneve/GRE).
 *
 * Once a capture has shown stamps, unstamped lines that are not an expected
 * continuation belong to the packet before them: protocol detail (BGP, DHCP),
 * `-x`/`-X` hex and `-A` ASCII dumps. Banners, the `N packets captured` trailer
 * and `kubectl debug` chatter are skipped. Anything else becomes a packet with a
 * single `raw` layer and an issue; the parser never throws.
 *
 * Time stamps are read for what they are and recorded as `tsKind`: a date
 * (-tttt) or seconds (-tt) by their form; `HH:MM:SS` is a time of day unless the
 * capture's first one has tcpdump's delta sign column (` 00:00:00.000041`) or is
 * exactly 00:00:00.000000, when they are deltas. Deltas that ever go down are
 * gaps since the previous packet (-ttt, summed into seconds since the first);
 * otherwise since the first packet (-ttttt). To tell the two apart the parser holds
 * back up to 16 packets at the start of such a capture.
 */
import type { CaptureIssue, Packet, TextNoise, TimestampKind } from './model';
import type { PacketSink } from './sink';
import { isDigit } from './tcpdumpTextCursor';
import { EXPECT_ADDR, EXPECT_NONE, PacketAssembler } from './tcpdumpTextGrammar';

export type { PacketSink } from './sink';

export interface TcpdumpTextParser {
  /** One line of text, without its newline (a trailing `\r` is tolerated). */
  push(line: string): void;
  /** Emits the last packet. */
  end(): void;
}

/** How the current capture marks its packet lines. */
const MODE_UNKNOWN = 0;
const MODE_NUMBER = 1;
const MODE_TIME = 2;
const MODE_NONE = 3;

/** Stamp forms `stamp()` reads. */
const FORM_CLOCK = 0;
const FORM_DATE = 1;
const FORM_EPOCH = 2;

/** How a capture's `HH:MM:SS` stamps read, decided at its first stamped packet. */
const CLOCK_UNKNOWN = 0;
const CLOCK_TIME_OF_DAY = 1;
/** Deltas; whether since the previous packet (-ttt) or the first (-ttttt) is open. */
const CLOCK_DELTA_UNDECIDED = 2;
const CLOCK_DELTA = 3;
const CLOCK_SINCE_FIRST = 4;

/**
 * Delta packets held back while it is open whether they are -ttt or -ttttt: -ttttt
 * never goes down, -ttt does as soon as one gap is shorter than the one before.
 */
const DELTA_WINDOW = 16;

const POW10: readonly number[] = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** Lines printed around a capture that are not packets (tcpdump, kubectl, shells). */
const NOISE_PREFIXES: readonly string[] = [
  'Defaulting debug container name',
  'Defaulted container',
  "If you don't see a command prompt",
  'Unable to use a TTY',
  'All commands and output from this session',
  '--profile=',
  'Targeting container',
  'Creating debugging pod',
  'Starting pod/',
  'Removing debugging pod',
  'Waiting for pod',
  'Session ended',
  'pod "',
  'error: ',
  'Error from server',
  'Error: ',
  'Warning: ',
  'warning: ',
  'command terminated with exit code',
  'Flag --',
  '^C',
  '$ ',
  '# ',
  // commands pasted without their prompt, and other commands' output around captures
  'sudo ',
  'tcpdump -',
  'kubectl ',
  'inet ',
  'inet6 ',
  'valid_lft ',
  'link/ether ',
  // ping's own output, pasted between captures
  'PING ',
  '--- ',
  'round-trip ',
  'rtt min/avg/max',
];

/** Lines that end one capture (or begin the next): the packet in hand is complete. */
const BANNER_PREFIXES: readonly string[] = [
  'tcpdump: ',
  'listening on ',
  'reading from file ',
  'dropped privs',
];

class Parser implements TcpdumpTextParser {
  private readonly asm = new PacketAssembler();
  private lineNo = 0;
  private cur: Packet | null = null;
  private mode = MODE_UNKNOWN;
  /** Set by `stamp()`: the time stamp just read, and its form. */
  private ts = 0;
  private form = FORM_CLOCK;
  /** How this capture's clock stamps read (reset when a capture ends). */
  private clock = CLOCK_UNKNOWN;
  /** Delta packets not yet emitted while -ttt / -ttttt is undecided, with their values. */
  private held: Packet[] = [];
  /** -ttt: the sum of deltas so far, in microseconds (seconds since the first packet). */
  private deltaSum = 0;
  /** The last delta value read, to see a -ttt capture go down. */
  private lastDelta = 0;

  constructor(private readonly sink: PacketSink) {}

  push(line: string): void {
    this.lineNo++;
    try {
      this.line(line);
    } catch (e) {
      // Defensive only: the grammar is bounds-checked, but one bad line must not
      // lose the capture.
      this.report(`line not understood (${e instanceof Error ? e.message : String(e)})`);
      this.cur = null;
      this.asm.begin();
    }
  }

  end(): void {
    try {
      this.flush();
      this.endCapture();
    } catch {
      this.cur = null;
    }
  }

  private line(s: string): void {
    let end = s.length;
    while (end > 0) {
      const ch = s.charCodeAt(end - 1);
      if (ch !== 13 && ch !== 32 && ch !== 9 && ch !== 10) break;
      end--;
    }
    let p = 0;
    while (p < end) {
      const ch = s.charCodeAt(p);
      if (ch !== 32 && ch !== 9) break;
      p++;
    }
    if (p === end) return;

    // `-#` packet number: `%5u  ` (digits and two spaces)
    let q = p;
    let numbered = false;
    // -ttt and -ttttt print a sign column before the delta: ` 00:00:00.000041`
    let signed = p === 1;
    if (isDigit(s.charCodeAt(q))) {
      let r = q;
      while (r < end && isDigit(s.charCodeAt(r))) r++;
      if (r - q <= 10 && s.charCodeAt(r) === 32 && s.charCodeAt(r + 1) === 32) {
        numbered = true;
        q = r + 2;
        while (q < end && s.charCodeAt(q) === 32) q++;
        signed = q === r + 3;
      }
    }
    // a negative delta (packets out of order) has `-` in the sign column
    const negative = s.charCodeAt(q) === 45 && isDigit(s.charCodeAt(q + 1));
    const at = negative ? q + 1 : q;
    let t = isDigit(s.charCodeAt(at)) ? this.stamp(s, at, end) : -1;
    if (negative && this.form !== FORM_CLOCK) t = -1;
    if (numbered || t >= 0) {
      this.mode = numbered ? MODE_NUMBER : MODE_TIME;
      if (t >= 0 && this.form === FORM_CLOCK) this.clockKind(signed || negative, negative);
      this.start(s, t >= 0 ? t : q, end, t >= 0, true);
      return;
    }

    const asm = this.asm;
    if (this.cur !== null && asm.expect !== EXPECT_NONE) {
      asm.c.reset(s, p, end);
      if (asm.expect === EXPECT_ADDR ? asm.addressLine() : asm.innerLine()) return;
      asm.expect = EXPECT_NONE;
    }

    if (this.cur !== null && p > 0) return; // detail or hex dump of the packet in hand
    const noise = this.noise(s, p, end);
    if (noise !== 0) {
      this.keepNoise(s, end);
      if (noise === 2) {
        this.flush();
        this.endCapture();
        this.mode = MODE_UNKNOWN;
      }
      return;
    }

    if (isCommentary(s, p, end)) {
      // A prompt or a command ends the capture before it; the line is kept as noise.
      this.flush();
      this.endCapture();
      this.mode = MODE_UNKNOWN;
      this.keepNoise(s, end);
      return;
    }
    if (this.cur !== null && (this.mode === MODE_NUMBER || this.mode === MODE_TIME)) {
      return; // ASCII dump (-A) of the packet in hand
    }
    this.mode = MODE_NONE;
    this.start(s, p, end, false, false);
  }

  private keepNoise(s: string, end: number): void {
    const noise: TextNoise = { at: this.lineNo, text: s.slice(0, end) };
    this.sink.noise?.(noise);
  }

  /** Starts a packet whose record begins at `p`; `stamped` lines always are packets. */
  private start(s: string, p: number, end: number, hasTs: boolean, stamped: boolean): void {
    this.flush();
    const asm = this.asm;
    asm.begin();
    asm.c.reset(s, p, end);
    const ok = asm.body();
    if (!ok) {
      if (!stamped) this.report('line not understood');
      asm.layers.length = 0;
      if (p < end || !stamped) {
        asm.layers.push({ kind: 'raw', text: stamped ? s.slice(p, end) : s.slice(0, end).trim() });
      }
    }
    // Built whole, in this key order: a property added afterwards costs every packet a
    // map transition and a property store of its own.
    const layers = asm.layers;
    const frameLength = asm.frameLength;
    const source = this.lineNo;
    let pkt: Packet;
    if (hasTs) {
      const ts = this.ts;
      const tsKind = this.tsKind();
      pkt =
        frameLength !== undefined
          ? { ts, tsKind, layers, frameLength, source }
          : { ts, tsKind, layers, source };
    } else {
      pkt = frameLength !== undefined ? { layers, frameLength, source } : { layers, source };
    }
    this.cur = pkt;
  }

  private flush(): void {
    const pkt = this.cur;
    if (pkt === null) return;
    this.cur = null;
    if (this.asm.hasPendingAddresses() && pkt.source !== undefined) {
      this.issueAt(pkt.source, 'IPv4 header without its address line');
    }
    this.asm.expect = EXPECT_NONE;
    this.emit(pkt);
  }

  /**
   * Reads the clock stamp just parsed (`ts`) for what it is. The first one of a
   * capture decides: a sign column or a first stamp of exactly 00:00:00.000000
   * means deltas, anything else a time of day.
   */
  private clockKind(signed: boolean, negative: boolean): void {
    if (this.clock === CLOCK_UNKNOWN) {
      this.clock = signed || this.ts === 0 ? CLOCK_DELTA_UNDECIDED : CLOCK_TIME_OF_DAY;
      this.deltaSum = 0;
      this.lastDelta = 0;
    }
    if (this.clock === CLOCK_TIME_OF_DAY) return;
    const v = Math.round((negative ? -this.ts : this.ts) * 1e6);
    if (this.clock === CLOCK_DELTA_UNDECIDED && v < this.lastDelta) {
      // gone down: these are gaps since the previous packet (-ttt)
      this.clock = CLOCK_DELTA;
      let sum = 0;
      const open = this.cur?.tsKind === 'since-first' ? [...this.held, this.cur] : this.held;
      for (const held of open) {
        sum += Math.round((held.ts ?? 0) * 1e6);
        held.ts = sum / 1e6;
        held.tsKind = 'delta';
      }
      this.deltaSum = sum;
    }
    this.lastDelta = v;
    if (this.clock === CLOCK_DELTA) {
      this.deltaSum += v;
      this.ts = this.deltaSum / 1e6;
    } else {
      this.ts = v / 1e6;
    }
  }

  private tsKind(): TimestampKind {
    switch (this.form) {
      case FORM_DATE:
        return 'date';
      case FORM_EPOCH:
        return 'epoch';
      default:
        return this.clock === CLOCK_TIME_OF_DAY
          ? 'time-of-day'
          : this.clock === CLOCK_DELTA
            ? 'delta'
            : 'since-first';
    }
  }

  /** Hands a packet on, holding delta packets back while -ttt / -ttttt is open. */
  private emit(pkt: Packet): void {
    if (this.clock === CLOCK_DELTA_UNDECIDED) {
      this.held.push(pkt);
      if (this.held.length < DELTA_WINDOW) return;
      this.clock = CLOCK_SINCE_FIRST; // a whole window never went down: -ttttt
      this.release();
      return;
    }
    if (this.held.length > 0) this.release();
    this.sink.packet(pkt);
  }

  private release(): void {
    const held = this.held;
    this.held = [];
    for (const p of held) this.sink.packet(p);
  }

  /** A capture ended (trailer, banner, end of text): what was held goes out as it stands. */
  private endCapture(): void {
    if (this.clock === CLOCK_DELTA_UNDECIDED) this.clock = CLOCK_SINCE_FIRST;
    this.release();
    this.clock = CLOCK_UNKNOWN;
  }

  private report(message: string): void {
    this.issueAt(this.lineNo, message);
  }

  private issueAt(at: number, message: string): void {
    const issue: CaptureIssue = { at, message };
    this.sink.issue?.(issue);
  }

  /**
   * A time stamp at `p` in any of tcpdump's styles, followed by a space: `HH:MM:SS.frac`
   * (default, -ttt/-ttttt deltas), `YYYY-MM-DD HH:MM:SS.frac` (-tttt, read as UTC),
   * `secs.frac` (-tt). Sets `ts`; returns the index after the space, or -1.
   */
  private stamp(s: string, p: number, end: number): number {
    let q = p;
    let a = 0;
    while (q < end && isDigit(s.charCodeAt(q))) a = a * 10 + s.charCodeAt(q++) - 48;
    const k = q - p;
    if (k === 0 || k > 12 || q >= end) return -1;
    const sep = s.charCodeAt(q);
    let day = 0;
    if (sep === 45) {
      // -tttt: YYYY-MM-DD HH:MM:SS
      if (k !== 4 || q + 16 > end) return -1;
      const mo = two(s, q + 1);
      const d = two(s, q + 4);
      if (mo < 1 || d < 1 || s.charCodeAt(q + 3) !== 45 || s.charCodeAt(q + 6) !== 32) return -1;
      day = Date.UTC(a, mo - 1, d) / 1000;
      q += 7;
      a = 0;
      const h0 = q;
      while (q < end && isDigit(s.charCodeAt(q))) a = a * 10 + s.charCodeAt(q++) - 48;
      if (q === h0 || s.charCodeAt(q) !== 58) return -1;
    }
    if (s.charCodeAt(q) === 58) {
      // HH:MM:SS
      const m = two(s, q + 1);
      const sec = two(s, q + 4);
      if (m < 0 || sec < 0 || s.charCodeAt(q + 3) !== 58) return -1;
      q += 6;
      let v = day + a * 3600 + m * 60 + sec;
      if (s.charCodeAt(q) === 46) {
        const f0 = ++q;
        let f = 0;
        while (q < end && isDigit(s.charCodeAt(q))) f = f * 10 + s.charCodeAt(q++) - 48;
        if (q - f0 > 15) return -1;
        v += f / POW10[q - f0]!;
      }
      if (q < end && s.charCodeAt(q) !== 32) return -1;
      this.ts = v;
      this.form = day !== 0 || sep === 45 ? FORM_DATE : FORM_CLOCK;
      return q < end ? q + 1 : q;
    }
    if (sep === 46) {
      // -tt: seconds.fraction
      const f0 = ++q;
      let f = 0;
      while (q < end && isDigit(s.charCodeAt(q))) f = f * 10 + s.charCodeAt(q++) - 48;
      const fk = q - f0;
      if (fk === 0 || fk > 15 || (q < end && s.charCodeAt(q) !== 32)) return -1;
      this.ts = a + f / POW10[fk]!;
      this.form = FORM_EPOCH;
      return q < end ? q + 1 : q;
    }
    return -1;
  }

  /** 0: not noise; 1: a line to skip; 2: a banner or trailer (the capture ends or begins). */
  private noise(s: string, p: number, end: number): number {
    if (isDigit(s.charCodeAt(p))) {
      let q = p;
      while (q < end && isDigit(s.charCodeAt(q))) q++;
      return s.startsWith(' packet', q) ? 2 : 0;
    }
    for (const b of BANNER_PREFIXES) if (s.startsWith(b, p)) return 2;
    for (const n of NOISE_PREFIXES) if (s.startsWith(n, p)) return 1;
    return 0;
  }
}

/**
 * True for a line no tcpdump prints: a shell prompt alone (`$`, `/ #`,
 * `[root@node ~]#`), text glued to a command through a prompt (`7. 查看…$ sudo
 * tcpdump -nei ens33 port 8472`), `N bytes from` ping replies, or any text with
 * characters outside printable ASCII (tcpdump escapes those).
 */
function isCommentary(s: string, p: number, end: number): boolean {
  const last = s.charCodeAt(end - 1);
  // a prompt alone: `$`, `/ #`, `root@node:~#`, `[root@ubuntu2204 ~]#`
  if ((last === 36 || last === 35) && end - p <= 64) return true;
  for (let i = p; i < end; i++) {
    const ch = s.charCodeAt(i);
    if (ch > 126) return true;
    // a prompt then a command: `…$ sudo …`, `…# ip r`, `…]#ip netns …`
    if ((ch === 36 || ch === 35) && i > p) {
      const next = s.charCodeAt(i + 1);
      const after = next === 32 ? s.charCodeAt(i + 2) : next;
      const before = s.charCodeAt(i - 1);
      if ((next === 32 || before === 93) && isLetter(after)) return true;
    }
  }
  return /^\d+ bytes from /.test(s.slice(p, Math.min(end, p + 24)));
}

function isLetter(ch: number): boolean {
  return (ch >= 97 && ch <= 122) || (ch >= 65 && ch <= 90);
}

function two(s: string, p: number): number {
  const a = s.charCodeAt(p) - 48;
  const b = s.charCodeAt(p + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/**
 * A streaming parser for tcpdump text: push lines, get packets on `sink` as soon
 * as each is complete. Holds one packet at a time (up to 16 at the start of a
 * -ttt/-ttttt capture, plus tcpdump's own per-TCP conversation sequence bases,
 * bounded), and never throws on input.
 */
export function createTcpdumpTextParser(sink: PacketSink): TcpdumpTextParser {
  return new Parser(sink);
}

/** Parses a whole text at once (for tests and small pastes). */
export function parseTcpdumpText(text: string): {
  packets: Packet[];
  issues: CaptureIssue[];
  noise: TextNoise[];
} {
  const packets: Packet[] = [];
  const issues: CaptureIssue[] = [];
  const noise: TextNoise[] = [];
  const parser = createTcpdumpTextParser({
    packet: (p) => packets.push(p),
    issue: (i) => issues.push(i),
    noise: (n) => noise.push(n),
  });
  let from = 0;
  for (;;) {
    const nl = text.indexOf('\n', from);
    if (nl < 0) {
      if (from < text.length) parser.push(text.slice(from));
      break;
    }
    parser.push(text.slice(from, nl));
    from = nl + 1;
  }
  parser.end();
  return { packets, issues, noise };
}
