#!/usr/bin/env bash
# Installs the build into a fresh prefix, then builds a user's project
# against it twice, through find_package(wsm) and through pkg-config, and
# runs both against the installed echo server; the installed apps report the
# library's version. Then makes the Debian packages (cpack -G DEB), unpacks
# them into a scratch root (dpkg -x) and builds and runs the same project
# against what they hold.
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

# cmake_consumer NAME PREFIX: builds the user's project against the wsm in
# PREFIX with find_package(wsm CONFIG REQUIRED) + wsm::wsm, as the README
# says, checks where CMake found wsm, and runs it against the echo server.
cmake_consumer() {
  local name=$1 where=$2 dir=$work/$1
  cmake -S "$source_dir/unit_tests/consumer" -B "$dir" -G Ninja \
    -DCMAKE_PREFIX_PATH="$where" >"$dir.log" 2>&1 &&
    cmake --build "$dir" >>"$dir.log" 2>&1
  local status=$?
  check "$name builds" 0 $status
  [ $status -eq 0 ] || cat "$dir.log"
  check "$name found wsm in $where" yes \
    "$(grep -q "wsm_DIR:PATH=$where/lib/cmake/wsm" "$dir/CMakeCache.txt" && echo yes || echo no)"
  check "$name runs" "wsm $version
echo hello" "$(timeout 20 "$dir/consumer" "$url" 2>&1)"
}
cmake_consumer cmake-consumer "$prefix"

# pkg-config, for builds without CMake.
flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs wsm)
g++ -std=c++17 "$source_dir/unit_tests/consumer/main.cpp" -o "$work/pc-consumer" $flags \
  >"$work/pc.log" 2>&1
status=$?
check "pkg-config consumer builds" 0 $status
[ $status -eq 0 ] || cat "$work/pc.log"
check "pkg-config consumer runs" "wsm $version
echo hello" "$(timeout 20 "$work/pc-consumer" "$url" 2>&1)"

# -- the Debian packages --------------------------------------------------------
(cd "$build_dir" && cpack -G DEB -B "$work/debs") >"$work/cpack.log" 2>&1
status=$?
check "cpack -G DEB" 0 $status
[ $status -eq 0 ] || cat "$work/cpack.log"
dev_deb=$work/debs/libwsm-dev_${version}_amd64.deb
tools_deb=$work/debs/wsm-tools_${version}_amd64.deb
check "libwsm-dev package" "libwsm-dev $version" "$(dpkg-deb -f "$dev_deb" Package Version | cut -d' ' -f2 | paste -sd' ')"
check "wsm-tools package" "wsm-tools $version" "$(dpkg-deb -f "$tools_deb" Package Version | cut -d' ' -f2 | paste -sd' ')"
check "libwsm-dev depends on what a user's build links" \
  "libcaf-dev (>= 0.17), libboost1.81-dev, libboost-url1.81-dev, libssl-dev" \
  "$(dpkg-deb -f "$dev_deb" Depends)"
tools_depends=$(dpkg-deb -f "$tools_deb" Depends)
for library in libcaf-core0.17 libcaf-io0.17 libcaf-openssl0.17 libboost-url1.81.0 libssl3; do
  check "wsm-tools depends on $library" yes "$(grep -q "$library" <<<"$tools_depends" && echo yes || echo no)"
done
dev_files=$(dpkg-deb -c "$dev_deb")
tools_files=$(dpkg-deb -c "$tools_deb")
for path in ./usr/include/wsm/wsm.hpp ./usr/lib/libwsm.a ./usr/lib/cmake/wsm/wsmConfig.cmake ./usr/lib/pkgconfig/wsm.pc; do
  check "libwsm-dev holds $path" yes "$(grep -q " $path\$" <<<"$dev_files" && echo yes || echo no)"
done
for path in ./usr/bin/wsm-cat ./usr/bin/wsm-node ./usr/share/wsm/configs/wsm.ini; do
  check "wsm-tools holds $path" yes "$(grep -q " $path\$" <<<"$tools_files" && echo yes || echo no)"
done
check "libwsm-dev holds no programs" "" "$(grep ' ./usr/bin/' <<<"$dev_files")"
check "wsm-tools holds no headers" "" "$(grep ' ./usr/include/' <<<"$tools_files")"

root=$work/root
dpkg -x "$dev_deb" "$root" && dpkg -x "$tools_deb" "$root"
check "dpkg -x" 0 $?
check "the packaged wsm-cat --version" "wsm-cat $version" "$("$root/usr/bin/wsm-cat" --version)"
cmake_consumer deb-consumer "$root/usr"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
