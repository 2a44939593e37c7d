#!/usr/bin/env bash
# Metrics as Prometheus reads them, with Prometheus' own tools from Debian's
# package: `promtool check metrics` on what a wsm-cat with traffic serves,
# and a real Prometheus server on loopback scraping a wsm-node that placed
# machines for another process, read back through its HTTP query API.
# Every wait is bounded.
set -uo pipefail
bin_dir=$1
source "$(dirname "$0")/support/process_checks.bash"
# sample TEXT SERIES: the value of one series in a scrape.
sample() { grep -F -- "$2 " <<<"$1" | grep -v '^#' | head -1 | awk '{print $NF}'; }

"$bin_dir/wsm-echo-server" --port=0 >"$work/server.log" 2>&1 &
pids+=($!)
url=$(wait_for "$work/server.log" 's/^listening on //p') || exit 1

# -- what a live wsm-cat serves -------------------------------------------------
# Two lines echoed; the cat stays up while the metrics are read: its stdin
# is a pipe this script holds open.
mkfifo "$work/stdin"
timeout 10 "$bin_dir/wsm-cat" --metrics-address=127.0.0.1:0 --metrics-per-machine \
  "$url" <"$work/stdin" >"$work/cat.out" 2>"$work/cat.err" &
pids+=($!)
exec {hold_stdin}>"$work/stdin"
printf 'one\ntwo\n' >&"$hold_stdin"
endpoint=$(wait_for "$work/cat.err" 's|^wsm-cat: metrics on http://\([^/]*\)/metrics.*|\1|p') || exit 1
for _ in $(seq 50); do
  [ "$(wc -l <"$work/cat.out")" -ge 2 ] && break
  sleep 0.1
done
metrics=$(curl -sS --max-time 5 -D "$work/headers" "http://$endpoint/metrics")
contains "content type is Prometheus' text format" "Content-Type: text/plain; version=0.0.4" "$(cat "$work/headers")"
promtool_out=$(promtool check metrics <<<"$metrics" 2>&1)
check "promtool check metrics finds nothing to say" "0 " "$? $promtool_out"
check "one machine, connected" 1 "$(sample "$metrics" 'wsm_machines{state="CONNECTED"}')"
check "connects" 1 "$(sample "$metrics" wsm_connects_total)"
check "messages sent" 2 "$(sample "$metrics" wsm_sent_messages_total)"
check "messages received" 2 "$(sample "$metrics" wsm_received_messages_total)"
check "bytes received" 6 "$(sample "$metrics" wsm_received_bytes_total)"
contains "per machine: labelled by id and host" 'wsm_machine_received_messages_total{id="' "$metrics"
contains "per machine: host label" 'host="127.0.0.1"} 2' "$metrics"
contains "build info" 'wsm_build_info{version="' "$metrics"
check "no credentials or URLs in labels" "" "$(grep -F "$url" <<<"$metrics")"

# The rest of what the address serves.
check "/machines.json: the machine and its state" "CONNECTED 2" \
  "$(curl -sS --max-time 5 "http://$endpoint/machines.json" | jq -r '.machines[0] | .status.state + " " + (.messages_in | tostring)')"
check "/: the status page" "<title>wsm machines</title>" \
  "$(curl -sS --max-time 5 "http://$endpoint/" | grep -o '<title>.*</title>')"
check "an unknown path: 404 naming it" "404 not found: /nope (try /, /metrics, /machines.json)" \
  "$(curl -sS --max-time 5 -w '%{http_code} ' -o "$work/body" "http://$endpoint/nope"; cat "$work/body")"
check "POST: 405" "405" "$(curl -sS --max-time 5 -X POST -o /dev/null -w '%{http_code}' "http://$endpoint/metrics")"

# Bad addresses are refused by name before anything runs; a port in use
# after the system tried it.
out=$(timeout 5 "$bin_dir/wsm-cat" --metrics-address=localhost:80 "$url" </dev/null 2>&1); status=$?
check "a name, not an address: status" 2 "$status"
check "a name, not an address: said" "wsm-cat: --metrics-address: metrics-address 'localhost:80': 'localhost' is not an IP address (write HOST:PORT, [IPv6]:PORT or a port)" "$out"
out=$(timeout 5 "$bin_dir/wsm-node" --metrics-address="$endpoint" 2>&1); status=$?
check "a port in use: status" 2 "$status"
check "a port in use: said" "wsm-node: metrics-address $endpoint: bind: Address already in use" "$out"

# -- a real Prometheus scraping a wsm-node ----------------------------------------
"$bin_dir/wsm-node" --metrics-address=127.0.0.1:0 >"$work/node.out" 2>"$work/node.err" &
pids+=($!)
node=$(wait_for "$work/node.out" 's/^listening on //p') || exit 1
node_metrics=$(wait_for "$work/node.err" 's|^wsm-node: metrics on http://\([^/]*\)/metrics.*|\1|p') || exit 1
# Another process places three machines on the node; each echoes once and
# quits. The node's counters keep what they did.
timeout 20 "$bin_dir/wsm-example-distributed" "${node%:*}" "${node##*:}" "$url" 3 >"$work/placed.out" 2>&1
check "three machines placed on the node and echoed" "DONE 3 echoes from 3 remote machines" "$(tail -1 "$work/placed.out")"

# The node's status page saw them: each machine it placed connected, in
# its timeline, with the URL it was given.
node_page=$(curl -sS --max-time 5 "http://$node_metrics/machines.json")
check "the node's page shows the machines it placed" 3 \
  "$(jq '[.timeline[] | select(.status.state == "CONNECTED") | .id] | unique | length' <<<"$node_page")"
check "each with its URL" "$url" \
  "$(jq -r '[.timeline[].url] | unique | join(" ")' <<<"$node_page")"

cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: wsm-node
    static_configs:
      - targets: ['$node_metrics']
YAML
# Prometheus cannot say which port it took: try free-looking ones.
prometheus_up=""
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb-$port" \
    --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
  prometheus_pid=$!
  for _ in $(seq 100); do
    if curl -sf --max-time 1 "http://127.0.0.1:$port/-/ready" >/dev/null; then
      prometheus_up=$port; break
    fi
    kill -0 "$prometheus_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$prometheus_up" ] && { pids+=("$prometheus_pid"); break; }
  kill "$prometheus_pid" 2>/dev/null; wait "$prometheus_pid" 2>/dev/null
done
if [ -z "$prometheus_up" ]; then
  echo "FAIL prometheus did not start:"; cat "$work/prometheus.log"; exit 1
fi
query() { # PROMQL: the JSON answer of Prometheus' query API
  curl -sS --max-time 5 -G "http://127.0.0.1:$prometheus_up/api/v1/query" --data-urlencode "query=$1"
}
# Wait (bounded) for the first scrape to be stored.
for _ in $(seq 150); do
  answer=$(query wsm_machines)
  [ "$(jq '.data.result | length' <<<"$answer" 2>/dev/null)" == 4 ] && break
  sleep 0.2
done
check "Prometheus stores wsm_machines, one series per state" \
  $'CONNECTED 0\nCONNECTING 0\nDISCONNECTED 0\nWAITING 0' \
  "$(jq -r '.data.result[] | .metric.state + " " + .value[1]' <<<"$answer" | sort)"
check "the scrape target is healthy" "up" \
  "$(curl -sS --max-time 5 "http://127.0.0.1:$prometheus_up/api/v1/targets" | jq -r '.data.activeTargets[0].health')"
check "Prometheus reads the connects of the three machines" 3 \
  "$(query 'wsm_connects_total' | jq -r '.data.result[0].value[1]')"
check "and their ends" 3 \
  "$(query 'wsm_machines_ended_total' | jq -r '.data.result[0].value[1]')"
check "and the echoes they received" 3 \
  "$(query 'wsm_received_messages_total' | jq -r '.data.result[0].value[1]')"

report "prometheus"
