/**
 * Deterministic MAC addresses and interface-name suffixes for lab devices, so a
 * lab looks the same on every run (captures and state dumps can be compared).
 */

/** 32-bit FNV-1a over the UTF-16 code units of `text`. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function hexBytes(text: string, count: number): string[] {
  const out: string[] = [];
  let h = fnv1a(text);
  for (let i = 0; i < count; i++) {
    if (i % 4 === 0) h = fnv1a(`${text}#${i}`);
    out.push(((h >>> ((i % 4) * 8)) & 0xff).toString(16).padStart(2, '0'));
  }
  return out;
}

/**
 * A locally administered unicast MAC derived from `seed` (same seed, same MAC).
 * The first octet has bit 1 set and bit 0 clear, like the kernel's random MACs.
 */
export function stableMac(seed: string): string {
  const bytes = hexBytes(seed, 6);
  const first = (parseInt(bytes[0] ?? '02', 16) & 0xfc) | 0x02;
  bytes[0] = first.toString(16).padStart(2, '0');
  return bytes.join(':');
}

/** `count` lowercase hex digits derived from `seed` (for `veth1a2b3c4d` / `cali…` names). */
export function stableHex(seed: string, count: number): string {
  return hexBytes(seed, Math.ceil(count / 2))
    .join('')
    .slice(0, count);
}

/** Docker's MAC for a bridge-network IPv4 address: `02:42` then the four address octets. */
export function dockerMac(ipv4: string): string {
  const octets = ipv4.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
  return ['02', '42', ...octets].join(':');
}
