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
  # A baseline workload reports both clients; storm and a slow subscriber
  # have wsm alone.
  local clients='"client":"wsm"'
  case "$name" in storm|simulate|slow*) ;; *) clients="$clients \"client\":\"beast\"" ;; esac
  for client in $clients; do
    grep -qF "$client" <<<"$out" || { echo "FAIL $name: no $client"; failed=1; }
  done
  echo "$out" | grep '^{' | sed "s/^/$name: /"
  LAST=$out
}
run throughput throughput --messages=200 --window=16
run pingpong pingpong --round-trips=100
run pingpong-async pingpong --round-trips=100 --async-baseline --scheduler=caf
run scale scale --machines=20
run scale-sources scale --machines=20 --source-addresses=4
run storm storm --machines=20 --down=200ms --connect-rate=1000
run simulate scale --machines=50 --simulate
run feed feed --messages=2000
grep -q '"server_busy":[0-9]' <<<"$LAST" || { echo "FAIL feed: no server_busy"; failed=1; }
run feed-async feed --messages=2000 --async-baseline
run slow feed --messages=300 --size=1024 --slow-subscriber=200us
grep -q '"in_order":1' <<<"$LAST" || { echo "FAIL slow: not every message in order"; failed=1; }
grep -q '"peak_rss_above_idle_kib":[0-9]' <<<"$LAST" || { echo "FAIL slow: no peak RSS"; failed=1; }
run slow-remote feed --messages=300 --size=1024 --slow-subscriber=200us --remote-subscriber
grep -q '"in_order":1' <<<"$LAST" || { echo "FAIL slow-remote: not every message in order"; failed=1; }

# --url: another server, and how busy it was from its pid.
server_log=$(mktemp)
"$1/wsm-echo-server" --port=0 >"$server_log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
  url=$(sed -n 's/^listening on //p' "$server_log"); [ -n "$url" ] && break; sleep 0.1
done
run url throughput --messages=200 --window=16 --url="$url" --server-pid=$server_pid
# A feed the server pushes at a URL (/feed?count=N&size=S): every message
# of the timed part arrives at both clients, of the size asked.
run url-feed feed --messages=2000 --size=100 --url="${url}feed" --server-pid=$server_pid
grep -q '"in_order":0' <<<"$LAST" && { echo "FAIL url-feed: a message of the wrong size"; failed=1; }
grep -q '"client":"wsm".*"msgs_per_s":[0-9]' <<<"$LAST" || { echo "FAIL url-feed: wsm measured nothing"; failed=1; }
grep -q '"server_busy":[0-9]' <<<"$LAST" || { echo "FAIL url: no server_busy"; failed=1; }
kill $server_pid; wait $server_pid 2>/dev/null; rm -f "$server_log"
bad=$(timeout 10 "$bench" storm --machines=2 --url=ws://127.0.0.1:1/ 2>&1); status=$?
[ $status -eq 2 ] || { echo "FAIL storm with --url: status $status"; failed=1; }
[ "$bad" == "wsm-bench: storm starts and stops its own server; drop --url" ] || { echo "FAIL storm with --url: $bad"; failed=1; }
exit $failed
