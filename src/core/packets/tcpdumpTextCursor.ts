/**
 * A cursor over one line of tcpdump text, for the text parser's hand-written
 * grammar. The parser reads a million packets in about a second, so this avoids
 * regular expressions and substrings on the hot path: it compares literals in
 * place and reads numbers digit by digit, advancing a position.
 */

const C_0 = 48;
const C_9 = 57;
const C_SPACE = 32;
const C_TAB = 9;

export function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}

export function isHex(c: number): boolean {
  return (c >= C_0 && c <= C_9) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function hexValue(c: number): number {
  if (c <= C_9) return c - C_0;
  if (c >= 97) return c - 87;
  return c - 55;
}

export class TextCursor {
  s = '';
  p = 0;
  end = 0;

  reset(s: string, p: number, end: number): void {
    this.s = s;
    this.p = p;
    this.end = end;
  }

  atEnd(): boolean {
    return this.p >= this.end;
  }

  code(offset = 0): number {
    const i = this.p + offset;
    return i < this.end ? this.s.charCodeAt(i) : -1;
  }

  /** True when `lit` starts at the cursor (the cursor does not move). */
  sees(lit: string): boolean {
    // A char loop beats String#startsWith for the short literals of this grammar.
    const n = lit.length;
    const p = this.p;
    if (p + n > this.end) return false;
    const s = this.s;
    for (let i = 0; i < n; i++) if (s.charCodeAt(p + i) !== lit.charCodeAt(i)) return false;
    return true;
  }

  /** Consumes `lit` when it starts at the cursor. */
  lit(lit: string): boolean {
    if (!this.sees(lit)) return false;
    this.p += lit.length;
    return true;
  }

  /**
   * Consumes `lit` after checking only its first, middle and last characters: for
   * the fixed sequences of a -v header, where the full compare is the hot path's
   * largest cost and a near-miss cannot occur in tcpdump output.
   */
  skim(lit: string): boolean {
    const n = lit.length;
    const p = this.p;
    if (p + n > this.end) return false;
    const s = this.s;
    const m = n >> 1;
    if (
      s.charCodeAt(p) !== lit.charCodeAt(0) ||
      s.charCodeAt(p + m) !== lit.charCodeAt(m) ||
      s.charCodeAt(p + n - 1) !== lit.charCodeAt(n - 1)
    ) {
      return false;
    }
    this.p = p + n;
    return true;
  }

  skipSpaces(): void {
    const s = this.s;
    let p = this.p;
    while (p < this.end) {
      const c = s.charCodeAt(p);
      if (c !== C_SPACE && c !== C_TAB) break;
      p++;
    }
    this.p = p;
  }

  /** Reads an unsigned decimal number; -1 (cursor unmoved) when there is none. */
  uint(): number {
    const s = this.s;
    let p = this.p;
    let v = 0;
    const start = p;
    while (p < this.end) {
      const c = s.charCodeAt(p);
      if (c < C_0 || c > C_9) break;
      v = v * 10 + (c - C_0);
      p++;
    }
    if (p === start || p - start > 15) return -1;
    this.p = p;
    return v;
  }

  /** Reads `0x` followed by hex digits, or plain decimal; -1 when neither. */
  hexOrUint(): number {
    if (this.code() === C_0 && (this.code(1) === 120 || this.code(1) === 88)) {
      const save = this.p;
      this.p += 2;
      const v = this.hexDigits();
      if (v < 0) this.p = save;
      return v;
    }
    return this.uint();
  }

  /** Reads bare hex digits (no `0x`); -1 when there are none. */
  hexDigits(): number {
    const s = this.s;
    let p = this.p;
    let v = 0;
    const start = p;
    while (p < this.end) {
      const c = s.charCodeAt(p);
      if (!isHex(c)) break;
      v = v * 16 + hexValue(c);
      p++;
    }
    if (p === start || p - start > 12) return -1;
    this.p = p;
    return v;
  }

  /** Moves to the next occurrence of `lit` (before `limit`), past it; false if absent. */
  skipPast(lit: string, limit = this.end): boolean {
    const i = this.s.indexOf(lit, this.p);
    if (i < 0 || i + lit.length > limit) return false;
    this.p = i + lit.length;
    return true;
  }

  /** Index of `lit` at or after the cursor and before `limit`, or -1. */
  find(lit: string, limit = this.end): number {
    const i = this.s.indexOf(lit, this.p);
    return i < 0 || i + lit.length > limit ? -1 : i;
  }

  /** Index just past the `)` matching the `(` at the cursor, or -1 if unbalanced. */
  matchParen(): number {
    const s = this.s;
    let depth = 0;
    for (let p = this.p; p < this.end; p++) {
      const c = s.charCodeAt(p);
      if (c === 40) depth++;
      else if (c === 41) {
        depth--;
        if (depth === 0) return p + 1;
      }
    }
    return -1;
  }

  /** Index of the next space at or after the cursor (or the end). */
  tokenEnd(): number {
    // tcpdump separates tokens with spaces; tabs only lead continuation lines
    const i = this.s.indexOf(' ', this.p);
    return i < 0 || i > this.end ? this.end : i;
  }

  rest(): string {
    return this.s.slice(this.p, this.end);
  }
}

/** True when `s[p, p+17)` is a MAC address `xx:xx:xx:xx:xx:xx`. */
export function isMacAt(s: string, p: number, end: number): boolean {
  if (p + 17 > end) return false;
  for (let i = 0; i < 17; i++) {
    const c = s.charCodeAt(p + i);
    if (i % 3 === 2) {
      if (c !== 58) return false;
    } else if (!isHex(c)) return false;
  }
  return true;
}
