#!/usr/bin/env bash
# The main job: sets up, builds and runs wsm-demo, which starts an echo
# server inside the process, shows a few machines connecting, echoing,
# reconnecting after a server restart and quitting, and ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
build/bin/wsm-demo
