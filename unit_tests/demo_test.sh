#!/usr/bin/env bash
# wsm-demo, the README's main job: it ends by itself, well inside 15 s, with
# status 0, and every machine shows the whole story in order.
set -uo pipefail
bin_dir=$1
start=$(date +%s)
output=$(timeout 15 "$bin_dir/wsm-demo")
status=$?
elapsed=$(( $(date +%s) - start ))
failed=0
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
[ "$status" -eq 0 ] || fail "status $status"
[ "$elapsed" -lt 15 ] || fail "took $elapsed s"
last=$(tail -n 1 <<<"$output")
[[ "$last" == "demo: showed 3 machines, 6 echoes, 3 reconnects after one server restart, all quit cleanly in "* ]] ||
  fail "summary: $last"
for m in 1 2 3; do
  # The story of one machine, without the retries while the server is down.
  story=$(grep "^\[m$m\] " <<<"$output" | sed "s/^\[m$m\] //" |
    grep -v -e 'connect: Connection refused' -e '^STATE CONNECTING$' |
    sed -e 's/^STATE DISCONNECTED: read: .*/STATE DISCONNECTED: (link dropped)/' \
      -e 's/^STATE WAITING: read: .*/STATE WAITING: (link dropped)/' | uniq)
  # The links were up less than min_uptime: the drop is followed by a
  # backoff, as after a failed attempt.
  expected=$(printf '%s\n' "STATE CONNECTED" "ECHO hello from m$m" \
    "STATE DISCONNECTED: (link dropped)" "STATE WAITING: (link dropped)" \
    "STATE CONNECTED" \
    "ECHO hello again from m$m" "STATE DISCONNECTED")
  [ "$story" == "$expected" ] || { fail "m$m story"; diff <(echo "$expected") <(echo "$story"); }
  first=$(grep -m1 "^\[m$m\] " <<<"$output")
  [ "$first" == "[m$m] STATE CONNECTING" ] || fail "m$m first line: $first"
done
[ "$failed" -eq 0 ] && echo "demo: 1 passed, 0 failed" || { echo "$output"; echo "demo: 0 passed, 1 failed"; }
[ "$failed" -eq 0 ]
