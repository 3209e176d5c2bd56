/**
 * Undoes tcpdump's relative TCP sequence numbers, so text agrees with the pcap
 * decoder (which reports what the bytes say) and the same segment carries the
 * same numbers at every hop.
 *
 * tcpdump (without -S) keeps, per conversation, the sequence and ack numbers of
 * the first ACK-bearing segment it prints (or of any SYN-ACK), prints that segment
 * in absolute numbers, and every later one relative to them. This mirrors that
 * bookkeeping on the printed values. A base that was never printed (a pure ACK
 * prints no seq) stays unknown, and a seq relative to it is dropped rather than
 * reported as if it were absolute.
 *
 * Text produced with -S is absolute already: the first time a conversation is
 * seen again, a printed ack that is closer to the stored base as an absolute
 * number than as an offset from it says so, and conversion is switched off.
 */

/** Bounded so a huge capture of short connections cannot grow memory without limit. */
const MAX_CONVERSATIONS = 65536;

interface Bases {
  /** tcpdump's th->seq / th->ack for the canonical direction; NaN when not printed. */
  seq: number;
  ack: number;
}

export class TcpSeqTracker {
  private readonly conv = new Map<string, Bases>();
  /** 0 undecided, 1 relative numbers (default tcpdump), 2 absolute (-S). */
  private mode = 0;

  /**
   * Converts one segment's printed numbers in place. `seq`/`ack` are NaN when the
   * text did not print them. Returns the absolute values in `out`.
   */
  convert(
    src: string,
    dst: string,
    sport: number,
    dport: number,
    flags: string,
    seq: number,
    ack: number,
    out: { seq: number; ack: number },
  ): void {
    out.seq = seq;
    out.ack = ack;
    // tcpdump only tracks segments with ACK set (the `.` flag).
    if (this.mode === 2 || flags.indexOf('.') < 0) return;
    const rev = sport > dport || (sport === dport && src > dst);
    const key = rev
      ? dst + ' ' + src + ' ' + dport + ' ' + sport
      : src + ' ' + dst + ' ' + sport + ' ' + dport;
    const th = this.conv.get(key);
    if (th === undefined || flags.indexOf('S') >= 0) {
      if (this.conv.size >= MAX_CONVERSATIONS && th === undefined) this.conv.clear();
      const a1 = Number.isNaN(ack) ? NaN : (ack - 1) >>> 0;
      const b: Bases = rev ? { seq: a1, ack: seq } : { seq, ack: a1 };
      this.conv.set(key, b);
      return;
    }
    const seqBase = rev ? th.ack : th.seq;
    const ackBase = rev ? th.seq : th.ack;
    if (this.mode === 0 && !Number.isNaN(ack) && !Number.isNaN(ackBase)) {
      this.mode = (ack - ackBase) >>> 0 < ack ? 2 : 1;
      if (this.mode === 2) return;
    }
    out.seq = Number.isNaN(seq) || Number.isNaN(seqBase) ? NaN : (seq + seqBase) >>> 0;
    out.ack = Number.isNaN(ack) || Number.isNaN(ackBase) ? NaN : (ack + ackBase) >>> 0;
  }
}
