/** IPv4/IPv6 prefix containment for rule matching (no DNS, no I/O). */

function ipv4ToBits(ip: string): bigint | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function ipv6ToBits(ip: string): bigint | undefined {
  if (!ip.includes(':')) return undefined;
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = ip.includes('::') ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array<string>(Math.max(fill, 0)).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

/**
 * True when `ip` lies inside `cidr` (`10.0.0.0/8`, or a bare address).
 * Unreadable input is simply not contained.
 */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, lenText] = cidr.trim().split('/') as [string, string | undefined];
  const v4 = ipv4ToBits(base);
  const bits = v4 !== undefined ? 32 : 128;
  const a = v4 ?? ipv6ToBits(base);
  const b = v4 !== undefined ? ipv4ToBits(ip) : ipv6ToBits(ip);
  if (a === undefined || b === undefined) return false;
  const len = lenText === undefined ? bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > bits) return false;
  const shift = BigInt(bits - len);
  return a >> shift === b >> shift;
}

/** True when the text is a single address or a /32 (/128) prefix. */
export function isHostAddress(cidr: string): boolean {
  const slash = cidr.indexOf('/');
  if (slash < 0) return true;
  const len = cidr.slice(slash + 1);
  return len === '32' || len === '128';
}
