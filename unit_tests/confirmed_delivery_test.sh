#!/usr/bin/env bash
# Confirmed delivery as a user's program meets it: wsm-example-confirmed
# runs 20 machines behind one gate that subscribes on every connect, 1,000
# outputs each, sent as fast as room answers allow (a queue of 100), each
# confirmed by its echo. The server takes 4 ms over each echo, so that
# when it is SIGKILLed halfway (and started again on its port) every
# machine has outputs written that the server read and never answered.
# Then the same through a pool over two wsm-node processes, one of them
# SIGKILLed halfway. Every output must be confirmed and none refused;
# the program keeps no resend bookkeeping (the machines and the pool's
# members do). Every wait is bounded.
set -uo pipefail
bin_dir=$1
source "$(dirname "$0")/support/process_checks.bash"
machines=20
outputs=1000
all_confirmed="confirmed $((machines * outputs)) of $((machines * outputs)) outputs on $machines machines, 0 refused, 0 undelivered"

# run_confirmed NAME URL [ARGS...]: starts the example in the background,
# its output in $work/NAME.out; sets `run`.
run_confirmed() {
  local name=$1 url=$2
  shift 2
  timeout 120 "$bin_dir/wsm-example-confirmed" "$url" --machines=$machines \
    --outputs=$outputs "$@" >"$work/$name.out" 2>"$work/$name.err" &
  run=$!
  pids+=("$run")
}

# The number in `gate subscribed N times` of an example's output, and in
# `N written again`.
subscriptions() { sed -n 's/^gate subscribed \([0-9]*\) times.*/\1/p' "$1"; }
written_again() { sed -n 's/^gate subscribed .*, \([0-9]*\) written again$/\1/p' "$1"; }

# at_least NAME MINIMUM ACTUAL
at_least() {
  if [ "${3:-0}" -ge "$2" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: ${3:-none}, fewer than $2"; fi
}

# -- the server SIGKILLed halfway and started again on its port ------------------
"$bin_dir/wsm-echo-server" --port=0 --log --echo-delay=4ms >"$work/first-server.log" 2>&1 &
server=$!
pids+=("$server")
url=$(wait_for "$work/first-server.log" 's/^listening on //p') || exit 1
port=${url##*:}
port=${port%/}
run_confirmed restart "$url"
wait_for "$work/restart.out" '/^halfway$/p' >/dev/null || exit 1
kill -KILL "$server"
wait "$server" 2>/dev/null
"$bin_dir/wsm-echo-server" --port="$port" --log >"$work/second-server.log" 2>&1 &
pids+=($!)
wait_for "$work/second-server.log" 's/^listening on //p' >/dev/null || exit 1
wait "$run"
check "server restart: the example ends by itself, all confirmed" 0 $?
check "server restart: every output confirmed, none refused" "$all_confirmed" \
  "$(sed -n '/^confirmed /p' "$work/restart.out")"
check "server restart: nothing reported as lost" "" "$(cat "$work/restart.err")"
# Every machine came back to the new server, and its gate subscribed there
# again, before any output was resent: the subscribe is a text frame of 9
# bytes, the outputs are binary.
check "server restart: every machine connected to the second server" \
  "$machines" "$(grep -c '^CONNECT$' "$work/second-server.log")"
at_least "server restart: the gate subscribed on both servers" $((2 * machines)) \
  "$(subscriptions "$work/restart.out")"
# Outputs the first server read and never answered went again.
at_least "server restart: outputs written again" 1 "$(written_again "$work/restart.out")"
received_again=$(grep -c '^RECV binary' "$work/second-server.log")
[ "$received_again" -lt $((machines * outputs)) ] && passed=$((passed + 1)) || {
  failed=$((failed + 1)); echo "FAIL server restart: the second server read $received_again outputs: not killed halfway"; }

# -- a pool over two wsm-node processes, one SIGKILLed halfway ----------------------
"$bin_dir/wsm-echo-server" --port=0 --echo-delay=4ms >"$work/pool-server.log" 2>&1 &
pids+=($!)
url=$(wait_for "$work/pool-server.log" 's/^listening on //p') || exit 1
"$bin_dir/wsm-node" --port=0 >"$work/first-node.log" 2>&1 &
pids+=($!)
"$bin_dir/wsm-node" --port=0 >"$work/second-node.log" 2>&1 &
second_node=$!
pids+=("$second_node")
first=$(wait_for "$work/first-node.log" 's/^listening on //p') || exit 1
second=$(wait_for "$work/second-node.log" 's/^listening on //p') || exit 1
run_confirmed pool "$url" --node="$first" --node="$second"
wait_for "$work/pool.out" '/^halfway$/p' >/dev/null || exit 1
kill -KILL "$second_node"
wait "$second_node" 2>/dev/null
wait "$run"
check "pool: the example ends by itself, all confirmed" 0 $?
check "pool: every output confirmed, none refused" "$all_confirmed" \
  "$(sed -n '/^confirmed /p' "$work/pool.out")"
check "pool: nothing reported as lost" "" "$(cat "$work/pool.err")"
# The machines of the killed node were placed again, and subscribed again.
at_least "pool: the gate subscribed again on the node left" $((machines + 1)) \
  "$(subscriptions "$work/pool.out")"
at_least "pool: outputs sent again" 1 "$(written_again "$work/pool.out")"

for name in restart pool; do
  echo "$name:"
  sed 's/^/    /' "$work/$name.out"
done
report confirmed_delivery
