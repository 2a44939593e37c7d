#!/usr/bin/env bash
# Sets up, checks the walls between libwsm's modules, builds and runs every
# test; then again with AddressSanitizer and
# UndefinedBehaviorSanitizer, where any report, even from a server the tests
# run in the background, fails the run; then a short run of each libFuzzer
# target (WSM_FUZZ_SECONDS each, 20 by default), and the suites that cross
# the Asio <-> actor boundary under ThreadSanitizer. clang-tidy runs after
# the first build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
# The walls between libwsm's modules (docs/architecture.md): no build needed.
scripts/check_walls.sh

scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ctest --test-dir build --output-on-failure -j "$jobs"
scripts/lint.sh build

scripts/build.sh build-sanitize -DCMAKE_BUILD_TYPE=Debug -DWSM_SANITIZE=ON
reports=$(mktemp -d)
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:log_path=$reports/asan \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$PWD/unit_tests/ubsan.supp:log_path=$reports/ubsan \
  ctest --test-dir build-sanitize --output-on-failure -j "$jobs"
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports:"
  cat "$reports"/*
  exit 1
fi

scripts/fuzz.sh "${WSM_FUZZ_SECONDS:-20}"
scripts/tsan.sh
