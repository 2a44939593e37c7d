#!/usr/bin/env bash
# Runs examples/echo against wsm-echo-server and checks the exact lines a
# user sees, and that the program ends by itself with status 0.
set -euo pipefail
bin_dir=$1
source "$(dirname "$0")/../scripts/echo-server.bash"
start_echo_server "$bin_dir"
output=$(timeout 20 "$bin_dir/wsm-example-echo" "$ECHO_SERVER_URL" hello world)
expected=$'STATE CONNECTING\nSTATE CONNECTED\nECHO hello\nECHO world\nSTATE DISCONNECTED'
if [ "$output" != "$expected" ]; then
  diff <(echo "$expected") <(echo "$output") || true
  exit 1
fi
# A bad URL: one line naming the problem, status 2.
set +e
error=$("$bin_dir/wsm-example-echo" "http://127.0.0.1/" 2>&1 >/dev/null)
status=$?
set -e
[ "$status" -eq 2 ] || { echo "bad URL gave status $status"; exit 1; }
[ "$error" = "wsm-example-echo: invalid URL 'http://127.0.0.1/': scheme must be ws://, not http://" ] ||
  { echo "bad URL gave: $error"; exit 1; }
echo "example echo: 2 passed, 0 failed"
