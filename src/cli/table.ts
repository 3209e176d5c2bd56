/** Plain-text tables for the terminal: columns padded to the widest cell. */

export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Collects output and writes it in large chunks (millions of NDJSON lines stay fast). */
export class BufferedWriter {
  private buffer = '';
  constructor(private readonly write: (s: string) => void) {}
  line(s: string): void {
    this.buffer += s + '\n';
    if (this.buffer.length > 1 << 16) this.flush();
  }
  flush(): void {
    if (this.buffer) this.write(this.buffer);
    this.buffer = '';
  }
}

/** A usage or input problem: printed as one line on stderr, exit code 2. */
export class UsageError extends Error {}
