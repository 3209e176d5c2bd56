#!/usr/bin/env bash
# The main job: rebuild a two-node Flannel VXLAN pod datapath in network
# namespaces, ping from the pod on node A to the pod on node B, capture at every
# hop, and print the per-hop analysis. Needs root (network namespaces).
# Usage: bash scripts/demo.sh [LAB]   (default flannel-vxlan; `node dist/cli.js lab list`)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/installDeps.sh lab
node esbuild.mjs >/dev/null
exec node dist/cli.js lab run "${1:-flannel-vxlan}" --out "${PODPATH_OUT:-podpath-lab-output}"
