#!/usr/bin/env bash
# The examples as processes against wsm-echo-server on 127.0.0.1: the exact
# lines a user sees, and that each ends by itself.
set -uo pipefail
bin_dir=$1
source_dir=$(cd "$(dirname "$0")/.." && pwd)
source "$source_dir/scripts/echo-server.bash"
passed=0
failed=0
check() { # NAME EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1"; diff <(echo "$2") <(echo "$3"); fi
}

start_echo_server "$bin_dir"

# examples/echo: the seed's README example.
output=$(timeout 20 "$bin_dir/wsm-example-echo" "$ECHO_SERVER_URL" hello world)
check "echo: status" 0 $?
check "echo: lines" "$(printf '%s\n' 'STATE CONNECTING' 'STATE CONNECTED' \
  'ECHO hello' 'ECHO world' 'STATE DISCONNECTED')" "$output"
error=$("$bin_dir/wsm-example-echo" "http://127.0.0.1/" 2>&1 >/dev/null)
check "echo: bad URL status" 2 $?
check "echo: bad URL message" \
  "wsm-example-echo: invalid URL 'http://127.0.0.1/': scheme must be ws:// or wss://, not http://" "$error"

# examples/producer: 10,000 messages through a queue of 64, waiting for
# room: none refused, every echo back in order.
output=$(timeout 60 "$bin_dir/wsm-example-producer" "$ECHO_SERVER_URL" 10000 1024)
check "producer: status" 0 $?
check "producer: nothing refused, all in order" "$(printf '%s\n' \
  'sent 10000 messages of 1024 bytes, 0 refused' 'echoes: 10000, in order')" \
  "$(head -2 <<<"$output")"
asked=$(sed -n 's/^asked for room \([0-9]*\) times$/\1/p' <<<"$output")
[ "${asked:-0}" -gt 1 ] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL producer: it never waited for room: $output"; }

# examples/confirmed: outputs the echo confirms, behind a gate that
# subscribes once per connect (the server killed halfway is in
# confirmed_delivery_test.sh).
output=$(timeout 20 "$bin_dir/wsm-example-confirmed" "$ECHO_SERVER_URL" --machines=3 --outputs=100)
check "confirmed: status" 0 $?
check "confirmed: lines" "$(printf '%s\n' 'halfway' \
  'confirmed 300 of 300 outputs on 3 machines, 0 refused, 0 undelivered' \
  'gate subscribed 3 times, 0 written again')" "$output"
error=$("$bin_dir/wsm-example-confirmed" "$ECHO_SERVER_URL" --node=nowhere 2>&1 >/dev/null)
check "confirmed: bad node status" 2 $?
check "confirmed: bad node message" \
  "wsm-example-confirmed: --node nowhere: write it as HOST:PORT" "$error"

# examples/select: two machines, a timer and a plain actor in one behavior.
output=$(timeout 20 "$bin_dir/wsm-example-select" "$ECHO_SERVER_URL" 2)
check "select: status" 0 $?
check "select: lines" "$(printf '%s\n' 'A and B connected' \
  'tick 1: to A' 'A echoed: tick 1' 'upper-caser: TICK 1' 'B echoed: TICK 1' \
  'tick 2: to A' 'A echoed: tick 2' 'upper-caser: TICK 2' 'B echoed: TICK 2' \
  'done after 2 rounds' 'both machines ended')" "$output"

# examples/distributed: machines placed on a wsm-node, heard here.
node_log=$(mktemp)
"$bin_dir/wsm-node" --port=0 >"$node_log" 2>&1 &
node_pid=$!
node=$(listening_on "$node_log")
output=$(timeout 20 "$bin_dir/wsm-example-distributed" "${node%:*}" "${node#*:}" "$ECHO_SERVER_URL" 3)
check "distributed: status" 0 $?
# The three machines answer in any order; the last line comes last.
check "distributed: echoes" "$(printf '%s\n' 'ECHO hello from machine 1' \
  'ECHO hello from machine 2' 'ECHO hello from machine 3')" "$(grep '^ECHO' <<<"$output" | sort)"
check "distributed: last line" "DONE 3 echoes from 3 remote machines" "$(tail -1 <<<"$output")"
kill -TERM "$node_pid"
timeout 10 tail --pid="$node_pid" -f /dev/null
check "distributed: the node ends on SIGTERM" 0 $?
rm -f "$node_log"

# examples/feed: a recorded feed that ends each connection after playing;
# the client subscribes again on every CONNECTED.
feed_log=$(mktemp)
"$bin_dir/wsm-echo-server" --port=0 --log --close-after-play \
  --play="$source_dir/examples/feed/recorded-feed.jsonl" >"$feed_log" &
feed_pid=$!
feed_url=$(listening_on "$feed_log")
output=$(timeout 20 "$bin_dir/wsm-example-feed" "$feed_url" --trades=6)
check "feed: status" 0 $?
check "feed: lines" "$(printf '%s\n' 'STATE CONNECTING' 'STATE CONNECTED' \
  'SUBSCRIBED BTC-USD' \
  'TRADE BTC-USD buy 0.00150000 @ 43012.55' \
  'TRADE BTC-USD sell 0.02000000 @ 43011.90' \
  'TRADE BTC-USD buy 0.10000000 @ 43013.00' \
  'TRADE BTC-USD buy 0.00420000 @ 43014.25' \
  'STATE DISCONNECTED: closed by peer: 1001' \
  'STATE WAITING: closed by peer: 1001' 'STATE CONNECTING' \
  'STATE CONNECTED' 'SUBSCRIBED BTC-USD' \
  'TRADE BTC-USD buy 0.00150000 @ 43012.55' \
  'TRADE BTC-USD sell 0.02000000 @ 43011.90' 'DONE after 6 trades')" "$output"
kill "$feed_pid"; wait "$feed_pid" 2>/dev/null
check "feed: subscribed on each connection" 2 "$(grep -c '^RECV text' "$feed_log")"
rm -f "$feed_log"

echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
