# What the process tests share: counting checks, bounded waits for a line,
# and ending what they started. Source it, then add the pids of background
# processes to `pids`; `report NAME` prints the closing line and sets the
# status.

work=$(mktemp -d)
pids=()
passed=0
failed=0

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

check() { # NAME EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1"; diff <(echo "$2") <(echo "$3") | sed 's/^/    /'; fi
}

contains() { # NAME NEEDLE HAYSTACK
  if grep -qF -- "$2" <<<"$3"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: no '$2' in:"; sed 's/^/    /' <<<"$3"; fi
}

wait_for() { # FILE SED_PATTERN: prints the first match, waiting 10 s at most
  local found
  for _ in $(seq 100); do
    found=$(sed -n "$2" "$1" 2>/dev/null | head -1)
    [ -n "$found" ] && { echo "$found"; return 0; }
    sleep 0.1
  done
  echo "nothing matched $2 in $1:" >&2; cat "$1" >&2; return 1
}

report() { # NAME: the closing line; the status is whether all passed
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
