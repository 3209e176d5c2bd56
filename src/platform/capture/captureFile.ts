/**
 * Reads a capture file from disk whatever it holds: pcap or pcapng (recognised
 * by magic) through the streaming decoder, anything else as tcpdump text through
 * the streaming text parser. Files are read in chunks, so `readCaptureFile` runs
 * in constant memory however large the file; `loadCaptureFile` is the convenience
 * that keeps the packets.
 */
import { isAscii } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { CaptureIssue, Packet } from '../../core/packets/model';
import { createPcapDecoder, isPcapMagic } from '../../core/packets/pcapDecoder';
import { createTcpdumpTextParser } from '../../core/packets/tcpdumpText';
import { isTextNoise } from '../../core/hops/hopRecords';
import { RecordOffsetWalker } from './recordOffsets';

export type CaptureFormat = 'pcap' | 'pcapng' | 'text';

export interface ReadCaptureOptions {
  signal?: AbortSignal;
  /**
   * Called after each chunk's packets were delivered; reading waits for the promise it
   * returns (how a consumer that writes somewhere slow holds reading back).
   */
  betweenChunks?: () => Promise<unknown> | undefined;
}

const CHUNK_BYTES = 1 << 20;

/** The message for a text file none of whose lines is a packet. */
export const NOT_TCPDUMP = 'not tcpdump output; save it with `tcpdump -nn -e -v`';

/** Lines held back while none has been a packet yet (bounded memory for a huge non-capture). */
const HOLD_LINES = 2000;

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return e instanceof Error ? e.message : String(err);
  }
}

function cannotRead(path: string, err: unknown): Error {
  return new Error(`cannot read ${path}: ${reasonOf(err)}`);
}

/**
 * Errors from reading become `cannot read …`; anything else (the caller's
 * `onPacket` throwing, an abort) passes through unchanged.
 */
function readFailure(path: string, err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('E') ? cannotRead(path, err) : err;
}

/** pcap or pcapng by the file's magic number; anything else is taken as tcpdump text. */
export async function detectCaptureFormat(path: string): Promise<CaptureFormat> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw cannotRead(path, err);
  }
  try {
    const head = new Uint8Array(12);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return isPcapMagic(head.subarray(0, bytesRead)) ?? 'text';
  } catch (err) {
    throw cannotRead(path, err);
  } finally {
    await handle.close();
  }
}

/** What a reader needs to decode packets of a file again, alone, from their offsets. */
export interface CaptureFileIndex {
  path: string;
  format: CaptureFormat;
  /** pcap: the file header; pcapng: the section and interface blocks; text: empty. */
  prefix: Uint8Array;
}

/**
 * Streams the file at `path` through the matching reader, calling `onPacket` for
 * each packet in order without holding them, with the byte offset where the packet
 * starts in the file (pcap record, pcapng block, first text line). Resolves with the format, the packet
 * count and the issues found (a fatal one means the file ended early: the packets
 * before it were delivered). Throws `cannot read <path>: <reason>` when the file
 * cannot be read, and the signal's reason when aborted.
 */
export async function readCaptureFile(
  path: string,
  onPacket: (p: Packet, offset: number) => void,
  options: ReadCaptureOptions = {},
): Promise<{
  format: CaptureFormat;
  packets: number;
  issues: CaptureIssue[];
  index: CaptureFileIndex;
}> {
  const { signal, betweenChunks } = options;
  signal?.throwIfAborted();
  const format = await detectCaptureFormat(path);
  const issues: CaptureIssue[] = [];
  let packets = 0;
  const onIssue = (i: CaptureIssue): void => {
    issues.push(i);
  };

  if (format === 'text') {
    const index = { path, format, prefix: new Uint8Array(0) };
    // Packets that are nothing but unparsed text (`raw`) and their issues wait until a real
    // packet line shows the file is tcpdump output; a file with none is said to be not
    // tcpdump output rather than drawn as packets of RAW (a hop that lost the probe).
    let recognised = false;
    let held: { packets: [Packet, number][]; issues: CaptureIssue[] } | undefined = {
      packets: [],
      issues: [],
    };
    let unrecognised = 0;
    await streamText(
      path,
      (p, offset) => {
        if (!recognised && p.layers.some((l) => l.kind !== 'raw')) {
          recognised = true;
          for (const [q, at] of held?.packets ?? []) {
            packets++;
            onPacket(q, at);
          }
          issues.push(...(held?.issues ?? []));
          held = undefined;
        }
        if (recognised) {
          packets++;
          onPacket(p, offset);
        } else if (held && unrecognised++ < HOLD_LINES) held.packets.push([p, offset]);
      },
      (i) => {
        if (recognised) issues.push(i);
        else if (held && held.issues.length < HOLD_LINES) held.issues.push(i);
      },
      signal,
      betweenChunks,
    );
    if (!recognised && unrecognised > 0) {
      return { format, packets: 0, issues: [{ at: 1, fatal: true, message: NOT_TCPDUMP }], index };
    }
    return { format, packets, issues, index };
  }
  const walker = new RecordOffsetWalker();
  const decoder = createPcapDecoder({
    packet(p) {
      packets++;
      onPacket(p, walker.take());
    },
    issue: onIssue,
  });
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
      signal?.throwIfAborted();
      walker.push(chunk as Uint8Array);
      decoder.push(chunk as Uint8Array);
      const wait = betweenChunks?.();
      if (wait) await wait;
    }
  } catch (err) {
    throw readFailure(path, err, signal);
  }
  decoder.end();
  return { format, packets, issues, index: { path, format, prefix: walker.prefix() } };
}

/**
 * Decodes `count` packets again from the file of `index`, starting at byte `from` and
 * stopping before byte `to` (the next packet's offset, or the end of the file). This is
 * how the packet table shows a page of a big capture without holding it: the offsets come
 * from the hop's records. Text noise lines (no packet) in the range are skipped.
 */
export async function readPacketsAt(
  index: CaptureFileIndex,
  from: number,
  to: number | undefined,
  count: number,
): Promise<Packet[]> {
  let handle;
  try {
    handle = await open(index.path, 'r');
  } catch (err) {
    throw cannotRead(index.path, err);
  }
  let bytes: Buffer;
  try {
    const end = to ?? (await handle.stat()).size;
    bytes = Buffer.alloc(Math.max(0, end - from));
    let got = 0;
    while (got < bytes.length) {
      const { bytesRead } = await handle.read(bytes, got, bytes.length - got, from + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    bytes = bytes.subarray(0, got);
  } catch (err) {
    throw cannotRead(index.path, err);
  } finally {
    await handle.close();
  }
  const out: Packet[] = [];
  const keep = (p: Packet): void => {
    if (out.length < count && !isTextNoise(p)) out.push(p);
  };
  if (index.format === 'text') {
    const parser = createTcpdumpTextParser({ packet: keep });
    pushTextLines(bytes, parser);
    parser.end();
  } else {
    const decoder = createPcapDecoder({ packet: keep });
    decoder.push(index.prefix);
    decoder.push(bytes);
    decoder.end();
  }
  return out;
}

/** Lines remembered with their byte offsets: more than any one packet's hex dump spans. */
const LINE_RING = 1 << 16;

/** Bytes decoded into one string at a time (see {@link pushTextLines}). */
const TEXT_SEGMENT = 1 << 16;

/**
 * Pushes the lines of `bytes` (LF or CRLF) to `parser`; `onLine(offset)` hears the byte
 * offset (within `bytes`) of each line just before it is pushed. Pure-ASCII text (nearly
 * all tcpdump output) skips UTF-8 decoding: on a million-packet text that is a good part
 * of the reading time, and there characters are bytes.
 *
 * The bytes are decoded TEXT_SEGMENT at a time, cut after a newline: a string that size is
 * an ordinary young-generation string that stays in cache while its lines are parsed,
 * where a 1 MiB one is a large (or external) object every line is a slice of. Measured on
 * the bench's VXLAN hop text: a quarter less CPU in the parser for the same packets.
 */
function pushTextLines(
  bytes: Buffer,
  parser: { push(line: string): void },
  onLine?: (offset: number) => void,
): void {
  const ascii = isAscii(bytes);
  let byteAt = 0;
  let segment = 0;
  while (segment < bytes.length) {
    let cut = bytes.length;
    if (segment + TEXT_SEGMENT < bytes.length) {
      let nl = bytes.lastIndexOf(10, segment + TEXT_SEGMENT - 1);
      // A line longer than a segment is decoded whole.
      if (nl < segment) nl = bytes.indexOf(10, segment + TEXT_SEGMENT);
      if (nl >= 0) cut = nl + 1;
    }
    const text = bytes.toString(ascii ? 'latin1' : 'utf8', segment, cut);
    segment = cut;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const stop = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      const line = text.slice(start, stop);
      onLine?.(byteAt);
      parser.push(line);
      byteAt += ascii ? nl + 1 - start : Buffer.byteLength(text.slice(start, nl + 1));
      start = nl + 1;
    }
    if (start < text.length) {
      // Only the last segment can end without a newline.
      const last = text.slice(start);
      onLine?.(byteAt);
      parser.push(last.endsWith('\r') ? last.slice(0, -1) : last);
    }
  }
}

/**
 * Splits the file into lines for the text parser, one chunk at a time. Lines are cut on
 * bytes first, so a chunk boundary never splits a UTF-8 character. Each packet is handed
 * on with the byte offset of its first line (the parser numbers lines; a ring of recent
 * line offsets turns the number into the offset).
 */
async function streamText(
  path: string,
  onPacket: (p: Packet, offset: number) => void,
  onIssue: (i: CaptureIssue) => void,
  signal?: AbortSignal,
  betweenChunks?: () => Promise<unknown> | undefined,
): Promise<void> {
  const lineOffsets = new Float64Array(LINE_RING);
  let lineNo = 0;
  let chunkAt = 0;
  const parser = createTcpdumpTextParser({
    packet(p) {
      const line = p.source;
      const offset =
        line !== undefined && line > lineNo - LINE_RING ? lineOffsets[line % LINE_RING]! : -1;
      onPacket(p, offset);
    },
    issue: onIssue,
  });
  const pushLines = (bytes: Buffer): void => {
    pushTextLines(bytes, parser, (at) => {
      lineNo++;
      lineOffsets[lineNo % LINE_RING] = chunkAt + at;
    });
    chunkAt += bytes.length;
  };
  /** The bytes of an unfinished last line, carried to the next chunk. */
  let carry: Buffer | undefined;
  try {
    for await (const data of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
      signal?.throwIfAborted();
      const chunk = data as Buffer;
      const lastNl = chunk.lastIndexOf(10);
      if (lastNl < 0) {
        carry = carry ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
        continue;
      }
      if (carry) {
        // Only the line cut by the chunk boundary is joined; the rest is not copied.
        const firstNl = chunk.indexOf(10);
        pushLines(Buffer.concat([carry, chunk.subarray(0, firstNl + 1)]));
        if (firstNl < lastNl) pushLines(chunk.subarray(firstNl + 1, lastNl + 1));
      } else {
        pushLines(chunk.subarray(0, lastNl + 1));
      }
      carry = lastNl + 1 < chunk.length ? Buffer.from(chunk.subarray(lastNl + 1)) : undefined;
      const wait = betweenChunks?.();
      if (wait) await wait;
    }
  } catch (err) {
    throw readFailure(path, err, signal);
  }
  if (carry) pushLines(carry);
  parser.end();
}

/** Reads the whole file into memory: {@link readCaptureFile} keeping the packets. */
export async function loadCaptureFile(
  path: string,
  options: ReadCaptureOptions = {},
): Promise<{ format: CaptureFormat; packets: Packet[]; issues: CaptureIssue[] }> {
  const packets: Packet[] = [];
  const { format, issues } = await readCaptureFile(path, (p) => packets.push(p), options);
  return { format, packets, issues };
}
