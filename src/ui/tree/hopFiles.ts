/**
 * Which files of a folder are its hops, in hop order. Kept free of `vscode` for unit tests.
 * A folder holding pcap/pcapng files uses those (the `.txt` beside them are their text
 * renderings); otherwise its tcpdump text files, leaving out notes such as commands.txt.
 */

const PCAP = /\.(pcap|pcapng|cap)$/i;
const TEXT = /\.(txt|log|tcpdump)$/i;
const NOT_CAPTURES = /^(commands|readme|notes)\.txt$/i;

/** Hop files among `names` (file names of one folder), sorted by name as numbered hops are. */
export function hopFilesIn(names: readonly string[]): string[] {
  const sorted = [...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const pcaps = sorted.filter((n) => PCAP.test(n));
  if (pcaps.length > 0) return pcaps;
  return sorted.filter((n) => TEXT.test(n) && !NOT_CAPTURES.test(n));
}
