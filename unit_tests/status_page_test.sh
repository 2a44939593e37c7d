#!/usr/bin/env bash
# The status page in a real browser: Debian's headless Chromium loads the
# page of a wsm-cat whose machine talks to wsm-echo-server, and the test
# drives it through the DevTools protocol, over a WebSocket that another
# wsm-cat holds. The page shows the machine CONNECTED; when the server goes
# away and comes back on the same port the page follows DISCONNECTED and
# CONNECTED as they happen, without a reload; a screenshot is saved.
#   status_page_test.sh BIN_DIR [SCREENSHOT.png]
set -uo pipefail
bin_dir=$1
screenshot=${2:-}
source "$(dirname "$0")/support/process_checks.bash"

start_server() { # PORT
  "$bin_dir/wsm-echo-server" --port="$1" >"$work/server.log" 2>&1 &
  server_pid=$!
  url=$(wait_for "$work/server.log" 's/^listening on //p') || exit 1
}
start_server 0
port=$(sed 's|.*:\([0-9]*\)/$|\1|' <<<"$url")

# Three machines would need three processes: one wsm-cat is one machine.
# Its stdin, a pipe this script holds open, keeps it running.
mkfifo "$work/stdin"
"$bin_dir/wsm-cat" --metrics-address=127.0.0.1:0 --retry-delay=300ms --ping-interval=1s \
  "$url" <"$work/stdin" >/dev/null 2>"$work/cat.err" &
pids+=($!)
exec {hold_stdin}>"$work/stdin"
page=$(wait_for "$work/cat.err" 's|^wsm-cat: metrics on http://[^ ]*, status page on \(.*\)$|\1|p') || exit 1

chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$work/profile" --remote-debugging-port=0 \
  --window-size=1100,520 about:blank >"$work/chromium.log" 2>&1 &
pids+=($!)
devtools_port=$(wait_for "$work/profile/DevToolsActivePort" '1p') || exit 1
target=$(curl -sS --max-time 5 -X PUT "http://127.0.0.1:$devtools_port/json/new?$page")
ws=$(jq -r .webSocketDebuggerUrl <<<"$target")

# The DevTools protocol over a WebSocket: one JSON command a line in, one
# JSON answer a line out, through wsm-cat.
[ -n "$ws" ] && [ "$ws" != null ] || { echo "FAIL no page target: $target"; exit 1; }
coproc CDP { "$bin_dir/wsm-cat" --text --linger=0s "$ws" 2>"$work/cdp.err"; }
pids+=($CDP_PID)
# Plain descriptors: a coprocess's own are closed in command substitutions.
exec {to_cdp}>&"${CDP[1]}" {from_cdp}<&"${CDP[0]}"
command_id=0
cdp() { # METHOD PARAMS_JSON: prints the result object of the answer
  # After one command went unanswered the link is gone: the rest fail at once.
  [ -e "$work/cdp-lost" ] && return 1
  command_id=$((command_id + 1))
  jq -cn --argjson id "$command_id" --arg method "$1" --argjson params "$2" \
    '{id: $id, method: $method, params: $params}' >&"$to_cdp"
  local line
  while read -t 10 -r line <&"$from_cdp"; do
    if [ "$(jq -r .id <<<"$line" 2>/dev/null)" == "$command_id" ]; then
      jq -c .result <<<"$line"; return 0
    fi
  done
  echo "no answer to $1; the DevTools link said:" >&2
  cat "$work/cdp.err" >&2
  touch "$work/cdp-lost"
  return 1
}
evaluate() { # EXPRESSION: its value, as JSON text
  cdp Runtime.evaluate "$(jq -cn --arg e "$1" '{expression: $e, returnByValue: true}')" |
    jq -r .result.value
}
await() { # NAME EXPRESSION EXPECTED: polls the page for 15 s at most
  local value
  for _ in $(seq 75); do
    value=$(evaluate "$2")
    [ "$value" == "$3" ] && break
    sleep 0.2
  done
  check "$1" "$3" "$value"
}

row_state="document.querySelector('#machines tbody tr')?.dataset.state ?? 'none'"
live_states="[...document.querySelectorAll('#timeline tr.live')].reverse().map(r => r.cells[3].textContent).join(',')"
await "the page shows the machine CONNECTED" "$row_state" CONNECTED
check "the machine's URL is on the page" "$url" "$(evaluate "document.querySelector('#machines tbody tr').cells[1].textContent")"
check "the event stream is live" "live" "$(evaluate "document.getElementById('link').textContent")"
# A mark in the page's window: a reload would wipe it.
evaluate "window.loadedOnce = 'yes'" >/dev/null

kill "$server_pid"; wait "$server_pid" 2>/dev/null
# The drop, then the retries' waits, as they happen.
first_live="[...document.querySelectorAll('#timeline tr.live')].reverse().slice(0, 3).map(r => r.cells[3].textContent).join(',')"
await "the page follows the drop and the retries" "$first_live" "DISCONNECTED,WAITING,CONNECTING"
sleep 0.5
start_server "$port"
pids+=($server_pid)
await "and the machine back" "$row_state" CONNECTED
live=$(evaluate "$live_states")
check "every change came live, in order, ending CONNECTED" "CONNECTED" "${live##*,}"
check "DISCONNECTED came first" "DISCONNECTED" "${live%%,*}"
check "the page was not reloaded" "yes" "$(evaluate "window.loadedOnce")"
check "the events counted on the page match the live rows" \
  "$(evaluate "document.querySelectorAll('#timeline tr.live').length")" \
  "$(evaluate "document.body.dataset.liveEvents")"
check "epoch 2 on the machine's row" "2" \
  "$(evaluate "document.querySelector('#machines tbody tr').cells[4].textContent")"

if [ -n "$screenshot" ]; then
  sleep 2.2 # the counters' refresh
  cdp Page.captureScreenshot '{"format": "png"}' | jq -r .data | base64 -d >"$screenshot"
  check "a screenshot is a PNG" "PNG" "$(head -c 4 "$screenshot" | tail -c 3)"
fi

report "status page"
