/**
 * Reads a hop name back (`03-nodeA-vxlan.calico` → index 3, node nodeA,
 * interface vxlan.calico), for captures that come without a plan: files named
 * by the lab, the CLI's `analyze`, or a user.
 */
import type { HopLocation } from './types';

// Index, a location without '-' that is not just digits, then the interface (which
// may contain '-' or '.').
const HOP_NAME = /^(?:(\d{1,4})-)?([^-]*[^-\d][^-]*)-(.+)$/s;

function locationKind(name: string): HopLocation['kind'] {
  if (/^pod/i.test(name)) return 'pod';
  if (/^underlay/i.test(name)) return 'underlay';
  return 'node';
}

/**
 * Splits `NN-<location>-<interface>`; the index is optional. A name that does
 * not fit becomes a node location named after the whole name, with no interface.
 * The location ends at the first `-`, so a location name containing `-` (a real
 * pod name) reads back wrong without a plan; with a plan the diagram uses the
 * plan's locations instead.
 */
export function parseHopName(name: string): {
  index?: number;
  location: HopLocation;
  interface: string;
} {
  const m = HOP_NAME.exec(name);
  const [, index, location, iface] = m ?? [];
  if (location === undefined || iface === undefined) {
    return { location: { kind: locationKind(name), name }, interface: '' };
  }
  return {
    ...(index !== undefined ? { index: Number(index) } : {}),
    location: { kind: locationKind(location), name: location },
    interface: iface,
  };
}
