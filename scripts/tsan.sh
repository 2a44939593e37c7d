#!/usr/bin/env bash
# Builds with ThreadSanitizer into build-tsan/ and runs the suites that cross
# the Asio <-> actor boundary: live machines against the echo server, and
# faults through the TCP proxy. Any report fails the run.
# unit_tests/tsan.supp says what is suppressed and why. handshake_test is not
# run here: its reports are payloads built on an Asio thread and read by the
# test after CAF's (uninstrumented) mailbox handed them over, with no CAF
# frame left in either stack to tell them from a real race.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DWSM_TSAN=ON -DWSM_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-tsan --target integration_test fault_test
export TSAN_OPTIONS="halt_on_error=1 abort_on_error=1 report_signal_unsafe=0 suppressions=$PWD/unit_tests/tsan.supp"
# Two thousand machines take about 30 s here, nearly all of it TSan matching
# its reports inside the uninstrumented CAF against the suppressions: a
# larger bound than the suite's default 30 s.
# The slow-subscriber feeds (40,000 messages through a CAF mailbox each)
# would take many minutes of that matching: they run in the other builds.
# "messages of every size" compares, in the test's own code, payloads that
# an I/O thread wrote and CAF's mailbox handed over: the same invisible
# hand-off as handshake_test's (see above).
build-tsan/bin/integration_test -r 120 -T "slow subscriber|max_inbox 0|messages of every size"
# Under TSan's slowdown, filling a socket's buffers takes longer than that
# test's bound: it runs in the other builds.
build-tsan/bin/fault_test -T "a peer that stops reading.*"
