/**
 * Where packet readers (the pcap/pcapng decoder, the tcpdump text parser) deliver
 * their output: one call per packet, in capture order, so callers can stream a
 * million-packet file without holding it.
 */
import type { CaptureIssue, Packet, TextNoise } from './model';

export interface PacketSink {
  packet(p: Packet): void;
  issue?(i: CaptureIssue): void;
  /** Text lines that are not packets (tcpdump text only); they are never packets. */
  noise?(n: TextNoise): void;
}
