/**
 * kube-proxy's chain and set names, computed the way kube-proxy computes them,
 * so a Service's rules are found even when a dump carries no comments.
 *
 * iptables: `KUBE-SVC-` + the first 16 base32 characters of
 * sha256("ns/name:port" + "tcp"); endpoints add "IP:PORT" to the hashed text.
 * nftables: `service-` + 8 base32 characters of sha256("ns/name/tcp/port"),
 * then the readable name itself; endpoints add "__IP/PORT".
 */
import { sha256, utf8Bytes } from './sha256';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function hash(text: string, length: number): string {
  return base32(sha256(utf8Bytes(text))).slice(0, length);
}

/** A Service port as kube-proxy keys it. */
export interface ServicePortKey {
  namespace: string;
  name: string;
  /** The port's name; empty for a single unnamed port. */
  portName: string;
  /** `tcp`, `udp` or `sctp` (any case). */
  protocol: string;
}

/**
 * `ns/name:port`, or `ns/name` for an unnamed port (kube-proxy's ServicePortName).
 * Before about 1.16 an unnamed port still kept the colon (`ns/name:`); pass
 * `legacyColon` to get that form.
 */
export function servicePortName(key: ServicePortKey, legacyColon = false): string {
  const base = `${key.namespace}/${key.name}`;
  return key.portName || legacyColon ? `${base}:${key.portName}` : base;
}

/** The iptables chains kube-proxy uses for one Service port. */
export interface IptablesServiceChains {
  svc: string;
  svl: string;
  ext: string;
  fw: string;
  /** Before 1.24 this chain did what KUBE-EXT/KUBE-SVL do now. */
  xlb: string;
}

/**
 * The KUBE-SVC/SVL/EXT/FW/XLB chain names of a Service port.
 *
 * @param key namespace, name, port name and protocol.
 */
export function iptablesServiceChains(
  key: ServicePortKey,
  legacyColon = false,
): IptablesServiceChains {
  const h = hash(servicePortName(key, legacyColon) + key.protocol.toLowerCase(), 16);
  return {
    svc: `KUBE-SVC-${h}`,
    svl: `KUBE-SVL-${h}`,
    ext: `KUBE-EXT-${h}`,
    fw: `KUBE-FW-${h}`,
    xlb: `KUBE-XLB-${h}`,
  };
}

/**
 * The KUBE-SEP chain of one endpoint of a Service port.
 *
 * @param endpoint `IP:PORT` as the DNAT target.
 */
export function iptablesEndpointChain(key: ServicePortKey, endpoint: string): string {
  return `KUBE-SEP-${hash(servicePortName(key) + key.protocol.toLowerCase() + endpoint, 16)}`;
}

/** `HASH-ns/name/proto/port`, the shared base of the nftables service chains. */
export function nftablesServiceChainBase(key: ServicePortKey): string {
  const name = `${key.namespace}/${key.name}/${key.protocol.toLowerCase()}/${key.portName}`;
  return `${hash(name, 8)}-${name}`;
}

/**
 * `HASH-ns/name/proto/port__IP/PORT`, the base of an nftables endpoint chain and
 * of its affinity set.
 *
 * @param ip the endpoint address.
 */
export function nftablesEndpointChainBase(key: ServicePortKey, ip: string, port: number): string {
  const name = `${key.namespace}/${key.name}/${key.protocol.toLowerCase()}/${key.portName}__${ip}/${port}`;
  return `${hash(name, 8)}-${name}`;
}
