/**
 * Names tcpdump prints that the text parser maps back to numbers or to the
 * packet model's canonical names (the ones the pcap decoder uses too).
 */

/** Service names tcpdump prints for ports when run without -nn (from /etc/services). */
export const PORT_NAMES: ReadonlyMap<string, number> = new Map([
  ['ftp-data', 20],
  ['ftp', 21],
  ['ssh', 22],
  ['telnet', 23],
  ['smtp', 25],
  ['domain', 53],
  ['bootps', 67],
  ['bootpc', 68],
  ['tftp', 69],
  ['http', 80],
  ['www', 80],
  ['kerberos', 88],
  ['pop3', 110],
  ['sunrpc', 111],
  ['ntp', 123],
  ['netbios-ns', 137],
  ['imap2', 143],
  ['snmp', 161],
  ['bgp', 179],
  ['ldap', 389],
  ['https', 443],
  ['microsoft-ds', 445],
  ['isakmp', 500],
  ['syslog', 514],
  ['submission', 587],
  ['ldaps', 636],
  ['imaps', 993],
  ['pptp', 1723],
  ['nfs', 2049],
  ['mysql', 3306],
  ['ipsec-nat-t', 4500],
  ['postgresql', 5432],
  ['mdns', 5353],
  ['http-alt', 8080],
  ['webcache', 8080],
  ['otv', 8472],
]);

/** ICMPv4 messages as tcpdump starts them, with the model's type name. */
export const ICMP_PHRASES: readonly (readonly [string, string])[] = [
  ['echo request', 'echo request'],
  ['echo reply', 'echo reply'],
  ['time exceeded', 'time exceeded'],
  ['ip reassembly time exceeded', 'time exceeded'],
  ['source quench', 'source quench'],
  ['redirect', 'redirect'],
  ['router advertisement', 'router advertisement'],
  ['router solicitation', 'router solicitation'],
  ['parameter problem', 'parameter problem'],
  ['time stamp query', 'time stamp request'],
  ['time stamp reply', 'time stamp reply'],
  ['information request', 'information request'],
  ['information reply', 'information reply'],
  ['address mask request', 'address mask request'],
  ['address mask is', 'address mask reply'],
  ['extended echo request', 'extended echo request'],
  ['extended echo reply', 'extended echo reply'],
];

/**
 * ICMPv6 type names as tcpdump prints them after `ICMP6, `, longest first so a
 * prefix never shadows a longer name (`multicast listener report v2`).
 */
export const ICMP6_NAMES: readonly string[] = [
  'inverse neighbor discovery advertisement',
  'inverse neighbor discovery solicitation',
  'multicast listener report v2',
  'multicast listener report',
  'multicast listener query',
  'multicast listener done',
  'destination unreachable',
  'neighbor advertisement',
  'neighbor solicitation',
  'node information query',
  'node information reply',
  'router advertisement',
  'router solicitation',
  'router renumbering',
  'extended echo request',
  'extended echo reply',
  'parameter problem',
  'packet too big',
  'time exceeded',
  'echo request',
  'echo reply',
  'redirect',
];

/**
 * The ICMP unreachable code a tcpdump phrase stands for (print-icmp.c words each
 * code differently), or undefined when the phrase is not one of them.
 */
export function unreachableCode(phrase: string): number | undefined {
  const dash = phrase.indexOf(' unreachable - ');
  const tail = dash < 0 ? '' : phrase.slice(dash + 15);
  const net = phrase.startsWith('net ');
  const host = phrase.startsWith('host ');
  if (tail === '') {
    if (!phrase.endsWith(' unreachable')) return undefined;
    if (net) return 0;
    if (host) return 1;
    if (phrase.indexOf(' port ') >= 0) return 3;
    if (phrase.indexOf(' protocol ') >= 0) return 2;
    return undefined;
  }
  if (tail.startsWith('need to frag')) return 4;
  if (tail === 'source route failed') return 5;
  if (tail === 'unknown') return net ? 6 : host ? 7 : undefined;
  if (tail === 'source host isolated') return 8;
  if (tail === 'admin prohibited filter') return 13;
  if (tail === 'admin prohibited') return net ? 9 : host ? 10 : undefined;
  if (tail === 'tos prohibited') return net ? 11 : host ? 12 : undefined;
  if (tail === 'host precedence violation') return 14;
  if (tail === 'precedence cutoff') return 15;
  if (tail.startsWith('#')) {
    const n = Number(tail.slice(1));
    return Number.isInteger(n) ? n : undefined;
  }
  return undefined;
}
