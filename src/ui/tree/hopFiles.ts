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
  return hopFilesOf(names).files;
}

/**
 * The hop files of a folder and every other file with the reason it is not a hop, so a
 * person is told which files were left out rather than finding out from the diagram.
 */
export function hopFilesOf(names: readonly string[]): {
  files: string[];
  skipped: { name: string; why: string }[];
} {
  const sorted = [...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const pcaps = sorted.filter((n) => PCAP.test(n));
  const files =
    pcaps.length > 0 ? pcaps : sorted.filter((n) => TEXT.test(n) && !NOT_CAPTURES.test(n));
  const stems = new Set(pcaps.map((n) => n.replace(PCAP, '')));
  const skipped = sorted
    .filter((n) => !files.includes(n))
    .map((name) => {
      let why: string;
      if (NOT_CAPTURES.test(name)) why = 'notes, not a capture';
      else if (TEXT.test(name) && pcaps.length > 0) {
        const stem = name.replace(/\.[^.]+$/, '');
        why = stems.has(stem)
          ? `the text rendering of ${stem}.pcap`
          : 'the folder has pcap files, and text files are read only where there are none';
      } else why = 'not a pcap, pcapng or tcpdump text file (by its extension)';
      return { name, why };
    });
  return { files, skipped };
}
