#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each for
# SECONDS (default 20) from its corpus in unit_tests/fuzz/corpus/. New
# inputs go to a scratch directory; a crash leaves its input in build-fuzz/
# and fails the run.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
scripts/build.sh build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DWSM_FUZZ=ON \
  -DWSM_BUILD_TESTS=OFF -DWSM_BUILD_APPS=OFF -DWSM_BUILD_EXAMPLES=OFF
for target in url settings machine session; do
  scratch=$(mktemp -d)
  log=build-fuzz/fuzz_$target.log
  echo "fuzz_$target: $seconds s"
  # A session holds at most a 64 KiB message: an allocation of 64 MiB is
  # one a server dictated.
  limits=()
  [ "$target" = session ] && limits=(-malloc_limit_mb=64)
  if ! build-fuzz/bin/fuzz_$target -max_total_time="$seconds" -timeout=10 \
      "${limits[@]}" -artifact_prefix=build-fuzz/ -print_final_stats=1 \
      "$scratch" "unit_tests/fuzz/corpus/$target" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz_$target found a failure: its input is in build-fuzz/"
    rm -rf "$scratch"
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added" "$log" | tr '\n' ' '
  echo
  rm -rf "$scratch"
done
