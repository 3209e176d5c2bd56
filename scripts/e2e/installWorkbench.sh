#!/usr/bin/env bash
# Installs what the real-workbench tests need, offline-friendly (npm registry + Debian only):
# Debian packages (chromium, ripgrep, build tools for node-pty/argon2) and code-server from npm
# into a cache folder outside the repo. Idempotent: a working install is reused.
# See ../../../shared/E2E-RECIPE.md for why each setting below exists.
# Env: PODPATH_CACHE (default $HOME/.cache/podpath), CODE_SERVER_VERSION (default 4.100.3).
set -euo pipefail

start=$(date +%s)
CACHE="${PODPATH_CACHE:-$HOME/.cache/podpath}"
VERSION="${CODE_SERVER_VERSION:-4.100.3}"
PREFIX="$CACHE/code-server-$VERSION"
BIN="$PREFIX/node_modules/.bin/code-server"
export DEBIAN_FRONTEND=noninteractive

# --- Debian packages: apt-get update only when something is missing -------------------------
packages=(chromium ripgrep libkrb5-dev build-essential python3 pkg-config fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "installWorkbench: missing Debian packages: ${missing[*]}; as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installWorkbench: apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

# --- code-server ----------------------------------------------------------------------------
# A good install is one whose binary runs and reports the expected version.
if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | head -1 | grep -q "^$VERSION "; then
  echo "installWorkbench: code-server $VERSION already installed at $PREFIX"
else
  echo "installWorkbench: installing code-server@$VERSION into $PREFIX (a few minutes)"
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX"
  # A private TMPDIR so the ripgrep cache trick below cannot clash with other users of /tmp.
  export TMPDIR="$CACHE/tmp"
  mkdir -p "$TMPDIR"
  # @vscode/ripgrep's postinstall would download ripgrep 13.0.0 from GitHub; Debian's rg is the
  # same release, so seed its download cache with a tar.gz holding just `rg`. The cache folder
  # is named after @vscode/ripgrep's own version: 1.15.11 in code-server 4.100.3, 1.15.9 in
  # 4.90.3 (the minimum VS Code, 1.90); both fetch ripgrep v13.0.0-10.
  for rgVersion in 1.15.9 1.15.10 1.15.11; do
    rgCache="$TMPDIR/vscode-ripgrep-cache-$rgVersion"
    mkdir -p "$rgCache"
    tar -czf "$rgCache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C /usr/bin rg
  done
  # code-server 4.90.3 builds kerberos 2.0.1 against this Node's headers, whose newer N-API
  # finalizer type its bundled node-addon-api predates: a pointer-constness error that
  # -fpermissive turns back into the warning it was.
  export CXXFLAGS="${CXXFLAGS:-} -fpermissive"
  # node-pty's postinstall runs `npx node-gyp` (yes), refuses root without unsafe_perm, and
  # node-gyp should use the local Node headers rather than download them (nodedir).
  export npm_config_yes=true npm_config_unsafe_perm=true npm_config_nodedir=/usr
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  printf '{ "name": "podpath-workbench", "private": true }\n' >"$PREFIX/package.json"
  # argon2 cannot fetch a prebuilt binary and builds from source: noisy but harmless.
  (cd "$PREFIX" && npm install --no-audit --no-fund --loglevel=error "code-server@$VERSION" </dev/null)
  if ! "$BIN" --version >/dev/null 2>&1; then
    echo "installWorkbench: code-server installed but does not run: $BIN --version failed" >&2
    exit 1
  fi
fi

echo "installWorkbench: $("$BIN" --version | head -1)"
echo "installWorkbench: CODE_SERVER=$BIN"
echo "installWorkbench: done in $(($(date +%s) - start)) s"
