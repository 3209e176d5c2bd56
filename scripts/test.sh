#!/usr/bin/env bash
# All of Podpath's tests, on a fresh Debian/Ubuntu machine: installs what they
# need, then runs lint and type checks, the unit tests, the root tests (the offline
# labs for real; without root they skip and say so), the extension's Mocha suite
# inside code-server's real extension host, and the Playwright UI test, both on VS Code 1.100
# and on 1.90 (the minimum engines.vscode allows). The last
# line is `N passed, N failed[, N skipped]`.
set -uo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-}"
rm -rf test-results
mkdir -p test-results/counts

stage_started=0
begin() { stage_started=$(date +%s); echo; echo "=== $1"; }
end() { echo "--- $1 took $(( $(date +%s) - stage_started )) s"; }

# Static checks count as tests of their own: a lint error fails the build.
static_pass=0; static_fail=0; static_failed=()
check() {
  local name=$1; shift
  if "$@"; then static_pass=$((static_pass + 1)); else static_fail=$((static_fail + 1)); static_failed+=("$name"); fi
}
# A stage that died before writing its counts (killed, crashed) is one failure.
ensure_counts() {
  [ -f "test-results/counts/$1.json" ] || {
    echo "stage $1 wrote no results: counting it as failed" >&2
    printf '{"stage":"%s","passed":0,"failed":1,"skipped":0,"skipReasons":[]}' "$1" > "test-results/counts/$1.json"
  }
}
write_static() {
  node -e 'const [p,f,names]=process.argv.slice(1);require("fs").writeFileSync("test-results/counts/static.json",JSON.stringify({stage:"static",passed:+p,failed:+f,skipped:0,skipReasons:[],failedChecks:names?names.split(","):[]}))' \
    "$static_pass" "$static_fail" "$(IFS=,; echo "${static_failed[*]:-}")"
}

# The workbench stages run on two VS Code versions: code-server 4.100.3 (VS Code 1.100, what
# people run) and 4.90.3 (VS Code 1.90, the minimum engines.vscode promises).
workbenches=("4.100.3 1.100" "4.90.3 1.90")

begin "install"
installWorkbenches() {
  for w in "${workbenches[@]}"; do CODE_SERVER_VERSION=${w% *} bash scripts/e2e/installWorkbench.sh || return 1; done
}
if ! bash scripts/installDeps.sh all || ! installWorkbenches; then
  echo "installing dependencies failed" >&2
  static_fail=$((static_fail + 1)); static_failed+=(install); write_static
  node scripts/summarize.mjs; exit 1
fi
end install

begin "lint, format and type checks"
check eslint npx eslint --max-warnings 0 .
check import-cycles npx depcruise src webview --config .dependency-cruiser.cjs
check prettier npx prettier --check --log-level warn .
check typecheck npx tsc -p tsconfig.json --noEmit
if [ -f webview/tsconfig.json ]; then check typecheck-webview npx tsc -p webview/tsconfig.json --noEmit; fi
check build node esbuild.mjs
if [ -f scripts/checkCommands.mjs ]; then check commands-registered node scripts/checkCommands.mjs; fi
write_static
end checks

begin "unit tests (plain Node; nothing here builds namespaces)"
timeout -s KILL 900 node scripts/runNodeTests.mjs unit test/unit
ensure_counts unit
end unit

# The offline labs for real: network namespaces, BIRD, tcpdump. As root only; without
# root every test skips and says so. The lock keeps two lab test runs on one machine
# from building the same lab at once.
begin "root tests (offline labs in network namespaces)"
lock=()
if command -v flock >/dev/null; then lock=(flock /tmp/pp-lab.lock); fi
timeout -s KILL 1800 "${lock[@]}" node scripts/runNodeTests.mjs root test/root
ensure_counts root
end root

if grep -q '"test:workbench"' package.json; then
  for w in "${workbenches[@]}"; do
    stage="workbench-vscode-${w#* }"
    begin "extension Mocha suite in code-server ${w% *}'s extension host (VS Code ${w#* })"
    CODE_SERVER_VERSION=${w% *} PODPATH_STAGE=$stage timeout -s KILL 900 npm run --silent test:workbench
    ensure_counts "$stage"
    end "$stage"
  done
fi

if grep -q '"test:ui"' package.json; then
  node scripts/e2e/packageVsix.mjs
  for w in "${workbenches[@]}"; do
    stage="ui-vscode-${w#* }"
    begin "Playwright UI test in code-server ${w% *} (VS Code ${w#* })"
    # As root the UI tests build offline labs too (Run lab, Trace to… on a lab dressed as
    # kind): under the same lab lock as the root tests.
    CODE_SERVER_VERSION=${w% *} PODPATH_STAGE=$stage timeout -s KILL 1200 "${lock[@]}" node scripts/runNodeTests.mjs "$stage" test/e2e
    ensure_counts "$stage"
    end "$stage"
  done
fi

echo
echo "=== summary"
node scripts/summarize.mjs
