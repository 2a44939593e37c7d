# Debian packages: `cpack -G DEB` in the build folder makes
#   libwsm-dev  headers, libwsm.a, the CMake package and wsm.pc (component dev)
#   wsm-tools   wsm-cat, wsm-node, wsm-demo, wsm-echo-server, wsm-bench and
#               the configs (component tools)
# installed under /usr. libwsm-dev depends on the -dev packages a user's
# build needs to link the static library; wsm-tools on the shared
# libraries its programs link, found by dpkg-shlibdeps.
set(CPACK_PACKAGE_NAME wsm)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "wsm")
set(CPACK_PACKAGE_CONTACT "wsm maintainers <wsm@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "WebSocket clients that never give up: one CAF actor per connection")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL dev tools)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libwsm-dev)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "wsm: reconnecting WebSocket client machines as CAF actors (development files)
 Headers, the static library libwsm.a, a CMake package (find_package(wsm))
 and a pkg-config file. Each WebSocket connection is a finite state machine
 in a CAF actor that connects, reconnects with backoff, notices dead peers
 and reports every change of state.")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libcaf-dev (>= 0.17), libboost1.81-dev, libboost-url1.81-dev, libssl-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME wsm-tools)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
    "wsm: reconnecting WebSocket client tools
 wsm-cat (a reconnecting websocat), wsm-node (hosts machines for other
 nodes), wsm-echo-server, wsm-demo and wsm-bench, with their configs.")
set(CPACK_DEBIAN_TOOLS_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)

include(CPack)
