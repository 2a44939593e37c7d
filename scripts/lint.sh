#!/usr/bin/env bash
# Runs clang-tidy with the checks listed (and justified) in .clang-tidy over
# the library and the apps, using build/compile_commands.json; any finding
# fails the run.
#   scripts/lint.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
[ -f "$build_dir/compile_commands.json" ] || scripts/build.sh "$build_dir"
findings=$(ls libwsm/src/*/*.cpp apps/*/*.cpp |
  xargs -P "$(nproc)" -n 1 clang-tidy -p "$build_dir" --quiet 2>&1 |
  grep -E "^/.*: (warning|error):" || true)
if [ -n "$findings" ]; then
  echo "$findings"
  echo "clang-tidy: $(echo "$findings" | wc -l) finding(s)"
  exit 1
fi
echo "clang-tidy: no findings"
