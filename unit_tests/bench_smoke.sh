#!/usr/bin/env bash
# wsm-bench runs every workload at a tiny size and prints its JSON lines
# with the fields other programs read. Not a timed test.
set -uo pipefail
bench="$1/wsm-bench"
failed=0
fields='"workload" "client" "msgs_per_s" "client_cpu_us_per_msg" "p50_us" "p99_us" "rss_kib_per_machine" "all_connected_ms"'
run() { # NAME ARGS...
  local name=$1; shift
  local out
  out=$(timeout 60 "$bench" "$@" --json 2>/dev/null)
  local status=$?
  if [ $status -ne 0 ]; then echo "FAIL $name: status $status"; failed=1; return; fi
  for field in $fields; do
    if ! grep -q "$field" <<<"$out"; then echo "FAIL $name: no $field in"; echo "$out"; failed=1; fi
  done
  # A baseline workload reports both clients; storm has wsm alone.
  local clients='"client":"wsm"'
  [ "$name" != storm ] && [ "$name" != simulate ] && clients="$clients \"client\":\"beast\""
  for client in $clients; do
    grep -qF "$client" <<<"$out" || { echo "FAIL $name: no $client"; failed=1; }
  done
  echo "$out" | grep '^{' | sed "s/^/$name: /"
}
run throughput throughput --messages=200 --window=16
run pingpong pingpong --round-trips=100
run pingpong-async pingpong --round-trips=100 --async-baseline --scheduler=caf
run scale scale --machines=20
run storm storm --machines=20 --down=200ms --connect-rate=1000
run simulate scale --machines=50 --simulate
bad=$(timeout 10 "$bench" storm --machines=2 --url=ws://127.0.0.1:1/ 2>&1); status=$?
[ $status -eq 2 ] || { echo "FAIL storm with --url: status $status"; failed=1; }
[ "$bad" == "wsm-bench: storm starts and stops its own server; drop --url" ] || { echo "FAIL storm with --url: $bad"; failed=1; }
exit $failed
