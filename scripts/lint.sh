#!/usr/bin/env bash
# Runs clang-tidy with the checks listed (and justified) in .clang-tidy over
# the library and the apps, using build/compile_commands.json; any finding
# fails the run. It checks the translation units the build compiles: a unity
# group (the machine's files, the session's) is parsed once, and its files
# are checked as the headers it includes (.clang-tidy's HeaderFilterRegex).
#   scripts/lint.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
[ -f "$build_dir/compile_commands.json" ] || scripts/build.sh "$build_dir"
units=$(python3 - "$build_dir/compile_commands.json" <<'PY'
import json, os, sys
root = os.getcwd()
for entry in sorted({e["file"] for e in json.load(open(sys.argv[1]))}):
    path = os.path.relpath(os.path.join(root, entry), root)
    if path.startswith(("libwsm/src/", "apps/")) or "/libwsm/CMakeFiles/" in path:
        print(path)
PY
)
findings=$(echo "$units" |
  xargs -P "$(nproc)" -n 1 clang-tidy -p "$build_dir" --quiet 2>&1 |
  grep -E "^/.*: (warning|error):" || true)
if [ -n "$findings" ]; then
  echo "$findings"
  echo "clang-tidy: $(echo "$findings" | wc -l) finding(s)"
  exit 1
fi
echo "clang-tidy: no findings"
