#!/usr/bin/env bash
# permessage-deflate against real servers nobody here wrote: Debian's
# python3-websockets and node's ws (scripts/setup.sh installs both). wsm's
# default offer is accepted with the 11-bit window it asks of both sides, a
# message goes each way compressed and comes back whole, the offer of a
# 15-bit window (the old default) is accepted as before, and
# no_context_takeover is answered for both sides.
#   deflate_peers_test.sh BIN_DIR
set -uo pipefail
bin_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
failed=0
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

check() { # NAME EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then
    echo "FAIL $1: expected '$2', got '$3'"; failed=1
  else
    echo "ok   $1"
  fi
}

# Starts a server (NAME COMMAND...) and sets URL from its first line.
start() {
  local name=$1; shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  URL=
  for _ in $(seq 100); do
    URL=$(sed -n 's/^listening on //p' "$work/$name.log")
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "FAIL $name: the server did not start"; cat "$work/$name.log"; exit 1
}

# A JSON feed line of about 5 KB: it compresses well, and its echo is checked
# byte for byte.
message=$(for i in $(seq 120); do printf '{"seq":%d,"sym":"BTC-USD","px":%d.5} ' "$i" $((40000 + i % 7)); done)

# Sends the message through wsm-cat with ARGS, checks the echo; the server's
# answer to the offer is then the last ANSWER line of its log.
echo_through() { # NAME LOG ARGS...
  local name=$1 log=$2; shift 2
  local out
  out=$(printf '%s\n' "$message" | timeout 10 "$bin_dir/wsm-cat" -1 "$@" 2>"$work/cat.err")
  check "$name: the echo comes back whole" "$message" "$out"
  ANSWER=$(sed -n 's/^ANSWER //p' "$work/$log.log" | tail -1)
}

# NAME OLD_ANSWER COMMAND...: OLD_ANSWER is what the server answers to the
# offer of 15 bits (each server may choose a smaller window than offered).
run_peer() {
  local name=$1 old_answer=$2; shift 2
  start "$name" "$@"
  echo_through "$name: defaults" "$name" --deflate "$URL"
  check "$name: defaults answered" \
    "permessage-deflate; server_max_window_bits=11; client_max_window_bits=11" "$ANSWER"
  echo_through "$name: the old offer" "$name" --deflate --deflate-max-window-bits=15 "$URL"
  check "$name: the old offer answered" "$old_answer" "$ANSWER"
  echo_through "$name: no context takeover" "$name" --deflate --deflate-no-context-takeover "$URL"
  for parameter in server_no_context_takeover client_no_context_takeover \
      server_max_window_bits=11 client_max_window_bits=11; do
    case "; $ANSWER;" in
      *"; $parameter;"*) echo "ok   $name: no context takeover answered with $parameter" ;;
      *) echo "FAIL $name: no context takeover: '$parameter' not in '$ANSWER'"; failed=1 ;;
    esac
  done
}

# python-websockets asks for 12 bits of both sides whatever is offered;
# node's ws takes what is offered.
run_peer python \
  "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12" \
  /usr/bin/python3 "$here/peers/deflate_echo_python.py"
NODE_PATH=$(npm root -g) run_peer node \
  "permessage-deflate; server_max_window_bits=15; client_max_window_bits=15" \
  node "$here/peers/deflate_echo_node.js"
# What node read from us for the first echo: the message compressed, plus
# the upgrade request and a close; uncompressed it is about 5 KB.
read_bytes=$(sed -n 's/^READ //p' "$work/node.log" | head -1)
if [ -n "$read_bytes" ] && [ "$read_bytes" -lt $((${#message} / 4)) ]; then
  echo "ok   node: our message went compressed ($read_bytes bytes read for ${#message})"
else
  echo "FAIL node: our message did not go compressed ($read_bytes bytes read for ${#message})"
  failed=1
fi
exit $failed
