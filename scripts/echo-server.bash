# Sourced by scripts and tests: starts build/bin/wsm-echo-server on a free
# port of 127.0.0.1 and stops it when the calling shell exits.
#
#   start_echo_server BIN_DIR   sets ECHO_SERVER_URL and ECHO_SERVER_PID
#   listening_on LOG            prints what follows "listening on " in LOG,
#                               waiting up to five seconds for it

listening_on() {
  local found
  for _ in $(seq 50); do
    found=$(sed -n 's/^listening on //p' "$1")
    [ -n "$found" ] && { echo "$found"; return 0; }
    sleep 0.1
  done
  return 1
}

start_echo_server() {
  local bin_dir=$1
  local log
  log=$(mktemp)
  "$bin_dir/wsm-echo-server" --port=0 >"$log" 2>&1 &
  ECHO_SERVER_PID=$!
  trap 'kill "$ECHO_SERVER_PID" 2>/dev/null; wait "$ECHO_SERVER_PID" 2>/dev/null; rm -f "'"$log"'"' EXIT
  # The server prints its URL once it listens.
  ECHO_SERVER_URL=$(listening_on "$log") && return 0
  echo "wsm-echo-server did not start:" >&2
  cat "$log" >&2
  return 1
}
