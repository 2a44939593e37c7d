#!/usr/bin/env bash
# Sets up, checks the walls between libwsm's modules, builds and runs every
# test; then again with AddressSanitizer and
# UndefinedBehaviorSanitizer, where any report, even from a server the tests
# run in the background, fails the run; then a short run of each libFuzzer
# target (WSM_FUZZ_SECONDS each, 20 by default), and the suites that cross
# the Asio <-> actor boundary under ThreadSanitizer. clang-tidy runs after
# the first build. Each stage says how long it took ("stage: ... s"), so
# that what a change costs the run is seen where it goes.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
stage() {
  local started=$SECONDS
  "$@"
  echo "stage: $* took $((SECONDS - started)) s"
}
stage scripts/setup.sh
# The walls between libwsm's modules (docs/architecture.md): no build needed.
stage scripts/check_walls.sh

stage scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
stage ctest --test-dir build --output-on-failure -j "$jobs"
stage scripts/lint.sh build

stage scripts/build.sh build-sanitize -DCMAKE_BUILD_TYPE=Debug -DWSM_SANITIZE=ON
reports=$(mktemp -d)
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:log_path=$reports/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$PWD/unit_tests/ubsan.supp:log_path=$reports/ubsan
stage ctest --test-dir build-sanitize --output-on-failure -j "$jobs"
unset ASAN_OPTIONS UBSAN_OPTIONS
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports:"
  cat "$reports"/*
  exit 1
fi

stage scripts/fuzz.sh "${WSM_FUZZ_SECONDS:-20}"
stage scripts/tsan.sh
