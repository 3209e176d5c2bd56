/**
 * Renders a bird2 configuration equivalent to calico-node's bird.cfg for the
 * node-to-node mesh (no IPIP): kernel protocol learning Felix's /32 routes and
 * programming BGP routes (`proto bird`), the node's block as a blackhole, and
 * an iBGP session per peer exporting only pool routes.
 */

export interface BirdConfigInput {
  /** Node name, for the comment only. */
  node: string;
  routerId: string;
  /** Address the BGP session is sourced from (the node IP). */
  sourceAddress: string;
  asn: number;
  /** This node's IPAM block, e.g. `192.168.49.64/26`. */
  block: string;
  /** The IP pool, e.g. `192.168.0.0/16`. */
  pool: string;
  peers: readonly { ip: string }[];
  logPath: string;
  /** Seconds before the first connection attempt (calico-node: 2). */
  connectDelaySeconds?: number;
  /** Fault injection: prefixes this node refuses from its BGP peers. */
  rejectFromPeers?: readonly string[];
  /** Fault injection: kernel routes BIRD must not learn (so it never advertises them). */
  ignoreKernelRoutes?: readonly string[];
}

/** `Mesh_172_18_0_6`: calico-node's protocol name for a mesh peer. */
export function meshProtocolName(peerIp: string): string {
  return `Mesh_${peerIp.replace(/[.:]/g, '_')}`;
}

function importFilter(prefixes: readonly string[] | undefined, fallback: string): string {
  if (!prefixes || prefixes.length === 0) return fallback;
  const tests = prefixes.map((p) => `net = ${p}`).join(' || ');
  return `import where !(${tests});`;
}

/**
 * bird2 configuration text for one node. With the defaults, the output is the
 * reference configuration in test/fixtures/netns/calico-bgp/bgp/<node>.bird.conf.
 */
export function renderBirdConfig(input: BirdConfigInput): string {
  const delay = input.connectDelaySeconds ?? 2;
  const kernelImport = importFilter(
    input.ignoreKernelRoutes,
    'import all;                              # learn pod /32 routes felix adds',
  );
  const peerImport = importFilter(
    input.rejectFromPeers,
    "import all;        # Import all routes, since we don't know what the upstream topology is.",
  );
  const peers = input.peers
    .map(
      (p) => `protocol bgp ${meshProtocolName(p.ip)} from bgp_template {
  neighbor ${p.ip} as ${input.asn};
  source address ${input.sourceAddress};  # The local address we use for the TCP connection
}
`,
    )
    .join('\n');
  return `# bird2 rendition of calico-node's bird.cfg (node-to-node mesh, no IPIP)
router id ${input.routerId};
log "${input.logPath}" all;

function calico_aggr ()
{
  # Block ${input.block} is confirmed
  if ( net = ${input.block} ) then { accept; }
  if ( net ~ ${input.block} ) then { reject; }
}

filter calico_export_to_bgp_peers {
  calico_aggr();
  if ( net ~ ${input.pool} ) then {
    accept;
  }
  reject;
}

filter calico_kernel_programming {
  # bird2 would also push the direct1 (device) routes into the kernel, which
  # fails with "Netlink: File exists"; BIRD 1.x (calico-node) never exports
  # device routes, so drop them here to behave the same.
  if ( source = RTS_DEVICE ) then reject;
  accept;
}

protocol kernel {
  ipv4 {
    ${kernelImport}
    export filter calico_kernel_programming; # Default is export none
  };
  learn;             # Learn all alien routes from the kernel
  persist;           # Don't remove routes on bird shutdown
  scan time 2;       # Scan kernel routing table every 2 seconds
  merge paths on;    # Allow export multipath routes (ECMP)
  graceful restart;
  metric 0;          # BIRD 1.x (as in calico-node) exports without a metric
}

protocol device {
  debug { states };
  scan time 2;       # Scan interfaces every 2 seconds
}

protocol direct {
  debug { states };
  ipv4;
  interface -"cali*", -"kube-ipvs*", "*"; # Exclude cali* and kube-ipvs* but include everything else.
}

# this node's IPAM block, blackholed (shows as "blackhole ... proto bird")
protocol static {
  ipv4;
  route ${input.block} blackhole;
}

template bgp bgp_template {
  debug { states };
  description "Connection to BGP peer";
  local as ${input.asn};
  ipv4 {
    gateway recursive; # This should be the default, but just in case.
    ${peerImport}
    export filter calico_export_to_bgp_peers; # Only want to export routes for workloads.
    add paths on;
  };
  graceful restart;
  connect delay time ${delay};
  connect retry time 5;
  error wait time 5,30;
}

# ------------- Node-to-node mesh -------------
${peers}`;
}
