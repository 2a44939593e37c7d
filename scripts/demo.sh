#!/usr/bin/env bash
# The main job: sets up, builds and runs wsm-demo, which starts an echo
# server inside the process, shows a few machines connecting, echoing,
# reconnecting after a server restart and quitting, and ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Only what the demo needs: the library, the demo and its in-process echo
# server, not every test, example and benchmark.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target wsm-demo
build/bin/wsm-demo
