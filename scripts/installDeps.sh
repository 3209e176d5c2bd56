#!/usr/bin/env bash
# Installs what Podpath's demo and tests need on a fresh Debian/Ubuntu machine:
# Debian packages (as root; only those missing) and the npm dependencies.
# Usage: bash scripts/installDeps.sh [lab|all]   (lab: what the offline lab needs)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}

lab_pkgs=(iproute2 iputils-ping tcpdump bird2 iperf3 iptables nftables conntrack procps curl python3)
all_pkgs=("${lab_pkgs[@]}" tshark git chromium fonts-dejavu-core time openssl)
if [ "$what" = lab ]; then pkgs=("${lab_pkgs[@]}"); else pkgs=("${all_pkgs[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The cluster tests check the API stand-in with the real kubectl. Any kubectl on PATH will
# do; only where there is none, Debian's kubernetes-client (the two conflict).
if [ "$what" = all ] && ! command -v kubectl >/dev/null 2>&1; then missing+=(kubernetes-client); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; answer no without a prompt.
    echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
