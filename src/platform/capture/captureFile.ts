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
import type { PacketSink } from '../../core/packets/sink';
import { createTcpdumpTextParser } from '../../core/packets/tcpdumpText';

export type CaptureFormat = 'pcap' | 'pcapng' | 'text';

export interface ReadCaptureOptions {
  signal?: AbortSignal;
}

const CHUNK_BYTES = 1 << 20;

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

/**
 * Streams the file at `path` through the matching reader, calling `onPacket` for
 * each packet in order without holding them. Resolves with the format, the packet
 * count and the issues found (a fatal one means the file ended early: the packets
 * before it were delivered). Throws `cannot read <path>: <reason>` when the file
 * cannot be read, and the signal's reason when aborted.
 */
export async function readCaptureFile(
  path: string,
  onPacket: (p: Packet) => void,
  options: ReadCaptureOptions = {},
): Promise<{ format: CaptureFormat; packets: number; issues: CaptureIssue[] }> {
  const { signal } = options;
  signal?.throwIfAborted();
  const format = await detectCaptureFormat(path);
  const issues: CaptureIssue[] = [];
  let packets = 0;
  const sink: PacketSink = {
    packet(p) {
      packets++;
      onPacket(p);
    },
    issue(i) {
      issues.push(i);
    },
  };

  if (format === 'text') {
    const verdict = await streamText(path, textGate(sink), signal);
    if (verdict.notTcpdump) {
      // Not one line was a packet: this is not tcpdump output, and its lines are not
      // packets of an unknown protocol (they would be drawn as a hop that lost the probe).
      return {
        format,
        packets: 0,
        issues: [{ at: 1, fatal: true, message: NOT_TCPDUMP }],
      };
    }
  } else {
    const decoder = createPcapDecoder(sink);
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
        signal?.throwIfAborted();
        decoder.push(chunk as Uint8Array);
      }
    } catch (err) {
      throw readFailure(path, err, signal);
    }
    decoder.end();
  }
  return { format, packets, issues };
}

/**
 * Splits the file into lines (LF or CRLF) for the text parser, one chunk at a time.
 * Lines are cut on bytes first, so a chunk boundary never splits a UTF-8 character,
 * and pure-ASCII text (nearly all tcpdump output) skips UTF-8 decoding: on a
 * million-packet text that is a good part of the reading time.
 */
/** The message for a text file none of whose lines is a packet. */
export const NOT_TCPDUMP = 'not tcpdump output; save it with `tcpdump -nn -e -v`';

/** Lines held back while none has been a packet yet; past this, the file is not tcpdump output. */
const HOLD_LINES = 2000;

interface GatedSink extends PacketSink {
  end(): { notTcpdump: boolean };
}

/**
 * Holds back packets that are nothing but unparsed text (`raw`) and their issues until a
 * real packet line shows the file is tcpdump output; a file with none is reported as not
 * tcpdump output instead of as packets of RAW. Bounded: at most HOLD_LINES are held.
 */
function textGate(sink: PacketSink): GatedSink {
  let recognised = false;
  let held: { packets: Packet[]; issues: CaptureIssue[] } | undefined = { packets: [], issues: [] };
  let heldCount = 0;
  return {
    packet(p) {
      if (!recognised && p.layers.some((l) => l.kind !== 'raw')) {
        recognised = true;
        for (const q of held?.packets ?? []) sink.packet(q);
        for (const i of held?.issues ?? []) sink.issue?.(i);
        held = undefined;
      }
      if (recognised) sink.packet(p);
      else if (held && heldCount++ < HOLD_LINES) held.packets.push(p);
    },
    issue(i) {
      if (recognised) sink.issue?.(i);
      else if (held && held.issues.length < HOLD_LINES) held.issues.push(i);
    },
    end() {
      return { notTcpdump: !recognised && heldCount > 0 };
    },
  };
}

async function streamText(
  path: string,
  sink: GatedSink,
  signal?: AbortSignal,
): Promise<{ notTcpdump: boolean }> {
  const parser = createTcpdumpTextParser(sink);
  const pushLines = (bytes: Buffer): void => {
    const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const stop = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      parser.push(text.slice(start, stop));
      start = nl + 1;
    }
    if (start < text.length) {
      const last = text.slice(start);
      parser.push(last.endsWith('\r') ? last.slice(0, -1) : last);
    }
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
      const complete = chunk.subarray(0, lastNl + 1);
      pushLines(carry ? Buffer.concat([carry, complete]) : complete);
      carry = lastNl + 1 < chunk.length ? Buffer.from(chunk.subarray(lastNl + 1)) : undefined;
    }
  } catch (err) {
    throw readFailure(path, err, signal);
  }
  if (carry) pushLines(carry);
  parser.end();
  return sink.end();
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
