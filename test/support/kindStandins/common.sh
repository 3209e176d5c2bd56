# Shared by the kind / docker / kubectl stand-ins: log the argv, then fail or stall on request.
#   PP_STANDIN_LOG   file that gets one line per call: the tool and its argv joined by \x1f
#   PP_STANDIN_FAIL  an argv (joined by \x1f) that must fail; PP_STANDIN_FAIL_MSG its stderr
#   PP_STANDIN_SLOW  an argv (joined by \x1f) that sleeps until killed
#   PP_STANDIN_NODES the lines `kind get nodes` prints (default: the names kind gives)
#   PP_STANDIN_PAUSE seconds each call takes (a UI test that wants to see the progress steps)
standin_argv() {
  local IFS=$'\x1f'
  echo "$*"
}
standin_enter() {
  local line
  line=$(standin_argv "$(basename "$0")" "$@")
  if [ -n "${PP_STANDIN_LOG:-}" ]; then printf '%s\n' "$line" >> "$PP_STANDIN_LOG"; fi
  if [ -n "${PP_STANDIN_PAUSE:-}" ]; then sleep "$PP_STANDIN_PAUSE"; fi
  if [ -n "${PP_STANDIN_SLOW:-}" ] && [ "$line" = "$PP_STANDIN_SLOW" ]; then
    sleep 300 &
    local pid=$!
    # Killed by the runner (cancel or timeout): take the sleep down too.
    trap 'kill $pid 2>/dev/null; exit 143' TERM INT
    wait $pid
  fi
  if [ -n "${PP_STANDIN_FAIL:-}" ] && [ "$line" = "$PP_STANDIN_FAIL" ]; then
    printf '%s\n' "${PP_STANDIN_FAIL_MSG:-failed}" >&2
    exit 1
  fi
}
