#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each for
# SECONDS (default 20), as many at once as there are CPUs, from its corpus
# in unit_tests/fuzz/corpus/. New inputs go to a scratch directory; a crash leaves its input in build-fuzz/
# and fails the run.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
scripts/build.sh build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DWSM_FUZZ=ON \
  -DWSM_BUILD_TESTS=OFF -DWSM_BUILD_APPS=OFF -DWSM_BUILD_EXAMPLES=OFF
# One fuzzer per CPU at a time: each runs its SECONDS, side by side.
run_one() {
  local target=$1 scratch log limits=() status
  scratch=$(mktemp -d)
  log=build-fuzz/fuzz_$target.log
  # A session holds at most a 64 KiB message: an allocation of 64 MiB is
  # one a server dictated.
  [ "$target" = session ] && limits=(-malloc_limit_mb=64)
  build-fuzz/bin/fuzz_$target -max_total_time="$seconds" -timeout=10 \
    "${limits[@]}" -artifact_prefix=build-fuzz/ -print_final_stats=1 \
    "$scratch" "unit_tests/fuzz/corpus/$target" >"$log" 2>&1 \
    && status=0 || status=$?
  rm -rf "$scratch"
  return $status
}
targets=(url settings machine session)
parallel=$(nproc)
failed=()
for ((first = 0; first < ${#targets[@]}; first += parallel)); do
  wave=("${targets[@]:first:parallel}")
  pids=()
  for target in "${wave[@]}"; do
    echo "fuzz_$target: $seconds s"
    run_one "$target" &
    pids+=($!)
  done
  for i in "${!wave[@]}"; do
    wait "${pids[$i]}" || failed+=("${wave[$i]}")
  done
done
for target in "${targets[@]}"; do
  echo "fuzz_$target: $(grep -E "stat::number_of_executed_units|stat::new_units_added" \
    "build-fuzz/fuzz_$target.log" | tr '\n' ' ')"
done
for target in "${failed[@]}"; do
  tail -40 "build-fuzz/fuzz_$target.log"
  echo "fuzz_$target found a failure: its input is in build-fuzz/"
done
[ ${#failed[@]} -eq 0 ]
