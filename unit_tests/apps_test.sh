#!/usr/bin/env bash
# wsm-cat and wsm-echo-server as processes on 127.0.0.1: the exact lines a
# user sees on stdout and stderr, the exit statuses, and what the server saw
# (its --log). Every run is bounded by timeout.
set -uo pipefail
bin_dir=$1
work=$(mktemp -d)
servers=()
# Each server must end on SIGTERM within 5 s; one that does not is killed
# and fails the run (a wait without a bound would hang it instead).
cleanup() {
  local status=$? stuck=0
  for pid in "${servers[@]}"; do
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "FAIL server $pid did not end within 5 s of SIGTERM"
      kill -9 "$pid" 2>/dev/null
      stuck=1
    fi
    wait "$pid" 2>/dev/null
  done
  rm -rf "$work"
  [ "$stuck" -eq 0 ] || exit 1
  exit "$status"
}
trap cleanup EXIT

passed=0
failed=0
check() { # NAME EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $1"
    diff <(echo "$2") <(echo "$3") | sed 's/^/    /'
  fi
}
contains() { # NAME NEEDLE HAYSTACK
  if grep -qF -- "$2" <<<"$3"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: no '$2' in:"; sed 's/^/    /' <<<"$3"; fi
}

# server NAME ARGS... starts a server logging to $work/NAME.log; sets URL.
server() {
  local name=$1; shift
  : >"$work/$name.log"
  "$bin_dir/wsm-echo-server" --port=0 --log "$@" >"$work/$name.log" 2>&1 &
  servers+=($!)
  for _ in $(seq 50); do
    URL=$(sed -n 's/^listening on //p' "$work/$name.log")
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "server $name did not start"; cat "$work/$name.log"; exit 1
}

# cat_run NAME STDIN ARGS... runs wsm-cat; sets OUT, ERR, STATUS.
cat_run() {
  local name=$1 input=$2; shift 2
  printf '%b' "$input" | timeout 10 "$bin_dir/wsm-cat" "$@" \
    >"$work/$name.out" 2>"$work/$name.err"
  STATUS=$?
  OUT=$(cat "$work/$name.out")
  ERR=$(cat "$work/$name.err")
}

states=$'STATE CONNECTING\nSTATE CONNECTED\nSTATE DISCONNECTED'

# -- wsm-cat: lines out, echoes in, states on stderr ---------------------------
server plain
cat_run echo 'one\ntwo\n' "$URL"
check "echo: status" 0 "$STATUS"
check "echo: stdout" $'one\ntwo' "$OUT"
check "echo: stderr" "$states" "$ERR"
log=$(cat "$work/plain.log")
contains "echo: binary frames by default" "RECV binary 3" "$log"
contains "echo: closed with 1000" "CLOSE 1000" "$log"
contains "echo: user agent" "HEADER User-Agent: wsm/" "$log"

cat_run text 'hi\n' --text --header "X-Token: abc" "$URL"
check "text: stdout" "hi" "$OUT"
log=$(cat "$work/plain.log")
contains "text: text frames" "RECV text 2" "$log"
contains "header: sent" "HEADER X-Token: abc" "$log"

cat_run headers 'h\n' --header "X-One: 1" --header "X-Two: 2" --retry-delay 2s "$URL"
log=$(cat "$work/plain.log")
contains "headers: first of two" "HEADER X-One: 1" "$log"
contains "headers: second of two" "HEADER X-Two: 2" "$log"

pings_before=$(grep -c '^PING' "$work/plain.log")
cat_run keepalive 'k\n' --ping-interval=100ms --linger=450ms "$URL"
pings_after=$(grep -c '^PING' "$work/plain.log")
[ "$pings_after" -gt "$pings_before" ] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL keepalive: no ping after 100ms of silence"; }

cat_run close '/CLOSE\n' --linger=1s --retry-delay=100ms --min-uptime=0s "$URL"
contains "/CLOSE: peer close reported" "STATE DISCONNECTED: closed by peer: 1000" "$ERR"
check "/CLOSE: reconnects then quits" "$(printf '%s\n' 'STATE CONNECTING' 'STATE CONNECTED' 'STATE DISCONNECTED: closed by peer: 1000' 'STATE CONNECTING' 'STATE CONNECTED' 'STATE DISCONNECTED')" "$ERR"

# -- wsm-cat: options from a config file, command line wins ---------------------
cat >"$work/cat.ini" <<'INI'
[wsm]
text=true
headers=["X-From: file"]
[wsm-cat]
linger="100ms"
INI
cat_run config 'cfg\n' --config="$work/cat.ini" "$URL"
check "config: stdout" "cfg" "$OUT"
log=$(cat "$work/plain.log")
contains "config: text from [wsm]" "RECV text 3" "$log"
contains "config: header from [wsm]" "HEADER X-From: file" "$log"
check "shipped profile loads" 0 "$(timeout 10 "$bin_dir/wsm-cat" --config="$(dirname "$0")/../configs/wsm-cat.ini" "$URL" </dev/null 2>/dev/null; echo $?)"

# -- the other shipped profiles load ---------------------------------------------
demo=$(timeout 20 "$bin_dir/wsm-demo" --config="$(dirname "$0")/../configs/wsm-demo.ini" --downtime=100ms)
check "wsm-demo profile: status" 0 $?
contains "wsm-demo profile: 5 machines" "demo: showed 5 machines, 10 echoes, 5 reconnects" "$demo"
timeout 1 "$bin_dir/wsm-echo-server" --config="$(dirname "$0")/../configs/wsm-echo-server.ini" >"$work/profile.log" 2>&1
check "wsm-echo-server profile: runs until stopped" 124 $?
contains "wsm-echo-server profile: listens" "listening on ws://127.0.0.1:" "$(cat "$work/profile.log")"

timeout 2 "$bin_dir/wsm-node" --config="$(dirname "$0")/../configs/wsm-node.ini" >"$work/node-profile.log" 2>&1
check "wsm-node profile: runs until stopped" 124 $?
contains "wsm-node profile: publishes on loopback" "listening on 127.0.0.1:" "$(cat "$work/node-profile.log")"

# -- wsm-cat: bad input is one line on stderr, status 2, no connection ----------
connections_before=$(grep -c CONNECT "$work/plain.log")
bad() { # NAME EXPECTED_LINE ARGS...
  local name=$1 expected=$2; shift 2
  cat_run "$name" '' "$@"
  check "$name: status" 2 "$STATUS"
  check "$name: message" "$expected" "$ERR"
  check "$name: stdout" "" "$OUT"
}
bad "bad url" "wsm-cat: invalid URL 'http://127.0.0.1/': scheme must be ws:// or wss://, not http://" http://127.0.0.1/
bad "no url" "wsm-cat: URL is required"
bad "unknown option" "wsm-cat: The following argument was not expected: --frobnicate" --frobnicate "$URL"
bad "header with CR" "wsm-cat: --header: header 'X-A' has a value with CR, LF or NUL in it" --header $'X-A: 1\r\nX-B: 2' "$URL"
bad "header without colon" "wsm-cat: --header: header 'X-A' has no ':' (write Name: Value)" --header X-A "$URL"
bad "bad duration" "wsm-cat: --ping-interval: '5' is not a duration (write it like 250ms, 5s, 2min)" --ping-interval=5 "$URL"
bad "bad max-queue" "wsm-cat: --max-queue: 0 is not an integer of at least 1" --max-queue=0 "$URL"
bad "bad overflow" "wsm-cat: --overflow: 'drop-all' is not an overflow policy (reject, drop-oldest, drop-newest)" --overflow=drop-all "$URL"
bad "bad backoff factor" "wsm-cat: --backoff-factor: 0.5 is not between 1 and 100" --backoff-factor=0.5 "$URL"
bad "bad pong timeout" "wsm-cat: --pong-timeout: 'soon' is not a duration (write it like 250ms, 5s, 2min)" --pong-timeout=soon "$URL"
printf '[wsm]\nping-intervl=5s\n' >"$work/typo.ini"
bad "config typo" "wsm-cat: $work/typo.ini: unknown key wsm.ping-intervl" --config="$work/typo.ini" "$URL"
printf '[wsm-cat]\nlingr="1s"\n' >"$work/typo2.ini"
bad "config typo in app group" "wsm-cat: $work/typo2.ini: unknown key wsm-cat.lingr" --config="$work/typo2.ini" "$URL"
check "bad input: no connection attempted" "$connections_before" "$(grep -c CONNECT "$work/plain.log")"

help=$(timeout 10 "$bin_dir/wsm-cat" --help); help_status=$?
check "help: status" 0 "$help_status"
for flag in --text --header --ping-interval --retry-delay --max-queue --config \
    --pong-timeout --backoff-initial --backoff-max --backoff-factor --max-retries \
    --max-message-size --handshake-timeout --write-timeout --close-timeout --overflow \
    --subprotocol --deflate --ca-file --ca-path --cert --key --insecure \
    --max-inbox --send-rate --send-burst --tcp-nodelay --confirm-timeout \
    --max-resends; do
  contains "help: $flag" "$flag" "$help"
done
# The echo server's help names the line scripts read its URL from.
contains "echo server help: its first line" "'listening on URL'" \
  "$(timeout 10 "$bin_dir/wsm-echo-server" --help | tr -s ' \n' ' ')"

# -- wsm-cat: bounded lines, a slow reader of stdout ---------------------------
long_line=$(head -c 2000 /dev/zero | tr '\0' x)
cat_run long-line "short\n$long_line\nafter\n" --max-message-size=1000 "$URL"
check "long line: stdout" $'short\nafter' "$OUT"
contains "long line: refused by number and size" "wsm-cat: line 2 is 2000 bytes, longer than max_message_size (1000 bytes): not sent" "$ERR"
check "long line: exit status" 1 "$STATUS"

# A line that never ends (/dev/zero) is skipped without being kept: wsm-cat
# stays the same size while it reads gigabytes of it (it grew by about
# 65 MB a second when it kept the line).
"$bin_dir/wsm-cat" --max-message-size=1000 "$URL" </dev/zero >/dev/null 2>"$work/zero.err" &
zero_pid=$!
sleep 1
zero_early=$(awk '/^VmRSS:/ {print $2}' "/proc/$zero_pid/status")
sleep 2
zero_late=$(awk '/^VmRSS:/ {print $2}' "/proc/$zero_pid/status")
kill "$zero_pid"; wait "$zero_pid" 2>/dev/null
[ -n "$zero_early" ] && [ -n "$zero_late" ] && [ $((zero_late - zero_early)) -lt 8192 ] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL endless line: RSS ${zero_early:-?} kB after 1s, ${zero_late:-?} kB after 3s"; }

# The server pushes 1000 lines of 1000 bytes and pings every 50ms; the reader
# of stdout takes 2ms a line. The cat's inbox fills, the machine stops
# reading, pings and pongs still flow: one link all along, every line in
# order.
server pinging --ping-every=50ms
{ echo "/FEED 1000 1000 text"; sleep 4; } |
  timeout 20 "$bin_dir/wsm-cat" --max-inbox=4 --ping-interval=100ms --pong-timeout=300ms "$URL" 2>"$work/slow.err" |
  python3 -c '
import sys, time
count, in_order = 0, True
for line in sys.stdin:
    in_order = in_order and line.startswith("%010d" % count)
    count += 1
    time.sleep(0.002)
print(count, in_order)' >"$work/slow.out"
check "slow reader: every line, in order" "1000 True" "$(cat "$work/slow.out")"
check "slow reader: one link all along" "$states" "$(cat "$work/slow.err")"
log=$(cat "$work/pinging.log")
contains "slow reader: the client pinged" "PING" "$log"
contains "slow reader: the client answered the server's pings" "PONG" "$log"

# -- wss://, subprotocols, deflate ------------------------------------------------
"$bin_dir/wsm-test-pki" "$work/pki" || { echo "wsm-test-pki failed"; exit 1; }
pki=$work/pki
server tls --cert="$pki/server.pem" --key="$pki/server.key"
contains "wss: the server says wss" "wss://127.0.0.1:" "$URL"
wss_url=$URL
cat_run wss 'secure\n' --ca-file="$pki/ca.pem" "$URL"
check "wss: status" 0 "$STATUS"
check "wss: stdout" "secure" "$OUT"
check "wss: stderr" "$states" "$ERR"
by_name=${URL/127.0.0.1/localhost}
cat_run wss-name 'by name\n' --ca-file="$pki/ca.pem" "$by_name"
check "wss by name: stdout" "by name" "$OUT"

cat_run wss-untrusted 'x\n' --max-retries=1 --retry-delay=50ms "$URL"
untrusted="TLS handshake: certificate verify failed: unable to get local issuer certificate"
check "wss untrusted: status" 1 "$STATUS"
check "wss untrusted: says why, retries, gives up" "$(printf '%s\n' 'STATE CONNECTING' \
  "STATE DISCONNECTED: $untrusted" "STATE WAITING: $untrusted" 'STATE CONNECTING' \
  "wsm-cat: not delivered (gave up: retries exhausted): x" \
  "STATE DISCONNECTED: 2 attempts failed, the last: $untrusted" \
  "wsm-cat: gave up: 2 attempts failed, the last: $untrusted")" "$ERR"

cat_run insecure 'unverified\n' --insecure "$URL"
check "insecure: status" 0 "$STATUS"
check "insecure: stdout" "unverified" "$OUT"
check "insecure: warns first" "wsm-cat: warning: --insecure: server certificates are not verified; anyone on the path can read and change this connection" "$(head -1 "$work/insecure.err")"

server expired --cert="$pki/expired.pem" --key="$pki/expired.key"
cat_run expired 'x\n' --max-retries=0 --retry-delay=5s --close-timeout=300ms --ca-file="$pki/ca.pem" "$URL"
contains "expired: says why" "STATE DISCONNECTED: TLS handshake: certificate verify failed: certificate has expired" "$ERR"

server mutual --cert="$pki/server.pem" --key="$pki/server.key" --client-ca="$pki/ca.pem"
cat_run mutual 'with a certificate\n' --ca-file="$pki/ca.pem" --cert="$pki/client.pem" --key="$pki/client.key" "$URL"
check "client certificate: stdout" "with a certificate" "$OUT"
contains "client certificate: the server saw it" "CLIENT-CERT CN=wsm test client" "$(cat "$work/mutual.log")"

server chat --subprotocol=chat.v1 --deflate
cat_run chat 'hello chat\n' --subprotocol=chat.v2 --subprotocol=chat.v1 --deflate "$URL"
check "subprotocol and deflate: stdout" "hello chat" "$OUT"
log=$(cat "$work/chat.log")
contains "subprotocol: offered in order" "HEADER Sec-WebSocket-Protocol: chat.v2, chat.v1" "$log"
contains "deflate: offered" "HEADER Sec-WebSocket-Extensions: permessage-deflate" "$log"

bad "tls: missing CA file" "wsm-cat: tls ca_file '/nonexistent/ca.pem': No such file or directory" --ca-file=/nonexistent/ca.pem "$wss_url"
bad "tls: cert without key" "wsm-cat: tls cert_file is given without a key_file" --cert="$pki/client.pem" "$wss_url"
bad "bad subprotocol" "wsm-cat: subprotocol 'a b' is not a token (letters, digits and !#\$%&'*+-.^_\`|~)" --subprotocol='a b' "$URL"
bad "bad window" "wsm-cat: --deflate-max-window-bits: 20 is not an integer between 9 and 15" --deflate-max-window-bits=20 "$URL"
bad "reserved header" "wsm-cat: --header: header 'Sec-WebSocket-Protocol' cannot be set: offer subprotocols with the subprotocols option" --header 'Sec-WebSocket-Protocol: x' "$URL"
cat_run secret '' 'ws://alice:hunter2@127.0.0.1:99999/'
check "credentials: never printed" "wsm-cat: invalid URL 'ws://***@127.0.0.1:99999/': port '99999' is not valid" "$ERR"

# -- wsm-echo-server fault switches ----------------------------------------------
server refuse --refuse=503
( sleep 1 ) | timeout 1.5 "$bin_dir/wsm-cat" --retry-delay=5s "$URL" >/dev/null 2>"$work/refuse.err"
check "refuse: statuses" "$(printf '%s\n' 'STATE CONNECTING' 'STATE DISCONNECTED: handshake rejected: HTTP 503 Service Unavailable' 'STATE WAITING: handshake rejected: HTTP 503 Service Unavailable')" "$(cat "$work/refuse.err")"

# A queue of one: each line waits for room, none is lost.
server queue
cat_run queue 'a\nb\nc\n' --max-queue=1 "$URL"
check "max-queue: every line waits for room" $'a\nb\nc' "$OUT"
check "max-queue: none refused" "$states" "$ERR"
# A line the queue could never hold is refused by number; the rest goes on.
cat_run queuebytes 'ab\ntoolong\ncd\n' --max-queue-bytes=4 "$URL"
check "max-queue-bytes: status" 1 "$STATUS"
check "max-queue-bytes: stdout" $'ab\ncd' "$OUT"
contains "max-queue-bytes: the line is named" "wsm-cat: line 2 is 7 bytes, longer than max_queue_bytes (4 bytes): not sent" "$ERR"

server unauthorized --refuse=401
cat_run unauthorized 'never\n' "$URL"
check "401: gives up at once" 1 "$STATUS"
check "401: says why" "$(printf '%s\n' 'STATE CONNECTING' \
  'STATE DISCONNECTED: handshake rejected: HTTP 401 Unauthorized' \
  'wsm-cat: gave up: handshake rejected: HTTP 401 Unauthorized')" "$(grep -v '^wsm-cat: not delivered' <<<"$ERR")"
# The line is given back whether it reached the machine before the refusal
# ("gave up: ...") or after the machine ended ("the machine had ended").
contains "401: the line is given back" "): never" "$(grep '^wsm-cat: not delivered (' <<<"$ERR")"

# Port 1 on loopback: nothing listens there.
cat_run retries 'x\n' --max-retries=1 --retry-delay=50ms "ws://127.0.0.1:1/"
check "max-retries: status" 1 "$STATUS"
contains "max-retries: gives up" "wsm-cat: gave up: 2 attempts failed, the last: connect: Connection refused" "$ERR"

server drop --drop-every=300ms
( printf 'x\n'; sleep 1.2 ) | timeout 10 "$bin_dir/wsm-cat" --retry-delay=100ms "$URL" >/dev/null 2>"$work/drop.err"
drops=$(grep -c '^STATE DISCONNECTED: ' "$work/drop.err")
[ "$drops" -ge 2 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL drop: $drops drops"; cat "$work/drop.err"; }
contains "drop: reconnects" $'STATE CONNECTING\nSTATE CONNECTED' "$(sed -n '/DISCONNECTED: /,$p' "$work/drop.err")"
contains "drop: the server dropped" "DROP" "$(cat "$work/drop.log")"

server slow --echo-delay=400ms
start=$(date +%s%N)
cat_run slow 'late\n' --linger=600ms "$URL"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "echo delay: echoed" "late" "$OUT"
[ "$elapsed_ms" -ge 400 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL echo delay: $elapsed_ms ms"; }

server hung --no-pong
URL_HUNG=$URL
printf '[wsm]\nclose-timeout=500ms\n' >"$work/short-close.ini"
cat_run hung 'lost\n' --linger=300ms --config="$work/short-close.ini" "$URL"
check "no-pong: nothing comes back" "" "$OUT"
check "no-pong: the close timed out" $'STATE CONNECTING\nSTATE CONNECTED\nSTATE DISCONNECTED: close timed out after 500ms' "$ERR"

# -- piped files: read no faster than written, memory bounded --------------------
# rss_below NAME KIB LIMIT_KIB: a peak resident set is the program's own only
# without AddressSanitizer's shadow memory and quarantine of freed blocks:
# the sanitized build runs the same traffic but checks no bound.
rss_below() {
  if ldd "$bin_dir/wsm-cat" | grep -q libasan; then
    echo "$1: peak RSS not checked under AddressSanitizer"
  elif [ "$2" -lt "$3" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: peak RSS $2 KiB, not below $3 KiB"; fi
}
# 100,000 lines of 1000 bytes (100 MB): every one echoed, in order, and the
# peak RSS (GNU time, KiB) stays far below the file.
server piped
line=$(head -c 999 /dev/zero | tr '\0' 'x')
for i in $(seq 100000); do printf '%06d%s\n' "$i" "${line:6}"; done >"$work/big.in"
/usr/bin/time -f '%M' -o "$work/big.rss" timeout 120 "$bin_dir/wsm-cat" "$URL" \
  <"$work/big.in" >"$work/big.out" 2>"$work/big.err"
check "piped file: status" 0 "$?"
check "piped file: every line echoed in order" "$(md5sum <"$work/big.in")" "$(md5sum <"$work/big.out")"
check "piped file: nothing refused" "$states" "$(cat "$work/big.err")"
rss_kib=$(tail -1 "$work/big.rss")
echo "piped file: 100 MB through, peak RSS $((rss_kib / 1024)) MiB"
rss_below "piped file" "$rss_kib" $(( (32 + 16) * 1024 ))

# A server that never reads: 256 MiB of 64 KiB lines wait for room, the
# stuck link is dropped by write_timeout, and memory stays under
# max_queue_bytes (32 MiB by default) + 16 MiB.
fat=$(head -c 65535 /dev/zero | tr '\0' 'y')
yes "$fat" | head -n 4096 >"$work/fat.in"
"$bin_dir/wsm-cat" --write-timeout=1s "$URL_HUNG" <"$work/fat.in" >/dev/null 2>"$work/fat.err" &
cat_pid=$!
servers+=("$cat_pid")
started=$(date +%s%N)
dropped=""
for _ in $(seq 150); do
  dropped=$(grep -m1 '^STATE DISCONNECTED: write timed out' "$work/fat.err")
  [ -n "$dropped" ] && break
  sleep 0.1
done
waited_ms=$(( ($(date +%s%N) - started) / 1000000 ))
check "never read: dropped by write_timeout" "STATE DISCONNECTED: write timed out after 1000ms" "$dropped"
hwm_kib=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$cat_pid/status")
echo "never read: dropped after $waited_ms ms, peak RSS $((hwm_kib / 1024)) MiB"
rss_below "never read" "$hwm_kib" $(( (32 + 16) * 1024 ))
kill "$cat_pid" 2>/dev/null; wait "$cat_pid" 2>/dev/null

bad_server=$(timeout 5 "$bin_dir/wsm-echo-server" --refuse=5000 2>&1); status=$?
check "server: bad option status" 2 "$status"
check "server: bad option message" "wsm-echo-server: --refuse: Value 5000 not in range 100 to 599" "$bad_server"

# -- through real proxies: tinyproxy (HTTP CONNECT) and microsocks (SOCKS5) ------
# free_port: a port nothing listens on now.
# Below the ephemeral range: a port there can be taken at any moment by a
# client socket of a test running beside this one, which no connect sees.
free_port() {
  local port low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  for _ in $(seq 50); do
    port=$(( 10000 + RANDOM % (low - 10000) ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  return 1
}
# proxy NAME PORT COMMAND...: starts a real proxy on PORT, waits until it listens.
proxy() {
  local name=$1 port=$2; shift 2
  "$@" >"$work/$name.log" 2>&1 &
  servers+=($!)
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "proxy $name did not start"; cat "$work/$name.log"; exit 1
}
http_port=$(free_port); auth_port=$(free_port)
printf 'Port %s\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nLogLevel Connect\n' "$http_port" >"$work/tinyproxy.conf"
printf 'Port %s\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nLogLevel Connect\nBasicAuth alice s3cret\n' "$auth_port" >"$work/tinyproxy-auth.conf"
proxy tinyproxy "$http_port" tinyproxy -d -c "$work/tinyproxy.conf"
proxy tinyproxy-auth "$auth_port" tinyproxy -d -c "$work/tinyproxy-auth.conf"
socks_port=$(free_port); socks_auth_port=$(free_port)
proxy microsocks "$socks_port" microsocks -i 127.0.0.1 -p "$socks_port"
proxy microsocks-auth "$socks_auth_port" microsocks -i 127.0.0.1 -p "$socks_auth_port" -u bob -P pw
server behind
for route in "http://127.0.0.1:$http_port" "http://alice:s3cret@127.0.0.1:$auth_port" \
             "socks5://127.0.0.1:$socks_port" "socks5h://127.0.0.1:$socks_port" \
             "socks5://bob:pw@127.0.0.1:$socks_auth_port"; do
  shown=${route/\/\/*@/\/\/***@}
  cat_run proxied 'through\n' --proxy="$route" "${URL/127.0.0.1/localhost}"
  check "proxy $shown ws://: echoed" "through" "$OUT"
  check "proxy $shown ws://: states" "$states" "$ERR"
  cat_run proxied-tls 'secure through\n' --proxy="$route" --ca-file="$pki/ca.pem" "${wss_url/127.0.0.1/localhost}"
  check "proxy $shown wss://: TLS to the server through the tunnel" "secure through" "$OUT"
done
contains "tinyproxy: the tunnels went through it" "CONNECT" "$(cat "$work/tinyproxy.log")"
contains "microsocks: the tunnels went through it" "client" "$(cat "$work/microsocks.log")"
# An https:// proxy: stunnel's TLS in front of tinyproxy.
tls_proxy_port=$(free_port)
printf 'foreground = yes\npid =\n[proxy]\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\ncert = %s\nkey = %s\n' \
  "$tls_proxy_port" "$http_port" "$pki/server.pem" "$pki/server.key" >"$work/stunnel.conf"
proxy stunnel "$tls_proxy_port" stunnel4 "$work/stunnel.conf"
cat_run proxy-https 'through TLS\n' --proxy="https://127.0.0.1:$tls_proxy_port" --ca-file="$pki/ca.pem" "$URL"
check "https proxy ws://: echoed" "through TLS" "$OUT"
check "https proxy ws://: states" "$states" "$ERR"
cat_run proxy-https-untrusted 'x\n' --proxy="https://127.0.0.1:$tls_proxy_port" --max-retries=0 --retry-delay=5s --close-timeout=300ms "$URL"
contains "https proxy: its certificate is checked" "STATE DISCONNECTED: proxy 127.0.0.1:$tls_proxy_port: TLS handshake: certificate verify failed" "$ERR"
cat_run proxy-https-wss '' --proxy="https://127.0.0.1:$tls_proxy_port" --ca-file="$pki/ca.pem" "$wss_url"
check "https proxy wss://: refused at once" 2 "$STATUS"
contains "https proxy wss://: says why" "wss:// through an https:// proxy (TLS inside TLS) is not supported" "$ERR"
cat_run proxy-407 'x\n' --proxy="http://127.0.0.1:$auth_port" "$URL"
check "proxy 407: ends the machine" 1 "$STATUS"
contains "proxy 407: names the proxy" "STATE DISCONNECTED: proxy 127.0.0.1:$auth_port: 407 Proxy Authentication Required" "$ERR"
cat_run proxy-wrong 'x\n' --proxy="http://alice:wrong@127.0.0.1:$auth_port" "$URL"
check "proxy wrong password: ends the machine" 1 "$STATUS"
contains "proxy wrong password: never printed" "STATE DISCONNECTED: proxy 127.0.0.1:$auth_port: 401 Unauthorized" "$ERR"
[[ "$ERR" != *wrong* ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL proxy: a password was printed"; }
cat_run socks-auth 'x\n' --proxy="socks5://bob:nope@127.0.0.1:$socks_auth_port" "$URL"
check "socks5 wrong password: ends the machine" 1 "$STATUS"
contains "socks5 wrong password: says so" "STATE DISCONNECTED: proxy 127.0.0.1:$socks_auth_port: SOCKS5: authentication failed" "$ERR"
dead_port=$(free_port)
cat_run proxy-unreachable 'x\n' --proxy="http://127.0.0.1:$dead_port" --max-retries=1 --retry-delay=50ms "$URL"
check "proxy unreachable: retried, then gives up" "$(printf '%s\n' 'STATE CONNECTING' \
  "STATE DISCONNECTED: proxy 127.0.0.1:$dead_port: connect: Connection refused" \
  "STATE WAITING: proxy 127.0.0.1:$dead_port: connect: Connection refused" 'STATE CONNECTING')" "$(grep '^STATE' "$work/proxy-unreachable.err" | head -4)"
# The environment, in the child's environment only: http_proxy is used,
# no_proxy exempts, --proxy=none ignores it.
before=$(grep -c CONNECT "$work/tinyproxy.log")
printf 'env\n' | http_proxy="http://127.0.0.1:$http_port" timeout 10 "$bin_dir/wsm-cat" "$URL" >"$work/env.out" 2>/dev/null
check "http_proxy: echoed" "env" "$(cat "$work/env.out")"
after_env=$(grep -c CONNECT "$work/tinyproxy.log")
[ "$after_env" -gt "$before" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL http_proxy: not used"; }
printf 'exempt\n' | http_proxy="http://127.0.0.1:$http_port" no_proxy="example.org, 127.0.0.1" timeout 10 "$bin_dir/wsm-cat" "$URL" >"$work/exempt.out" 2>/dev/null
printf 'none\n' | ALL_PROXY="http://127.0.0.1:$dead_port" timeout 10 "$bin_dir/wsm-cat" --proxy=none "$URL" >>"$work/exempt.out" 2>/dev/null
check "no_proxy and --proxy=none: straight to the server" $'exempt\nnone' "$(cat "$work/exempt.out")"
check "no_proxy and --proxy=none: not through the proxy" "$after_env" "$(grep -c CONNECT "$work/tinyproxy.log")"
cat_run proxy-bad '' --proxy="ftp://127.0.0.1:21" "$URL"
check "proxy: a bad value is a usage error" 2 "$STATUS"
check "proxy: says what is wrong" "wsm-cat: --proxy: proxy 'ftp://127.0.0.1:21': the scheme must be http, https, socks5 or socks5h, not 'ftp'" "$ERR"

# -- wsm-cat on real networks: redirects, header files, flapping servers --------
server moved --redirect '/old 301 /echo' --redirect '/loop 307 /loop'
base=${URL%/}
cat_run redirect 'r\n' "${base/ws:\/\//ws://u:pw@}/old"
check "redirect: echoed" "r" "$OUT"
check "redirect: each hop on stderr, credentials hidden" "$(printf '%s\n' 'STATE CONNECTING' "wsm-cat: redirected to $base/echo" 'STATE CONNECTED' 'STATE DISCONNECTED')" "$ERR"
cat_run redirect-loop '' --max-redirects=2 --max-retries=0 --retry-delay=5s "$base/loop" & loop_pid=$!
sleep 1; kill -INT $loop_pid 2>/dev/null; wait $loop_pid 2>/dev/null
loop_err=$(cat "$work/redirect-loop.err")
contains "redirect loop: the cap fails the attempt" "STATE DISCONNECTED: too many redirects (2)" "$loop_err"
contains "redirect loop: then the backoff" "STATE WAITING: too many redirects (2)" "$loop_err"

cat_run close-reason '/CLOSE 4001 token expired\n' --linger=300ms --min-uptime=0s "$URL"
contains "close: code and reason on the DISCONNECTED line" "STATE DISCONNECTED: closed by peer: 4001 token expired" "$ERR"

server rotate --drop-every=300ms
printf '# the token of the first attempt\nX-Token: one\n' >"$work/headers"
# The token rotates once the server has seen the first (bounded wait: a
# slow start, under a sanitizer, must not find the second already there).
( printf 'x\n'
  for _ in $(seq 50); do grep -q 'X-Token: one' "$work/rotate.log" && break; sleep 0.1; done
  printf 'X-Token: two\n' >"$work/headers"; sleep 0.9 ) |
  timeout 10 "$bin_dir/wsm-cat" --header-file="$work/headers" --min-uptime=0s "$URL" >/dev/null 2>"$work/rotate.err"
check "header file: read again before every attempt" "$(printf '%s\n' 'HEADER X-Token: one' 'HEADER X-Token: two')" "$(grep '^HEADER X-Token' "$work/rotate.log" | uniq | head -2)"
cat_run header-missing 'x\n' --header-file="$work/no-such-file" --max-retries=1 --retry-delay=50ms "$URL"
check "header file missing: status" 1 "$STATUS"
check "header file missing: a failed attempt, retried" "$(printf '%s\n' 'STATE CONNECTING' \
  "STATE DISCONNECTED: header file '$work/no-such-file': cannot read it" \
  "STATE WAITING: header file '$work/no-such-file': cannot read it" 'STATE CONNECTING')" "$(grep '^STATE' "$work/header-missing.err" | head -4)"
printf 'X-Good: 1\nno colon here\n' >"$work/bad-headers"
cat_run header-bad 'x\n' --header-file="$work/bad-headers" --max-retries=0 --retry-delay=5s --close-timeout=300ms "$URL"
contains "header file bad line: named by number" "STATE DISCONNECTED: header file '$work/bad-headers', line 2: header 'no colon here' has no ':' (write Name: Value)" "$ERR"

# A server that accepts and drops at once: flap protection spreads the
# attempts by backoff; without it they come as fast as the jitter allows.
server flap --drop-every=10ms
( sleep 1.5 ) | timeout 5 "$bin_dir/wsm-cat" --retry-delay=100ms "$URL" >/dev/null 2>"$work/flap.err"
( sleep 1.5 ) | timeout 5 "$bin_dir/wsm-cat" --retry-delay=100ms --min-uptime=0s "$URL" >/dev/null 2>"$work/storm.err"
flap_attempts=$(grep -c '^STATE CONNECTING' "$work/flap.err")
storm_attempts=$(grep -c '^STATE CONNECTING' "$work/storm.err")
[ "$flap_attempts" -le 6 ] && [ "$storm_attempts" -ge 10 ] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL flap: $flap_attempts attempts with min-uptime, $storm_attempts without"; }
check "flap: every drop waits as a failed attempt" "$(grep -c '^STATE DISCONNECTED: ' "$work/flap.err")" "$(grep -c '^STATE WAITING: ' "$work/flap.err")"

# -- wsm-cat for scripts and websocat users ------------------------------------
server flags
cat_run json 'j\n' --json "$URL"
check "json: stdout" "j" "$OUT"
check "json: one object per status, every field" \
  '{"state":"CONNECTING","error":"","attempt":1,"epoch":0,"retry_delay":0,"http_status":0,"close_code":0,"close_reason":"","subprotocol":"","compressed":false,"url":"","redirects":[]}
{"state":"CONNECTED","error":"","attempt":1,"epoch":1,"retry_delay":0,"http_status":0,"close_code":0,"close_reason":"","subprotocol":"","compressed":false,"url":"'"$URL"'","redirects":[]}
{"state":"DISCONNECTED","error":"","attempt":1,"epoch":1,"retry_delay":0,"http_status":0,"close_code":1000,"close_reason":"","subprotocol":"","compressed":false,"url":"","redirects":[]}' "$ERR"
# jq parses each line: it is JSON, not just text that looks like it.
check "json: jq reads the states" $'CONNECTING\nCONNECTED\nDISCONNECTED' "$(jq -r .state <<<"$ERR")"
cat_run json-refused 'x\n' --json --max-retries=1 --retry-delay=50ms "ws://127.0.0.1:1/"
check "json: a refused connection, status" 1 "$STATUS"
check "json: the error and the retry delay are fields" "DISCONNECTED connect: Connection refused" \
  "$(jq -r 'select(.state == "DISCONNECTED") | .state + " " + .error' <<<"$(grep '^{' <<<"$ERR")" | head -1)"

# Every stderr line is JSON with --json, wsm-cat's own lines included.
cat_run json-all 'ab\ntoolong\ncd\n' --json --max-queue-bytes=4 --metrics-address=127.0.0.1:0 "$URL"
check "json: a refused line fails the run" 1 "$STATUS"
not_json=$(while IFS= read -r l; do jq -e . >/dev/null 2>&1 <<<"$l" || echo "$l"; done <<<"$ERR")
check "json: every stderr line is a JSON object" "" "$not_json"
check "json: the refused line" '[2,7,"line 2 is 7 bytes, longer than max_queue_bytes (4 bytes): not sent"]' \
  "$(jq -c 'select(.event == "line_refused") | [.line, .bytes, .message]' <<<"$ERR")"
contains "json: where the metrics are" '"event":"metrics","metrics":"http://127.0.0.1:' "$ERR"
cat_run json-usage '' --json --max-queue=0 "$URL"
check "json: a usage error, status" 2 "$STATUS"
check "json: a usage error is JSON" "--max-queue: 0 is not an integer of at least 1" "$(jq -r 'select(.event == "error") | .message' <<<"$ERR")"
cat_run json-parse '' --json --no-such-flag "$URL"
check "json: a parse error, status" 2 "$STATUS"
contains "json: a parse error is JSON" "wsm-cat: The following argument was not expected: --no-such-flag" "$(jq -r .message <<<"$ERR")"
cat_run zero 'z\n' --min-uptime=0 --reconnect-jitter=0 "$URL"
check "0 is a duration" 0 "$STATUS"

cat_run short-header 'h\n' -H "X-Short: 1" -H "X-Shorter: 2" --origin "https://app.example" "$URL"
log=$(cat "$work/flags.log")
contains "-H: sent" "HEADER X-Short: 1" "$log"
contains "-H: repeatable" "HEADER X-Shorter: 2" "$log"
contains "--origin: sent" "HEADER Origin: https://app.example" "$log"

# Binary payloads with newlines and every byte value go through a
# line-oriented pipe as base64, both ways, and come back whole.
payload_a=$(printf 'line one\nline two\r\n\x00\xff' | base64 -w0)
payload_b=$(head -c 3000 /dev/urandom | base64 -w0)
cat_run base64 "$payload_a\n$payload_b\n" --base64 "$URL"
check "base64: status" 0 "$STATUS"
check "base64: each echo one base64 line, unchanged" "$payload_a"$'\n'"$payload_b" "$OUT"
contains "base64: sent decoded, as binary" "RECV binary 21" "$(cat "$work/flags.log")"
cat_run base64-bad 'aGk=\nnot base64!\n' --base64 "$URL"
check "base64: a bad line fails the run" 1 "$STATUS"
check "base64: the good line still goes" "aGk=" "$OUT"
contains "base64: the bad line named by number" "wsm-cat: line 2: not base64: 11 characters, not a multiple of 4: not sent" "$ERR"

# -1 exits after the first message, with stdin still open: the echo of
# the first line, not the second's. Its stdin is a FIFO this script holds
# open, so that what is timed is wsm-cat alone (a writer that sleeps would
# be timed too, whenever wsm-cat took longer than its first pause: under
# AddressSanitizer on a loaded machine it did).
mkfifo "$work/one.in"
exec {one_in}<>"$work/one.in"
echo first >&"$one_in"
( sleep 0.3; echo second >&"$one_in" ) &
writer=$!
start=$(date +%s%N)
timeout 10 "$bin_dir/wsm-cat" -1 "$URL" <"$work/one.in" >"$work/one.out" 2>"$work/one.err"
status=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait "$writer"
exec {one_in}>&-
check "-1: status" 0 "$status"
check "-1: only the first message" "first" "$(cat "$work/one.out")"
check "-1: closed after it" "$states" "$(cat "$work/one.err")"
[ "$elapsed_ms" -lt 5000 ] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL -1: took ${elapsed_ms} ms, did not leave stdin behind"; }

# -- wsm-node: TLS between nodes ---------------------------------------------------
node_out=$(timeout 5 "$bin_dir/wsm-node" --tls 2>&1); status=$?
check "node: --tls without files status" 2 "$status"
check "node: --tls without files message" "wsm-node: node TLS: every node needs cert_file and key_file" "$node_out"
node_out=$(timeout 5 "$bin_dir/wsm-node" --cert="$pki/server.pem" 2>&1); status=$?
check "node: files without --tls status" 2 "$status"
check "node: files without --tls message" "wsm-node: --ca-file, --ca-path, --cert and --key need --tls" "$node_out"
node_out=$(timeout 5 "$bin_dir/wsm-node" --tls --ca-file="$pki/ca.pem" --cert="$pki/server.pem" --key="$pki/client.key" 2>&1); status=$?
check "node: mismatched key status" 2 "$status"
contains "node: mismatched key names it" "does not match the certificate in '$pki/server.pem'" "$node_out"
timeout 2 "$bin_dir/wsm-node" --tls --ca-file="$pki/ca.pem" --cert="$pki/server.pem" --key="$pki/server.key" >"$work/node-tls.log" 2>&1
check "node: TLS node runs until stopped" 124 $?
contains "node: TLS node publishes" "listening on 127.0.0.1:" "$(cat "$work/node-tls.log")"

echo "apps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
