#!/usr/bin/env bash
# The main job: sets up, builds, starts an echo server on 127.0.0.1 and runs
# examples/echo against it, showing every state change and every echo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
source scripts/echo-server.bash
start_echo_server build/bin
echo "echo server: $ECHO_SERVER_URL"
timeout 30 build/bin/wsm-example-echo "$ECHO_SERVER_URL" hello world "from wsm"
