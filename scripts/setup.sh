#!/usr/bin/env bash
# Installs what wsm needs from Debian 12's packages, and nothing when all of
# it is present. Works as root, and through sudo otherwise.
set -euo pipefail

packages=(
  g++ cmake ninja-build              # toolchain
  libcaf-dev                         # CAF 0.17: actors, test framework
  libboost1.81-dev libboost-url1.81-dev  # Beast, Asio, Boost.URL
  libboost-json1.81-dev              # JSON in examples/feed and wsm-bench
  libssl-dev                         # TLS for wss://
  zlib1g-dev                         # deflate in the hostile-peer tests' server
  libcli11-dev                       # command-line parsing in apps
  libbenchmark-dev                   # micro-benchmarks (wsm-microbench)
  doxygen                            # the API reference, checked for warnings
  clang-14 libclang-rt-14-dev        # libFuzzer targets (scripts/fuzz.sh)
  clang-tidy                         # lint (scripts/lint.sh, .clang-tidy)
  tinyproxy                          # a real HTTP CONNECT proxy in tests
  microsocks                         # a real SOCKS5 proxy in tests
  stunnel4                           # TLS in front of tinyproxy: an https:// proxy in tests
  prometheus                         # promtool and a real Prometheus server in tests
  chromium                           # the status page in a real (headless) browser in tests
  curl jq                            # HTTP and JSON in the process tests
  time                               # GNU time: peak memory in the process tests
  dpkg-dev file                      # cpack -G DEB: dpkg-shlibdeps finds wsm-tools' dependencies
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: every package is present"
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  as_root=(sudo)
fi
echo "setup: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
