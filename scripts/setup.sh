#!/usr/bin/env bash
# Installs what wsm needs from Debian 12's packages (and node's ws, a real
# peer in tests, from the npm registry), and nothing when all of it is
# present. Works as root, and through sudo otherwise.
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
  python3-websockets                 # a real peer with permessage-deflate in tests
  nodejs                             # node, for ws: another real peer in tests
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

# Debian's nodejs comes without npm; a node that brings its own has it.
command -v npm >/dev/null || missing+=(npm)

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  as_root=(sudo)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: every package is present"
else
  echo "setup: installing ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# node's ws (no Debian package), where node finds global modules.
if ! NODE_PATH=$(npm root -g) node -e 'require("ws")' 2>/dev/null; then
  echo "setup: installing ws from the npm registry"
  "${as_root[@]}" npm install -g --silent --no-fund --no-audit ws@8
fi
