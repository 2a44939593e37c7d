#!/usr/bin/env bash
# Installs the build into a fresh prefix, then builds a user's project
# against it twice, through find_package(wsm) and through pkg-config, and
# runs both against the installed echo server; the installed apps report the
# library's version.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { # NAME EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: expected [$2], got [$3]"; fi
}

prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" 2>&1
check "install" 0 $?
for path in include/wsm/wsm.hpp include/wsm/version.hpp include/wsm/pool.hpp \
            lib/libwsm.a lib/cmake/wsm/wsmConfig.cmake lib/cmake/wsm/FindCAF.cmake \
            lib/pkgconfig/wsm.pc bin/wsm-cat bin/wsm-node share/wsm/configs/wsm.ini; do
  check "installed $path" yes "$([ -e "$prefix/$path" ] && echo yes || echo no)"
done

version=$(sed -n 's/^project(wsm VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
check "wsm-cat --version" "wsm-cat $version" "$("$prefix/bin/wsm-cat" --version)"
check "wsm-node --version" "wsm-node $version" "$("$prefix/bin/wsm-node" --version)"
check "pkg-config version" "$version" "$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --modversion wsm)"

source "$source_dir/scripts/echo-server.bash"
start_echo_server "$prefix/bin" || exit 1
trap 'kill "$ECHO_SERVER_PID" 2>/dev/null; rm -rf "$work"' EXIT
url=$ECHO_SERVER_URL

# find_package(wsm CONFIG REQUIRED) + wsm::wsm, as the README says.
cmake -S "$source_dir/unit_tests/consumer" -B "$work/cmake-consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" >"$work/consumer.log" 2>&1 &&
  cmake --build "$work/cmake-consumer" >>"$work/consumer.log" 2>&1
status=$?
check "CMake consumer builds" 0 $status
[ $status -eq 0 ] || cat "$work/consumer.log"
check "CMake consumer runs" "wsm $version
echo hello" "$(timeout 20 "$work/cmake-consumer/consumer" "$url" 2>&1)"

# pkg-config, for builds without CMake.
flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs wsm)
g++ -std=c++17 "$source_dir/unit_tests/consumer/main.cpp" -o "$work/pc-consumer" $flags \
  >"$work/pc.log" 2>&1
status=$?
check "pkg-config consumer builds" 0 $status
[ $status -eq 0 ] || cat "$work/pc.log"
check "pkg-config consumer runs" "wsm $version
echo hello" "$(timeout 20 "$work/pc-consumer" "$url" 2>&1)"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
